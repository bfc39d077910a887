"""Planted throwaway secrets never appear in any output of a CLI run.

Planted: a Basic password (DOCKERFIX_REGISTRY_AUTH) and its base64 form, a second registry's
password sent only to its token server, the bearer token that server issues, an ``NPM_TOKEN`` in
the environment, and an ``ARG NPM_TOKEN=<value>`` default in the user's own Dockerfile.  A
registry that echoes the password and the token in its error bodies is part of the set-up.
Scanned: stdout, stderr and the log records of runs in every mode (--check, --diff, --write;
text and JSON), and the written files (where the Dockerfile's own token may stay only where the
user wrote it)."""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .conftest import STATS
from .netfaults import FakeRegistry, Reply, index_body, OCI_INDEX
from .test_network_cli import FastClient, run_cli  # noqa: F401  (FastClient used via fixture)
from .test_network_cli import env  # noqa: F401  (pytest fixture)

R = os.urandom(5).hex()
BASIC_USER, BASIC_PW = "ci-basic", f"basicpw-{R}"
TOKEN_USER, TOKEN_PW = "ci-bearer", f"bearerpw-{R}"
BEARER_TOKEN = f"bearertoken-{R}"
NPM_ENV_TOKEN = f"npm_envtoken{R}"
NPM_FILE_TOKEN = f"npm_filetoken{R}"


