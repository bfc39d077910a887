"""Bring the e2e container stack (registry + private dockerd) up and down from Python.

The work is done by ``scripts/containers.sh``; this module runs it, and reads the ``env.sh`` it
writes, so a pytest session fixture can either start its own stack or reuse one that is already
running (``DOCKERFIX_E2E_ENV=/path/to/env.sh``).
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTAINERS_SH = REPO_ROOT / "scripts" / "containers.sh"
DOCKER_CLI = "/usr/bin/docker"  # the 20.10 CLI: the one with BuildKit built in (no buildx needed)

# What `up` needs on the host. Checked first, so a missing tool gives one precise message.
REQUIRED_TOOLS = ["docker-registry", "dockerd", DOCKER_CLI, "mmdebstrap", "node", "npm", "dumb-init",
                  "tini-static", "curl", "ldd"]


@dataclass
class Stack:
    env: dict[str, str]                 # the variables exported by env.sh
    env_file: Path
    owned: bool                         # True: we started it and must stop it
    workdir: Path | None = None
    up_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def registry(self) -> str:
        return self.env["REGISTRY"]

    @property
    def docker_host(self) -> str:
        return self.env["DOCKER_HOST"]


def missing_tools() -> list[str]:
    missing = [t for t in REQUIRED_TOOLS if not (os.path.exists(t) if t.startswith("/") else shutil.which(t))]
    if not Path("/bin/busybox").exists():
        missing.append("/bin/busybox (busybox-static)")
    if os.geteuid() != 0:
        missing.append("root (dockerd needs it)")
    return missing


def read_env_file(path: Path) -> dict[str, str]:
    """Parse the `export NAME=value` lines that containers.sh writes (no shell needed)."""
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("export ") and "=" in line:
            name, _, value = line[len("export "):].partition("=")
            env[name] = " ".join(shlex.split(value)) if value else ""
    if "DOCKER_HOST" not in env or "REGISTRY" not in env:
        raise RuntimeError(f"{path}: no DOCKER_HOST/REGISTRY exports; not written by containers.sh up?")
    return env


def start(workdir: Path | None = None) -> Stack:
    """Run `containers.sh up` in a fresh directory; raises RuntimeError with the script's output."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="dfx-e2e-"))
    t0 = time.monotonic()
    proc = subprocess.run(["bash", str(CONTAINERS_SH), "up", str(workdir)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"containers.sh up failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    env_file = workdir / "env.sh"
    return Stack(env=read_env_file(env_file), env_file=env_file, owned=True, workdir=workdir,
                 up_seconds=time.monotonic() - t0, extra={"log": proc.stderr})


def attach(env_file: Path) -> Stack:
    """Use a stack somebody else started (it is left running at the end)."""
    return Stack(env=read_env_file(env_file), env_file=Path(env_file), owned=False)


def stop(stack: Stack) -> None:
    if stack.owned and stack.workdir:
        subprocess.run(["bash", str(CONTAINERS_SH), "down", str(stack.workdir)],
                       capture_output=True, text=True, timeout=180)
