"""``dockerfix verify`` against the real dockerd (BuildKit) the suite starts.

Each test runs the real command (``python -m dockerfix verify --format json``) on a copy of a small
app, reads its JSON and checks that every container and image it made is gone afterwards.  The
inputs: tests/e2e/apps/npm-nosignal (read-only, copied) and the crafted apps in tests/verify/apps.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.verify.conftest import E2E_APPS, leftovers

pytestmark = pytest.mark.engine

APPS = Path(__file__).parent / "apps"
STOP = "4"  # --stop-timeout for every run


def copy_app(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("Dockerfile.expected-shape"))
    return dst


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def own_port() -> list[str]:
    """``-e PORT=<free port>``: the test daemon has no bridge, so containers share the host's
    network, where another process may already listen on the apps' default port 3000."""
    return ["-e", f"PORT={free_port()}"]


def assert_clean(verify_env):
    containers, images = leftovers(verify_env)
    assert containers == [] and images == [], f"left behind: containers {containers}, images {images}"


def test_fix_improves_everything(verify, verify_env, tmp_path):
    """npm-nosignal: root, node as PID 1 (SIGKILLed on stop), no NODE_ENV -> all better, exit 0."""
    app = copy_app(E2E_APPS / "npm-nosignal", tmp_path / "app")
    port = free_port()
    r = verify("--unsafe-fixes", "--offline", "--stop-timeout", STOP, "-e", f"PORT={port}",
               "--probe", f"{port}/", str(app))
    assert r.code == 0, r
    f = r.file()
    assert f["status"] == "ok" and f["reasons"] == [], r
    # DFX007 has no package install to join here: it reports `docker run --init` (no hadolint
    # warning added) and verify runs the fixed image that way
    assert {"DFX005", "DFX006"} <= set(f["fixes"]), r
    o, x = f["original"], f["fixed"]
    assert o["built"] and x["built"] and o["ran"] and x["ran"]
    assert o["uid"] == 0 and x["uid"] == 1000 and x["user"] == "node", r
    assert o["pid1_kind"] == "exec" and o["pid1"][0] == "node", r
    assert x["pid1_kind"] == "init" and os.path.basename(x["pid1"][0]) == "docker-init", r
    assert x["app"][:2] == ["node", "server.js"], r
    assert o["pid1_uid"] == 0 and x["pid1_uid"] == 1000 and x["run_init"] and not o["run_init"], r
    assert any(p["cmd"][:2] == ["node", "server.js"] and p["ppid"] == 1 for p in x["processes"]), r
    assert o["node_env"] is None and x["node_env"] == "production" and x["node_env_seen"], r
    assert o["killed"] and o["stop_exit"] == 137 and o["stop_seconds"] >= int(STOP) - 0.3, r
    assert not x["killed"] and x["stop_seconds"] < 2.5 and x["stop_exit"] != 137, r
    assert o["probe_status"] == 200 and x["probe_status"] == 200, r
    for check in ("user", "PID 1", "NODE_ENV", "stop"):
        assert r.row(check)["verdict"] == "better", r
    # the repository is untouched: no fixed Dockerfile, no .dockerignore written into it
    assert (app / "Dockerfile").read_text() == (E2E_APPS / "npm-nosignal" / "Dockerfile").read_text()
    assert not (app / ".dockerignore").exists()
    assert_clean(verify_env)


