"""Drive the private dockerd: build, run, inspect and remove images and containers.

What a running image is measured for (uid, PID 1, stop time, NODE_ENV, secrets...) is
``dockerfix verify``'s code (:mod:`dockerfix.fixer.verify_engine`), not this module's.

Every call goes through :func:`docker`, which runs ``/usr/bin/docker`` (20.10, BuildKit built in)
with ``DOCKER_HOST`` pointing at the test daemon. The daemon has no bridge network, so builds and
containers use ``--network host``; each container gets its own port through ``-e PORT=...``.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from .stack import DOCKER_CLI, Stack


class DockerError(RuntimeError):
    pass


class Engine:
    def __init__(self, stack: Stack):
        self.stack = stack
        # environment of every docker CLI call
        self.environ = {**os.environ, **stack.env, "DOCKER_BUILDKIT": "1"}
        self.environ.pop("DOCKER_CONTEXT", None)  # a user's context would override DOCKER_HOST
        self.environ["DOCKER_CONFIG"] = str(Path(stack.env_file).parent / "docker-config")  # no user creds

    # -- the runner ---------------------------------------------------------------------------
    def docker(self, *args: str, check: bool = True, timeout: float = 600, input: str | None = None
               ) -> subprocess.CompletedProcess:
        proc = subprocess.run([DOCKER_CLI, *args], env=self.environ, capture_output=True, text=True,
                              timeout=timeout, input=input)
        if check and proc.returncode != 0:
            raise DockerError(f"docker {' '.join(args)} -> exit {proc.returncode}\n"
                              f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-6000:]}")
        return proc

    # -- images -------------------------------------------------------------------------------
    def build(self, context_dir: Path, tag: str, dockerfile: Path | None = None,
              secrets: dict[str, Path] | None = None, build_args: dict[str, str] | None = None,
              timeout: float = 600) -> subprocess.CompletedProcess:
        """BuildKit build; ``secrets`` maps a secret id to a file (``--secret id=..,src=..``)."""
        args = ["build", "--network", "host", "--progress", "plain", "-t", tag]
        if dockerfile:
            args += ["-f", str(dockerfile)]
        for sid, src in (secrets or {}).items():
            args += ["--secret", f"id={sid},src={src}"]
        for k, v in (build_args or {}).items():
            args += ["--build-arg", f"{k}={v}"]
        return self.docker(*args, str(context_dir), timeout=timeout)

    def image_config(self, tag: str) -> dict:
        return json.loads(self.docker("image", "inspect", "-f", "{{json .Config}}", tag).stdout)

    def find_in_image(self, tag: str, needle: str) -> list[str]:
        """Where `needle` occurs in the image: its history, its config and every file of every layer
        (including files deleted by a later layer), e.g. ["history", "layer 4: /app/.npmrc"]. The
        scan is ``dockerfix verify``'s (:func:`dockerfix.fixer.verify_engine.scan_archive`)."""
        from dockerfix.fixer.verify_engine import scan_archive

        found: dict[str, list[str]] = {}
        with tempfile.TemporaryDirectory(prefix="dfx-save-") as tmp:
            archive = Path(tmp) / "image.tar"
            self.docker("save", "-o", str(archive), tag)
            scan_archive(archive, {"needle": needle.encode()}, found)
        return found.get("needle", [])

    def rmi(self, *tags: str) -> None:
        self.docker("rmi", "-f", *tags, check=False)

    # -- containers ---------------------------------------------------------------------------
    def run_detached(self, tag: str, port: int | None = None, env: dict[str, str] | None = None,
                     name: str | None = None, own_port: int | None = None, init: bool = False) -> Container:
        """Start `tag` detached. Normally on the host network with ``-e PORT=<free port>``; with
        `own_port` (an app that binds a fixed port such as 80) in its own network namespace with the
        kernel's default unprivileged-port floor (1024, as on a host network or in Kubernetes), PORT
        left to the image, and HTTP probed from inside the container (:meth:`http_get_inside`)."""
        name = name or f"dfx-{uuid.uuid4().hex[:10]}"
        if own_port:
            args = ["run", "-d", "--network", "none", "--sysctl", "net.ipv4.ip_unprivileged_port_start=1024",
                    "--name", name]
            port = own_port
        else:
            port = port or free_port()
            args = ["run", "-d", "--network", "host", "--name", name, "-e", f"PORT={port}"]
        for k, v in (env or {}).items():
            args += ["-e", f"{k}={v}"]
        if init:  # the engine's own init as PID 1 (`docker run --init`, compose `init: true`)
            args.append("--init")
        self.docker(*args, tag)
        return Container(self, name, port, tag, inside=bool(own_port))

    def http_get_inside(self, container: str, port: int, path: str = "/", timeout: float = 20.0
                        ) -> tuple[int, str]:
        """GET http://127.0.0.1:port/path from inside the container (with its node), retrying."""
        script = (f"require('http').get('http://127.0.0.1:{port}{path}', r => {{ let b = '';"
                  " r.on('data', d => b += d); r.on('end', () => process.stdout.write(r.statusCode + '\\n' + b)); })"
                  ".on('error', e => { process.stdout.write('ERR ' + e.code); process.exit(3); })")
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            proc = self.docker("exec", container, "node", "-e", script, check=False, timeout=30)
            if proc.returncode == 0 and "\n" in proc.stdout:
                status, _, body = proc.stdout.partition("\n")
                return int(status), body
            last = (proc.stdout + proc.stderr).strip()[-300:]
            time.sleep(0.3)
        raise TimeoutError(f"http://127.0.0.1:{port}{path} (inside {container}) did not answer in {timeout}s: {last}")

    def logs(self, container: str) -> str:
        p = self.docker("logs", container, check=False)
        return p.stdout + p.stderr

    def remove(self, container: str) -> None:
        self.docker("rm", "-f", container, check=False)


@dataclass
class Container:
    engine: Engine
    name: str
    port: int
    image: str
    inside: bool = False      # HTTP reachable only from inside (own network namespace)

    def http_get(self, path: str = "/", timeout: float = 20.0) -> tuple[int, str]:
        if self.inside:
            return self.engine.http_get_inside(self.name, self.port, path, timeout)
        return http_get(self.port, path, timeout)

    def __str__(self) -> str:
        return self.name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str = "/", timeout: float = 20.0) -> tuple[int, str]:
    """GET http://127.0.0.1:port/path, retrying until the app listens; (status, body)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")
        except OSError as exc:  # connection refused while the app starts
            last = exc
            time.sleep(0.2)
    raise TimeoutError(f"http://127.0.0.1:{port}{path} did not answer in {timeout}s: {last}")