class TokenServer:
    def __init__(self):
        self.seen = []
        srv = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                srv.seen.append(self.headers.get("Authorization"))
                body = json.dumps({"token": BEARER_TOKEN, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def secrets() -> dict[str, str]:
    return {
        "basic password": BASIC_PW,
        "basic header": base64.b64encode(f"{BASIC_USER}:{BASIC_PW}".encode()).decode(),
        "bearer-registry password": TOKEN_PW,
        "token-server basic header": base64.b64encode(f"{TOKEN_USER}:{TOKEN_PW}".encode()).decode(),
        "bearer token": BEARER_TOKEN,
        "NPM_TOKEN from the environment": NPM_ENV_TOKEN,
        "NPM_TOKEN default in the Dockerfile": NPM_FILE_TOKEN,
    }


DOCKERFILE = f"""\
FROM node:22 AS build
ARG NPM_TOKEN={NPM_FILE_TOKEN}
WORKDIR /app
COPY package.json package-lock.json ./
RUN echo "//registry.npmjs.org/:_authToken=${{NPM_TOKEN}}" > .npmrc && npm install && rm .npmrc
COPY . .

FROM node:echo AS echo
FROM node:missing AS missing
FROM ghcr.io/org/app:1 AS tool
FROM ghcr.io/org/app:echo AS toolecho
FROM node:22
WORKDIR /app
COPY --from=build /app /app
CMD npm start
"""


@pytest.fixture
def world(tmp_path, env):  # noqa: F811
    basic = FakeRegistry(require_basic=(BASIC_USER, BASIC_PW))
    bearer = FakeRegistry()
    tokens = TokenServer()
    head = "/v2/library/node/manifests/"
    basic.serve_manifest("library/node", "22", index_body("22"), OCI_INDEX)
    echo_body = json.dumps({"errors": [{"code": "DENIED", "message":
                                        f"user {BASIC_USER} password {BASIC_PW} header Basic "
                                        f"{secrets()['basic header']} refused"}]}).encode()
    basic.add("HEAD", head + "echo", Reply(405))
    basic.add("GET", head + "echo", Reply(403, {"Content-Type": "application/json"}, echo_body))
    challenge = {"WWW-Authenticate": f'Bearer realm="http://127.0.0.1:{tokens.port}/token",service="fake"'}
    body = index_body("tool")
    digest = bearer.serve_manifest("org/app", "1", body, OCI_INDEX)
    ok_head = bearer.routes[("HEAD", "/v2/org/app/manifests/1")][0]
    bearer.add("HEAD", "/v2/org/app/manifests/1", Reply(401, challenge), ok_head)
    token_echo = json.dumps({"errors": [{"code": "DENIED", "message": f"token {BEARER_TOKEN} / {TOKEN_PW} denied"}]}).encode()
    # it echoes what it was sent: first the challenge, then (the token sent) a 403 quoting it
    bearer.add("HEAD", "/v2/org/app/manifests/echo", Reply(401, challenge),
               Reply(403, {"Content-Type": "application/json"}, token_echo))
    env.setenv("DOCKERFIX_REGISTRY_MIRROR", f"docker.io={basic.base_url},ghcr.io={bearer.base_url}")
    env.setenv("DOCKERFIX_REGISTRY_AUTH", f"{basic.host}={BASIC_USER}:{BASIC_PW},{bearer.host}={TOKEN_USER}:{TOKEN_PW}")
    env.setenv("NPM_TOKEN", NPM_ENV_TOKEN)
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text(DOCKERFILE)
    (app / "package.json").write_text(json.dumps({"name": "a", "scripts": {"start": "node server.js"}}))
    (app / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": {}}))
    (app / "server.js").write_text("process.on('SIGTERM', () => process.exit(0))\n")
    yield app, basic, bearer, tokens, digest
    for s in (basic, bearer, tokens):
        s.stop()


def _scan(label: str, text: str, allowed: dict[str, int] | None = None) -> list[str]:
    STATS["secrets: outputs scanned"] += 1
    leaks = []
    for name, value in secrets().items():
        n = text.count(value)
        if n > (allowed or {}).get(value, 0):
            leaks.append(f"{name} in {label} ({n}x)")
    return leaks


MODES = [["--check"], ["--check", "--format", "json"]]


def test_no_secret_in_any_output(world, capsys, caplog, tmp_path):
    app, basic, bearer, tokens, digest = world
    caplog.set_level(logging.DEBUG)
    leaks: list[str] = []
    runs = MODES + [["--write", "--format", "json"]]
    for args in runs:
        for unsafe in ([], ["--unsafe-fixes"]):
            if args[0] == "--write" and not unsafe:
                continue
            code, out, err = run_cli([*args, *unsafe, "--refresh", "app"], capsys)
            label = " ".join(args + unsafe)
            assert code in (0, 1), err
            leaks += _scan(f"stdout of {label}", out)
            leaks += _scan(f"stderr of {label}", err)
            leaks += _scan(f"log records of {label}", caplog.text)
            caplog.clear()
    # the resolver really used the credentials and the token (else nothing was tested)
    assert any(h.get("Authorization") == "Bearer " + BEARER_TOKEN for _, _, h in bearer.log)
    assert any(a and a.startswith("Basic ") for a in tokens.seen)
    assert any(h.get("Authorization", "").startswith("Basic ") for _, _, h in basic.log)
    written = (app / "Dockerfile").read_text()
    assert written != DOCKERFILE and f"ghcr.io/org/app:1@{digest}" in written
    leaks += _scan("the written Dockerfile", written, allowed={NPM_FILE_TOKEN: DOCKERFILE.count(NPM_FILE_TOKEN)})
    for p in app.rglob("*"):
        if p.is_file() and p.name != "Dockerfile":
            leaks += _scan(f"written file {p.name}", p.read_text(errors="replace"))
    cache = tmp_path / "cache"
    for p in cache.rglob("*") if cache.exists() else []:
        if p.is_file():
            leaks += _scan(f"cache file {p.name}", p.read_text(errors="replace"))
    assert not leaks, "\n".join(leaks)


# diffs mask the values of secret-named ARG/ENV keys (fixer/secrets.py); --write applies the real change
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_diff_does_not_echo_the_dockerfiles_own_token(world, capsys, fmt):
    code, out, err = run_cli(["--diff", "--format", fmt, "--refresh", "app"], capsys)
    assert code == 1, err
    assert secrets()["basic password"] not in out + err and BEARER_TOKEN not in out + err
    assert NPM_FILE_TOKEN not in out
