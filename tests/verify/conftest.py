"""Fixtures for ``dockerfix verify`` against the real engine the e2e suite starts.

The stack (loopback registry with the seeded node images + a private dockerd 20.10 with BuildKit)
comes from ``scripts/containers.sh`` through tests/infra/stack.py, exactly as in tests/e2e: one
per session, or the one named by ``DOCKERFIX_E2E_ENV=/path/to/env.sh`` (left running).  Without
the tools the engine tests skip with the reason; under ``DOCKERFIX_REQUIRE_REAL=1`` they fail.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # appended: the repo's dockerfix/ folder must not shadow the package
    sys.path.append(str(REPO_ROOT))

from tests.infra import stack as stack_mod  # noqa: E402

REQUIRE_REAL = os.environ.get("DOCKERFIX_REQUIRE_REAL") == "1"
E2E_APPS = REPO_ROOT / "tests" / "e2e" / "apps"   # read-only inputs
DOCKER_CLI = stack_mod.DOCKER_CLI


def _unavailable(reason: str):
    if REQUIRE_REAL:
        pytest.fail(f"DOCKERFIX_REQUIRE_REAL=1 but the container stack is unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def verify_stack():
    env_file = os.environ.get("DOCKERFIX_E2E_ENV")
    if env_file:
        if not Path(env_file).is_file():
            _unavailable(f"DOCKERFIX_E2E_ENV={env_file} does not exist")
        stack = stack_mod.attach(Path(env_file))
        if not Path(stack.docker_host.removeprefix("unix://")).exists():
            _unavailable(f"{env_file}: dockerd socket {stack.docker_host} is gone")
        yield stack
        return
    missing = stack_mod.missing_tools()
    if missing:
        _unavailable("container tools missing: " + ", ".join(missing)
                     + " (run `bash scripts/containers.sh install`)")
    try:
        stack = stack_mod.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield stack
    finally:
        stack_mod.stop(stack)


@pytest.fixture(scope="session")
def verify_env(verify_stack, tmp_path_factory) -> dict[str, str]:
    """The environment of a user whose DOCKER_HOST is the test daemon."""
    env = {**os.environ, **verify_stack.env}
    env.pop("DOCKER_CONTEXT", None)
    env["DOCKER_CONFIG"] = str(tmp_path_factory.mktemp("docker-config"))  # no user credentials
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("dfx-cache"))
    env["DOCKERFIX_REGISTRY_MIRROR"] = f"docker.io=http://{verify_stack.registry}"
    return env


class VerifyRun:
    def __init__(self, proc: subprocess.CompletedProcess, seconds: float):
        self.code, self.stderr, self.seconds = proc.returncode, proc.stderr, seconds
        try:
            self.doc = json.loads(proc.stdout)
        except ValueError:
            self.doc = None
        self.stdout = proc.stdout

    def file(self, i: int = 0) -> dict:
        assert self.doc is not None, f"no JSON on stdout (exit {self.code})\n{self.stdout}\n{self.stderr}"
        return self.doc["files"][i]

    def row(self, check: str, i: int = 0) -> dict:
        for r in self.file(i)["rows"]:
            if r["check"] == check or r["check"].startswith(check + " "):
                return r
        raise AssertionError(f"no row {check!r} in {self.file(i)['rows']}")

    def __str__(self) -> str:
        return f"exit {self.code} in {self.seconds:.0f}s\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr[-4000:]}"


@pytest.fixture
def verify(verify_env, tmp_path):
    """Run ``python -m dockerfix verify ARGS --format json`` (the real command) as a user would."""
    import time

    def run(*args: str, timeout: float = 900) -> VerifyRun:
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "dockerfix", "verify", "--format", "json", *args],
                              capture_output=True, text=True, env=verify_env, cwd=tmp_path, timeout=timeout)
        result = VerifyRun(proc, time.monotonic() - t0)
        print(result)
        return result

    return run


def leftovers(env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Containers and images still carrying a dockerfix.verify label on the test daemon."""
    def ids(*args):
        p = subprocess.run([DOCKER_CLI, *args, "--filter", "label=dockerfix.verify"], capture_output=True,
                           text=True, env=env, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.split()
    return ids("ps", "-aq"), ids("images", "-q")
