"""End to end against a real loopback registry: ``--update-pins`` moves a pin whose tag has moved,
with the age of both images in the message; a second run changes nothing (issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import _need_registry
from .seed import Seeder
from .servers import start_registry

pytestmark = pytest.mark.registry


def _run(args, cwd, env):
    return subprocess.run([sys.executable, "-m", "dockerfix", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _index(seeder: Seeder, created: str, salt: str):
    amd = seeder.push_image("library/node", "linux/amd64", salt=salt, created=created)
    arm = seeder.push_image("library/node", "linux/arm64", salt=salt, created=created)
    return seeder.push_index("library/node", "22-alpine", [amd, arm])


@pytest.fixture
def moved(tmp_path):
    """``node:22-alpine`` pushed on 2026-09-01, then pushed again (the tag moves) on 2026-11-20."""
    _need_registry()
    reg = start_registry(tmp_path / "reg")
    seeder = Seeder(reg.base_url)
    try:
        old = _index(seeder, "2026-09-01T06:00:00Z", "old")
        new = _index(seeder, "2026-11-20T06:00:00Z", "new")
    finally:
        seeder.close()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "Dockerfile").write_text(f"FROM node:22-alpine@{old.digest}\nCMD [\"node\", \"a.js\"]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER")}
    env.update(DOCKERFIX_REGISTRY_MIRROR=f"docker.io={reg.base_url}", XDG_CACHE_HOME=str(tmp_path / "cache"),
               DOCKER_CONFIG=str(tmp_path / "no-docker"))
    yield repo, env, old, new
    reg.stop()


def test_update_pins_moves_the_pin_and_says_how_old_both_are(moved):
    repo, env, old, new = moved
    # without the option the pin is left alone
    r = _run(["--check", "--select", "DFX002", "--format", "json", "."], repo, env)
    assert r.returncode == 0, r.stdout + r.stderr
    w = _run(["--write", "--update-pins", "--select", "DFX002", "--format", "json", "."], repo, env)
    assert w.returncode == 0, w.stdout + w.stderr
    assert (repo / "Dockerfile").read_text().startswith(f"FROM node:22-alpine@{new.digest}\n")
    messages = [f["message"] for f in json.loads(w.stdout)["files"][0]["fixes"]]
    (msg,) = [m for m in messages if "refresh the pin" in m]
    assert "pinned image built 2026-09-01" in msg and "new one built 2026-11-20" in msg, msg
    again = _run(["--write", "--update-pins", "--select", "DFX002", "--format", "json", "."], repo, env)
    assert again.returncode == 0 and json.loads(again.stdout)["summary"]["changed"] == 0, again.stdout


def test_config_key_turns_it_on(moved):
    repo, env, _old, new = moved
    (repo / ".dockerfix.toml").write_text("update-pins = true\n")
    w = _run(["--write", "--select", "DFX002", "."], repo, env)
    assert w.returncode == 0, w.stderr
    assert f"@{new.digest}" in (repo / "Dockerfile").read_text()


def test_a_warm_cache_does_not_hide_a_move(tmp_path):
    """The first ``--update-pins`` run caches what the tag points to; the tag then moves within the
    cache's lifetime (24 h): the next run still sees the move (tags are asked again)."""
    _need_registry()
    reg = start_registry(tmp_path / "reg")
    try:
        seeder = Seeder(reg.base_url)
        try:
            old = _index(seeder, "2026-09-01T06:00:00Z", "old")
            repo = tmp_path / "repo"
            repo.mkdir()
            (repo / "Dockerfile").write_text(f"FROM node:22-alpine@{old.digest}\nCMD [\"node\", \"a.js\"]\n")
            env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER")}
            env.update(DOCKERFIX_REGISTRY_MIRROR=f"docker.io={reg.base_url}", XDG_CACHE_HOME=str(tmp_path / "cache"),
                       DOCKER_CONFIG=str(tmp_path / "no-docker"))
            first = _run(["--write", "--update-pins", "--select", "DFX002", "."], repo, env)
            assert first.returncode == 0, first.stderr
            assert "22-alpine" in (tmp_path / "cache" / "dockerfix" / "digests.json").read_text()
            new = _index(seeder, "2026-11-20T06:00:00Z", "new")
        finally:
            seeder.close()
        w = _run(["--write", "--update-pins", "--select", "DFX002", "."], repo, env)
        assert w.returncode == 0, w.stderr
        assert (repo / "Dockerfile").read_text().startswith(f"FROM node:22-alpine@{new.digest}\n")
    finally:
        reg.stop()
