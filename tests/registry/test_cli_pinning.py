"""End to end: ``dockerfix --diff/--write`` with a docker.io mirror pointing at a real loopback
registry pins every pinnable base of a multi-stage repo, keeps the short names and variants the
user wrote, and a second run changes nothing (and, with a warm cache, asks the registry nothing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.registry

DOCKERFILE = """\
# build stage
FROM node:22-alpine AS build
WORKDIR /src
COPY . .
RUN npm ci && npm run build

FROM node:legacy AS tools
FROM node:single
COPY --from=build /src/dist /app
COPY --from=node:amd64-only /usr/local/bin/node /usr/local/bin/node
FROM scratch AS empty
"""


def _run(args, cwd, env):
    return subprocess.run([sys.executable, "-m", "dockerfix", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def repo(tmp_path, open_registry):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(DOCKERFILE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER")}
    env.update(DOCKERFIX_REGISTRY_MIRROR=f"docker.io={open_registry.registry.base_url}",
               XDG_CACHE_HOME=str(tmp_path / "cache"), DOCKER_CONFIG=str(tmp_path / "no-docker"))
    return tmp_path, env, open_registry.images


def test_diff_pins_every_base_and_keeps_short_names(repo):
    root, env, images = repo
    r = _run(["--diff", "--select", "DFX002", "app"], root, env)
    assert r.returncode == 1, r.stderr
    d = {tag: images[tag].digest for tag in ("22-alpine", "legacy", "single", "amd64-only")}
    assert f"+FROM node:22-alpine@{d['22-alpine']} AS build" in r.stdout
    assert f"+FROM node:legacy@{d['legacy']} AS tools" in r.stdout  # the manifest list's own digest
    assert f"+FROM node:single@{d['single']}" in r.stdout
    assert f"+COPY --from=node:amd64-only@{d['amd64-only']} " in r.stdout
    assert "docker.io/library" not in r.stdout and "index.docker.io" not in r.stdout
    assert "scratch@" not in r.stdout and "build@" not in r.stdout
    assert "linux/arm64" in r.stderr  # the amd64-only index is reported


def test_write_then_second_run_is_a_no_op_without_the_registry(repo):
    root, env, images = repo
    w = _run(["--write", "--select", "DFX002", "app"], root, env)
    assert w.returncode == 0, w.stderr
    text = (root / "app" / "Dockerfile").read_text()
    assert text.count("@sha256:") == 4
    # second run: everything is pinned, so nothing is looked up at all: with the mirror on a
    # closed port the run still succeeds and changes nothing
    env2 = dict(env, DOCKERFIX_REGISTRY_MIRROR="docker.io=http://127.0.0.1:9")
    c = _run(["--check", "--select", "DFX002", "--format", "json", "app"], root, env2)
    assert c.returncode == 0, c.stdout + c.stderr
    report = json.loads(c.stdout)
    assert report["summary"]["changed"] == 0 and report["summary"]["errors"] == 0


def test_offline_skips_with_a_reason(repo):
    root, env, _ = repo
    r = _run(["--check", "--offline", "--select", "DFX002", "--format", "json", "app"], root, env)
    assert r.returncode == 0
    reasons = [s["reason"] for f in json.loads(r.stdout)["files"] for s in f["skips"]]
    assert any("--offline" in x for x in reasons)