def podman_leftovers(env: dict[str, str]) -> tuple[list[str], list[str]]:
    def ids(*args):
        p = subprocess.run(["podman", *args, "--filter", "label=dockerfix.verify"], capture_output=True,
                           text=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.split()
    return ids("ps", "-aq"), ids("images", "-q")


def needs_podman(verify_env) -> None:
    if not shutil.which("podman"):
        pytest.skip("podman is not installed (bash scripts/containers.sh install)")
    if "CONTAINERS_STORAGE_CONF" not in verify_env:
        pytest.skip("the stack's env.sh has no CONTAINERS_* settings for podman")


def test_podman_engine(verify, verify_env, tmp_path):
    """The same app with ``--engine podman`` (Buildah builds, runc runs; the stack's CONTAINERS_*
    configuration: storage under the stack, docker.io mirrored to the loopback registry, host
    network): both images build from the seeded node images, PID 1 is podman's init (catatonit)
    under ``--init``, the fixed image stops on SIGTERM, and nothing labelled stays behind.  (The
    test's DOCKER_CONFIG folder has no config.json: podman 4's ``run`` fails on that unless verify
    leaves DOCKER_CONFIG out of podman's environment.)"""
    needs_podman(verify_env)
    app = copy_app(E2E_APPS / "npm-nosignal", tmp_path / "app")
    port = free_port()
    r = verify("--engine", "podman", "--network", "host", "--unsafe-fixes", "--offline", "--stop-timeout", STOP,
               "-e", f"PORT={port}", "--probe", f"{port}/", str(app / "Dockerfile"))
    assert r.code == 0, r
    assert r.doc["engine"].startswith("podman "), r
    f = r.file()
    o, x = f["original"], f["fixed"]
    assert o["built"] and x["built"] and o["ran"] and x["ran"], r
    assert o["uid"] == 0 and x["uid"] == 1000 and x["user"] == "node", r
    assert x["run_init"] and x["pid1_kind"] == "init" and os.path.basename(x["pid1"][0]) == "podman-init", r
    assert x["app"][:2] == ["node", "server.js"] and x["node_env"] == "production", r
    assert o["killed"] and o["stop_exit"] == 137, r
    assert not x["killed"] and x["stop_exit"] != 137, r
    assert o["probe_status"] == 200 and x["probe_status"] == 200, r
    for check in ("user", "PID 1", "NODE_ENV", "stop"):
        assert r.row(check)["verdict"] == "better", r
    containers, images = podman_leftovers(verify_env)
    assert containers == [] and images == [], f"left behind: containers {containers}, images {images}"


def test_podman_secret_scan(verify, verify_env, tmp_path):
    """arg-token with ``--engine podman``: ``podman save --format docker-archive`` of both images,
    the throw-away NPM_TOKEN found in the original's layer and history only."""
    needs_podman(verify_env)
    app = copy_app(APPS / "arg-token", tmp_path / "app")
    r = verify("--engine", "podman", "--unsafe-fixes", "--offline", "--select", "DFX009", "--stop-timeout", STOP,
               str(app))
    assert r.code == 0, r
    places = r.file()["original"]["leaks"].get("build-arg NPM_TOKEN", [])
    assert any(p.startswith("layer ") and p.endswith("/app/.npmrc") for p in places) and "history" in places, r
    assert r.file()["fixed"]["secrets_checked"] and r.file()["fixed"]["leaks"] == {}, r
    containers, images = podman_leftovers(verify_env)
    assert containers == [] and images == [], f"left behind: containers {containers}, images {images}"


def test_fixed_version_that_cannot_build(verify, verify_env, tmp_path):
    """stale-lock: package.json gained a dependency the lockfile lacks. `npm install` copes; the
    fix's `npm ci` refuses -> exit 2, naming the fixed build and quoting npm's error."""
    app = copy_app(APPS / "stale-lock", tmp_path / "app")
    r = verify("--unsafe-fixes", "--offline", "--stop-timeout", STOP, *own_port(), str(app))
    assert r.code == 2, r
    f = r.file()
    assert f["status"] == "error", r
    assert f["original"]["built"] and not f["fixed"]["built"], r
    assert any("the fixed image does not build" in reason for reason in f["reasons"]), r
    assert "npm ci" in f["fixed"]["build_error"] or "in sync" in f["fixed"]["build_error"], r
    assert r.row("builds")["after"] == "no", r
    assert_clean(verify_env)


def test_secret_leak_in_the_original_only(verify, verify_env, tmp_path):
    """arg-token: ARG NPM_TOKEN written into .npmrc in one layer (removed a step later).  No value
    given, so verify makes a throw-away one, passes it as the build-arg (original) and as the
    secret DFX009's mount reads (fixed), and finds it only in the original's layer and history."""
    app = copy_app(APPS / "arg-token", tmp_path / "app")
    r = verify("--unsafe-fixes", "--offline", "--select", "DFX009", "--stop-timeout", STOP, *own_port(), str(app))
    assert r.code == 0, r
    f = r.file()
    assert f["fixes"] == ["DFX009"], r
    leaks = f["original"]["leaks"]
    places = leaks.get("build-arg NPM_TOKEN", [])
    assert any(p.startswith("layer ") and p.endswith("/app/.npmrc") for p in places), r
    assert "history" in places, r
    assert f["fixed"]["secrets_checked"] and f["fixed"]["leaks"] == {}, r
    assert r.row("secret in image")["verdict"] == "better", r
    assert "throw-away values for NPM_TOKEN" in r.stderr, r
    assert_clean(verify_env)


def test_image_that_ignores_sigterm(verify, verify_env, tmp_path):
    """ignores-sigterm: the app traps SIGTERM and does nothing, so even under dumb-init it is
    SIGKILLed.  verify measures that for both images and does not call it an improvement."""
    app = copy_app(APPS / "ignores-sigterm", tmp_path / "app")
    r = verify("--unsafe-fixes", "--offline", "--stop-timeout", STOP, *own_port(), str(app))
    assert r.code == 0, r
    o, x = r.file()["original"], r.file()["fixed"]
    for m in (o, x):
        assert m["killed"] and m["stop_exit"] == 137 and m["stop_seconds"] >= int(STOP) - 0.3, r
    assert x["pid1_kind"] == "init", r
    assert r.row("stop")["verdict"] == "same", r
    assert r.row("user")["verdict"] == "better", r
    assert_clean(verify_env)


def test_interrupted_run_removes_what_it_made(verify_env, tmp_path):
    """SIGINT (Ctrl-C) while a container runs: exit 130, and no labelled container or image stays."""
    app = copy_app(APPS / "ignores-sigterm", tmp_path / "app")
    proc = subprocess.Popen([sys.executable, "-m", "dockerfix", "verify", "--offline", "--unsafe-fixes",
                             "--settle", "60", str(app)], env=verify_env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if "running dockerfix-verify-" in line:
                time.sleep(1.0)
                assert leftovers(verify_env)[0], "the container should exist while it runs"
                proc.send_signal(signal.SIGINT)
                break
        rest = proc.communicate(timeout=180)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, "".join(seen) + rest
    assert "interrupted" in rest
    assert_clean(verify_env)
