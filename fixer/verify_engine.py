"""``dockerfix verify``: the container engine driver (Docker CLI, or Podman when there is no Docker).

Everything goes through the engine's command line (``docker`` honours ``DOCKER_HOST`` and
``DOCKER_CONTEXT`` as usual; builds run with ``DOCKER_BUILDKIT=1``).  Every image and container it
creates carries the label ``dockerfix.verify=<run id>`` and is removed by :meth:`Engine.cleanup`
(which also looks them up by that label, so a container whose ``run`` was interrupted half-way is
found too).  Nothing is pushed, nothing is pulled explicitly (a build pulls its base images as
usual).

Measuring a running container needs ``cat`` in the image (``/proc/1/cmdline``, ``/proc/1/status``,
``/proc/1/environ``); without it the user and NODE_ENV come from the image configuration and PID 1
from ``top``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Literal, IO, Optional
from collections.abc import Callable

from .verify_compare import INITS, Measurement, pid1_kind

LABEL = "dockerfix.verify"


class EngineError(Exception):
    """No usable engine, or an engine call that must not fail did: exit 2 with this message."""


def _run(argv: list[str], env: dict, timeout: float, input: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, input=input,
                          errors="replace")


def _docker_candidates() -> list[str]:
    """``$DOCKERFIX_DOCKER``, then every ``docker`` on PATH in order."""
    out: list[str] = []
    explicit = os.environ.get("DOCKERFIX_DOCKER")
    if explicit:
        out.append(explicit)
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d or ".", "docker")
        if os.path.isfile(p) and os.access(p, os.X_OK) and os.path.realpath(p) not in map(os.path.realpath, out):
            out.append(p)
    return out


def find_engine(choice: str = "auto") -> Engine:
    """The engine to use: ``docker`` (a CLI that reaches its daemon and can build with BuildKit:
    buildx installed, or a 18.09-22.x CLI with BuildKit built in), else ``podman``."""
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    problems: list[str] = []
    if choice in ("auto", "docker"):
        for cli in _docker_candidates():
            try:
                v = _run([cli, "version", "-f", "{{.Client.Version}} {{.Server.Version}}"], env, 30)
            except (OSError, subprocess.TimeoutExpired) as e:
                problems.append(f"{cli}: {e}")
                continue
            if v.returncode != 0:
                problems.append(f"{cli}: {(v.stderr.strip().splitlines() or ['no daemon'])[-1]}")
                continue
            client, _, server = v.stdout.strip().partition(" ")
            try:
                builtin = int(client.split(".")[0]) < 23  # BuildKit built into the 18.09-22.x CLI
            except ValueError:
                builtin = False
            if not builtin and _run([cli, "buildx", "version"], env, 30).returncode != 0:
                problems.append(f"{cli} {client}: no buildx plugin (BuildKit builds need it)")
                continue
            return Engine("docker", cli, env, version=f"docker {client} (server {server})")
    if choice in ("auto", "podman"):
        podman = shutil.which("podman")
        if podman:
            v = _run([podman, "version", "-f", "{{.Client.Version}}"], env, 30)
            if v.returncode == 0:
                config = env.get("DOCKER_CONFIG")
                if config and not os.path.isfile(os.path.join(config, "config.json")):
                    # podman 4 `run` fails on "stat $DOCKER_CONFIG/config.json" when the folder
                    # has none (Docker does not mind); podman's own auth file still applies
                    env = {k: val for k, val in env.items() if k != "DOCKER_CONFIG"}
                return Engine("podman", podman, env, version=f"podman {v.stdout.strip()}")
            problems.append(f"podman: {(v.stderr.strip().splitlines() or ['not working'])[-1]}")
        else:
            problems.append("podman: not found")
    raise EngineError("no container engine to build with"
                      + (": " + "; ".join(problems) if problems else " (install Docker or Podman)"))


class Engine:
    def __init__(self, kind: str, cli: str, env: dict, version: str = ""):
        self.kind, self.cli, self.env, self.version = kind, cli, dict(env), version
        self.images: list[str] = []
        self.containers: list[str] = []
        self.run_id = ""
        self.init_runs: set[str] = set()
        self._network: Optional[str] = None

    def __str__(self) -> str:
        return self.version or self.kind

    def call(self, *args: str, timeout: float = 120, env: Optional[dict] = None) -> subprocess.CompletedProcess:
        return _run([self.cli, *args], env or self.env, timeout)

    # -- network --------------------------------------------------------------------------------
    def network(self, wanted: Optional[str]) -> Optional[str]:
        """The ``--network`` for builds and runs: the user's, else ``host`` on a Docker daemon
        without its default bridge (``"bridge": "none"``), else the engine's default."""
        if wanted:
            return wanted
        if self._network is None:
            self._network = ""
            if self.kind == "docker" and self.call("network", "inspect", "bridge", timeout=30).returncode != 0:
                self._network = "host"
        return self._network or None

    # -- images ---------------------------------------------------------------------------------
    def build(self, dockerfile: Path, context: Path, tag: str, *, build_args: dict[str, str],
              secrets: list[str], secret_env: dict[str, str], network: Optional[str], timeout: float,
              m: Measurement) -> None:
        args = ["build", "-f", str(dockerfile), "-t", tag, "--label", f"{LABEL}={self.run_id}"]
        if self.kind == "docker":
            args += ["--progress", "plain"]
        if network:
            args += ["--network", network]
        for k, v in build_args.items():
            args += ["--build-arg", f"{k}={v}"]
        for s in secrets:
            args += ["--secret", s]
        self.images.append(tag)
        t0 = time.monotonic()
        try:
            p = self.call(*args, str(context), timeout=timeout, env={**self.env, **secret_env})
        except subprocess.TimeoutExpired as e:
            m.build_error = _tail(_text(e.stderr)) + f"\nbuild timed out after {timeout:.0f}s (--build-timeout)"
            return
        m.build_seconds = time.monotonic() - t0
        if p.returncode != 0:
            m.build_error = _tail(p.stdout + p.stderr)  # podman: steps on stdout, the error on stderr
            return
        m.built = True
        inspect = self.call("image", "inspect", "-f", "{{.Size}}", tag, timeout=60)
        if inspect.returncode == 0 and inspect.stdout.strip().isdigit():
            m.size_bytes = int(inspect.stdout.strip())

    def image_config(self, tag: str) -> dict:
        p = self.call("image", "inspect", "-f", "{{json .Config}}", tag, timeout=60)
        try:
            return json.loads(p.stdout) or {}
        except ValueError:
            return {}

    def find_values(self, tag: str, needles: dict[str, str], timeout: float) -> dict[str, list[str]]:
        """Where each needle (name -> value) occurs in the image: ``history``, ``config`` or
        ``layer <n>: /path`` (every file of every layer, also files a later layer deletes)."""
        found: dict[str, list[str]] = {}
        raw = {name: v.encode() for name, v in needles.items() if v}
        if not raw:
            return found
        with tempfile.TemporaryDirectory(prefix="dockerfix-verify-save-") as tmp:
            archive = Path(tmp) / "image.tar"
            args = ["save", "-o", str(archive)] + (["--format", "docker-archive"] if self.kind == "podman" else []) + [tag]
            p = self.call(*args, timeout=timeout)
            if p.returncode != 0:
                raise EngineError(f"{self.kind} save {tag} failed: {_tail(p.stderr, 3)}")
            scan_archive(archive, raw, found)
        return found

    # -- containers -----------------------------------------------------------------------------
    def start(self, tag: str, name: str, *, env: dict[str, str], network: Optional[str],
              port: Optional[int], init: bool = False) -> Optional[int]:
        """Start the image detached (under the engine's own init with ``init``, as ``docker run
        --init``); the host port the probe should use (None: no probe)."""
        args = ["run", "-d", "--name", name, "--label", f"{LABEL}={self.run_id}"]
        if init:
            args.append("--init")
            self.init_runs.add(name)
        host_port = None
        if network:
            args += ["--network", network]
        if port is not None:
            if network == "host":
                host_port = port
            else:
                args += ["-p", f"127.0.0.1::{port}"]
        for k, v in env.items():
            args += ["-e", f"{k}={v}"]
        self.containers.append(name)
        p = self.call(*args, tag, timeout=120)
        if p.returncode != 0:
            raise EngineError(f"{self.kind} run failed: {_tail(p.stderr, 3)}")
        if port is not None and host_port is None:
            q = self.call("port", name, str(port), timeout=30)
            for line in q.stdout.splitlines():
                if ":" in line:
                    host_port = int(line.rsplit(":", 1)[1])
                    break
        return host_port

    def run_and_measure(self, tag: str, name: str, m: Measurement, *, env: dict[str, str], network: Optional[str],
                        port: Optional[int], path: str = "/", init: bool = False, run_timeout: float = 30.0,
                        settle: float = 2.0, stop_timeout: int = 5, context: Optional[Path] = None,
                        needles: Optional[dict[str, str]] = None, scan_timeout: float = 600.0,
                        note: Callable[[str], None] = lambda s: None) -> None:
        """Run a built image (container ``name``) and fill ``m``: it stays up (``--probe``: until it
        answers HTTP on ``port``/``path``, else ``settle`` seconds), its processes, user and
        NODE_ENV, devDependencies (with ``context``), ``stop -t`` time and exit code, then (the
        container removed) where the ``needles`` (name -> value) occur in the image."""
        if port is not None and network == "host" and port_busy(port):
            m.ran, m.run_error = False, f"port {port} is already in use on this host (--network host)"
            return
        try:
            host_port = self.start(tag, name, env=env, network=network, port=port, init=init)
        except EngineError as e:
            m.ran, m.run_error = False, str(e)
            return
        t0 = time.monotonic()
        if port is not None:
            m.probe = f"{port}{path}"
            if host_port is None:
                m.probe_error = "the engine published no port"
            else:
                m.probe_status, m.probe_error, m.probe_body = http_probe(host_port, path, run_timeout)
        else:
            time.sleep(settle)
        running, code = self.state(name)
        if not running:
            m.ran = False
            logs = self.logs(name)
            m.run_error = (f"exited with code {code} after {time.monotonic() - t0:.1f}s"
                           + (f"; last log lines: {' | '.join(logs.splitlines()[-3:])}" if logs else ""))
            return
        m.ran = True
        self.measure_process(name, tag, m, context=context)
        self.stop(name, stop_timeout, m)
        self.call("rm", "-f", name, timeout=60)
        if needles:
            m.secrets_checked = sorted(needles)
            note(f"scanning {tag} for {len(needles)} secret value(s)")
            m.leaks = self.find_values(tag, needles, timeout=scan_timeout)

    def state(self, name: str) -> tuple[bool, Optional[int]]:
        p = self.call("inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", name, timeout=30)
        running, _, code = p.stdout.strip().partition(" ")
        return running == "true", int(code) if code.strip().lstrip("-").isdigit() else None

    def logs(self, name: str, lines: int = 10) -> str:
        p = self.call("logs", "--tail", str(lines), name, timeout=30)
        return (p.stdout + p.stderr).strip()

    def cat(self, name: str, path: str) -> Optional[str]:
        p = self.call("exec", name, "cat", path, timeout=30)
        return p.stdout if p.returncode == 0 else None

    def measure_process(self, name: str, tag: str, m: Measurement, context: Optional[Path] = None) -> None:
        """Every process (pid, parent, uid, command line), PID 1 and the app process (the first one
        below the init, shells and package managers that start it: ``npm start`` -> ``sh -c`` ->
        ``node server.js``), its uid and user, NODE_ENV as it sees it; with ``context``, which
        devDependencies of the context's package.json are in the app's ``node_modules``."""
        procs = self.processes(name)
        if not procs:  # no sh: PID 1 through cat, else what the engine and the config say
            self._measure_with_cat(name, tag, m)
        else:
            m.processes = [{"pid": p, "ppid": pp, "uid": u, "cmd": c} for p, (pp, u, c) in sorted(procs.items())][:100]
            pid = 1 if 1 in procs else min(procs)
            m.pid1, m.pid1_uid = procs[pid][2], procs[pid][1]
            seen = {pid}
            while pid1_kind(procs[pid][2]) in ("init", "wrapper"):
                children = sorted(p for p, (pp, _u, _c) in procs.items() if pp == pid and p not in seen)
                if not children:
                    break
                pid = children[0]
                seen.add(pid)
            if pid != 1:
                m.app = procs[pid][2]
            m.uid = procs[pid][1]
            self._user_and_env(name, tag, m, str(pid))
        if context is not None:
            self.measure_dev_deps(name, tag, m, context)

    def processes(self, name: str) -> dict[int, tuple[int, Optional[int], list[str]]]:
        """pid -> (parent pid, uid, command line) of every process in the container, read from /proc
        by one ``sh`` (the reader and its children left out); {} when the image has no sh."""
        p = self.call("exec", name, "sh", "-c", _PROCS_SCRIPT, timeout=30)
        if p.returncode != 0 or "@@self " not in p.stdout:
            return {}
        head, _, rest = p.stdout.partition("\n@@dfx ")
        me = int(head.split("@@self ", 1)[1].split()[0])
        out: dict[int, tuple[int, Optional[int], list[str]]] = {}
        for chunk in ("@@dfx " + rest).split("\n@@dfx ")[0:]:
            line, _, cmdline = chunk.removeprefix("@@dfx ").partition("\n")
            words = line.split()
            if not words or not words[0].isdigit():
                continue
            fields = dict(zip(words[1::2], words[2::2]))
            pid, ppid = int(words[0]), int(fields.get("PPid:", "0") or 0)
            if pid == me or ppid == me:
                continue
            uid = fields.get("Uid:")
            out[pid] = (ppid, int(uid) if uid and uid.isdigit() else None,
                        [x for x in cmdline.rstrip("\n").split("\0") if x])
        return out

    def _user_and_env(self, name: str, tag: str, m: Measurement, pid: str) -> None:
        if m.uid is not None:
            for line in (self.cat(name, "/etc/passwd") or "").splitlines():
                parts = line.split(":")
                if len(parts) > 2 and parts[2] == str(m.uid):
                    m.user = parts[0]
                    break
        environ = self.cat(name, f"/proc/{pid}/environ")
        if environ is not None:
            env = dict(x.split("=", 1) for x in environ.split("\0") if "=" in x)
            m.node_env, m.node_env_seen = env.get("NODE_ENV"), True
        else:
            m.node_env = _config_env(self.image_config(tag)).get("NODE_ENV")

    def _measure_with_cat(self, name: str, tag: str, m: Measurement) -> None:
        cmdline = self.cat(name, "/proc/1/cmdline")
        if cmdline is None:  # no cat in the image: what the engine and the config say
            self._measure_without_exec(name, tag, m)
            return
        m.pid1 = [x for x in cmdline.split("\0") if x]
        pid = "1"
        first = os.path.basename(m.pid1[0]) if m.pid1 else ""
        if first in INITS or first in {"sh", "bash", "ash", "dash"}:
            children = (self.cat(name, "/proc/1/task/1/children") or "").split()
            if children:
                pid = children[0]
                m.app = [x for x in (self.cat(name, f"/proc/{pid}/cmdline") or "").split("\0") if x]
        for p in dict.fromkeys(("1", pid)):
            for line in (self.cat(name, f"/proc/{p}/status") or "").splitlines():
                if line.startswith("Uid:"):
                    if p == "1":
                        m.pid1_uid = int(line.split()[1])
                    if p == pid:
                        m.uid = int(line.split()[1])
        self._user_and_env(name, tag, m, pid)

    def measure_dev_deps(self, name: str, tag: str, m: Measurement, context: Path) -> None:
        """Which ``devDependencies`` of ``context/package.json`` (not also in ``dependencies``) are
        in ``node_modules`` of the app's working directory or one of its parents."""
        wanted = dev_dependencies(context / "package.json")
        if not wanted:
            return
        app_pid = next((p["pid"] for p in m.processes if p["cmd"] == m.app), 1) if m.app else 1
        workdir = self.image_config(tag).get("WorkingDir") or "/"
        p = self.call("exec", name, "sh", "-c", _DEV_DEPS_SCRIPT, "sh", str(app_pid), workdir, *wanted, timeout=60)
        if p.returncode != 0:
            return
        m.dev_deps_checked = wanted
        m.dev_deps = [x for x in p.stdout.split() if x in wanted]

    def _measure_without_exec(self, name: str, tag: str, m: Measurement) -> None:
        config = self.image_config(tag)
        m.node_env = _config_env(config).get("NODE_ENV")
        p = self.call("top", name, timeout=30)
        lines = p.stdout.splitlines()
        if p.returncode == 0 and len(lines) > 1:
            header = lines[0].split()
            cols = len(header)
            first = lines[1].split(None, cols - 1)
            row = dict(zip(header, first))
            cmd = row.get("CMD") or row.get("COMMAND") or ""
            m.pid1 = cmd.split()
        user = (config.get("User") or "").split(":")[0]
        if user.isdigit():
            m.uid = int(user)
        elif user in ("", "root"):
            m.uid, m.user = 0, "root"
        else:
            m.user = user
            m.uid = None

    def stop(self, name: str, timeout: int, m: Measurement) -> None:
        m.stop_timeout = timeout
        t0 = time.monotonic()
        self.call("stop", "-t", str(timeout), name, timeout=timeout + 60)
        m.stop_seconds = round(time.monotonic() - t0, 2)
        m.stop_exit = self.state(name)[1]
        m.run_init = name in self.init_runs
        m.logs = self.logs(name, 20) or None

    # -- clean-up -------------------------------------------------------------------------------
    def cleanup(self) -> list[str]:
        """Remove every container and image of this run (by name and by label); the problems."""
        problems = []
        label = f"label={LABEL}={self.run_id}"
        names = set(self.containers)
        p = self.call("ps", "-aq", "--filter", label, timeout=60)
        names |= set(p.stdout.split())
        if names:
            r = self.call("rm", "-f", *sorted(names), timeout=120)
            if r.returncode != 0 and "No such container" not in r.stderr:
                # "removal of container … is already in progress": the engine is removing it; wait
                # for that, and report only what is still there
                left = set(names)
                for _ in range(20):
                    left = {n for n in left if self.call("container", "inspect", "-f", "{{.Id}}", n,
                                                         timeout=30).returncode == 0}
                    if not left:
                        break
                    time.sleep(0.5)
                if left:
                    problems.append(f"could not remove containers {' '.join(sorted(left))}: {_tail(r.stderr, 2)}")
        images = set(self.images)
        p = self.call("images", "-q", "--filter", label, timeout=60)
        images |= set(p.stdout.split())
        present = [i for i in images if self.call("image", "inspect", "-f", "{{.Id}}", i, timeout=30).returncode == 0]
        if present:
            r = self.call("rmi", "-f", *sorted(present), timeout=180)
            if r.returncode != 0:
                problems.append(f"could not remove images {' '.join(sorted(present))}: {_tail(r.stderr, 2)}")
        self.containers.clear()
        self.images.clear()
        return problems


def scan_archive(archive: Path, raw: dict[str, bytes], found: dict[str, list[str]]) -> None:
    """Look for the needles in a ``save`` archive (docker-archive, or the OCI layout Docker 25+
    writes): layers (plain or gzip tars) file by file, numbered as in ``manifest.json`` (1 = the
    base); every other file (the image config with its history, manifests) as a whole."""
    with tarfile.open(archive) as outer:
        members = [m for m in outer.getmembers() if m.isfile()]
        order: dict[str, int] = {}
        manifest = next((m for m in members if m.name == "manifest.json"), None)
        if manifest is not None:
            fh = outer.extractfile(manifest)
            try:
                doc = json.loads(fh.read()) if fh else []
                for i, name in enumerate((doc[0].get("Layers") or []) if doc else [], 1):
                    order[name] = i
            except (ValueError, AttributeError, IndexError, KeyError):
                pass
        for member in members:
            fh = outer.extractfile(member)
            if fh is None:
                continue
            head = fh.read(512)
            mode: Literal["r|gz", "r|"] | None = (
                "r|gz" if head[:2] == b"\x1f\x8b" else "r|" if head[257:262] == b"ustar" else None)
            if mode is None:
                _scan_json(member.name, head + fh.read(), raw, found)
                continue
            where = f"layer {order[member.name]}" if member.name in order else f"layer {member.name}"
            stream = outer.extractfile(member)
            if stream is None:  # not a regular member after all
                continue
            try:
                with tarfile.open(fileobj=stream, mode=mode) as layer:
                    for entry in layer:
                        if entry.isfile():
                            f = layer.extractfile(entry)
                            if f is not None:
                                for name in _scan_stream(f, raw):
                                    found.setdefault(name, []).append(f"{where}: /{entry.name}")
            except (tarfile.TarError, OSError, EOFError):  # not a tar after all: scan it whole
                _scan_json(member.name, outer.extractfile(member).read(), raw, found)  # type: ignore[union-attr]


# pid, PPid, Uid and the NUL-separated command line of every process (``$$`` first, so that the
# reader and the cats it starts can be left out); builtins only but for cat.
_PROCS_SCRIPT = ('echo "@@self $$"; for d in /proc/[0-9]*; do [ -r "$d/status" ] || continue; '
                 'printf \'\\n@@dfx %s \' "${d#/proc/}"; '
                 'while read -r k v rest; do case "$k" in PPid:|Uid:) printf \'%s %s \' "$k" "$v";; esac; '
                 'done < "$d/status"; printf \'\\n\'; cat "$d/cmdline" 2>/dev/null; done')
# $1 the app's pid, $2 the image's WorkingDir, then package names: those found in node_modules of
# the app's working directory or of a parent.
_DEV_DEPS_SCRIPT = ('d=$(readlink "/proc/$1/cwd" 2>/dev/null) || d=$2; [ -n "$d" ] || d=$2; shift 2; '
                    'for p in "$@"; do x=${d%/}; while :; do '
                    'if [ -e "$x/node_modules/$p" ]; then echo "$p"; break; fi; '
                    '[ -z "$x" ] && break; x=${x%/*}; done; done')


_NPM_NAME = re.compile(r"(@[A-Za-z0-9._~-]+/)?[A-Za-z0-9_~-][A-Za-z0-9._~-]*")


def dev_dependencies(package_json: Path) -> list[str]:
    """The ``devDependencies`` of a package.json that are not also ``dependencies`` (sorted)."""
    try:
        doc = json.loads(package_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("devDependencies"), dict):
        return []
    deps = doc.get("dependencies")
    deps = deps if isinstance(deps, dict) else {}
    return sorted(n for n in doc["devDependencies"] if n not in deps and _NPM_NAME.fullmatch(n))


def _config_env(config: dict) -> dict[str, str]:
    return dict(x.split("=", 1) for x in (config.get("Env") or []) if "=" in x)


def _text(b) -> str:
    if b is None:
        return ""
    return b.decode(errors="replace") if isinstance(b, bytes) else b


def _tail(text: str, n: int = 15) -> str:
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    return "\n".join(lines[-n:])


def _scan_json(member: str, data: bytes, raw: dict[str, bytes], found: dict[str, list[str]]) -> None:
    hits = [name for name, v in raw.items() if v in data]
    if not hits:
        return
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    for name in hits:
        if isinstance(doc, dict) and "history" in doc:  # the image configuration
            places = []
            if raw[name] in json.dumps(doc.get("history")).encode():
                places.append("history")
            rest = {k: v for k, v in doc.items() if k != "history"}
            if raw[name] in json.dumps(rest).encode():
                places.append("config")
            found.setdefault(name, []).extend(places or ["config"])
        else:
            found.setdefault(name, []).append(f"file {member}")


def _scan_stream(f: IO[bytes], raw: dict[str, bytes], chunk: int = 1 << 20) -> list[str]:
    """Names of the needles found in the stream (read in chunks, overlapping by the longest needle)."""
    keep = max(len(v) for v in raw.values()) - 1
    tail = b""
    hits: set[str] = set()
    while True:
        block = f.read(chunk)
        if not block:
            break
        data = tail + block
        for name, v in raw.items():
            if name not in hits and v in data:
                hits.add(name)
        if len(hits) == len(raw):
            break
        tail = data[-keep:] if keep > 0 else b""
    return sorted(hits)


def port_busy(port: int) -> bool:
    """Is something listening on 127.0.0.1:PORT?  (SO_REUSEADDR, as node and most servers set it:
    the TIME_WAIT left by the previous image's probe does not count.)"""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def http_probe(port: int, path: str, timeout: float) -> tuple[Optional[int], Optional[str], Optional[str]]:
    """GET http://127.0.0.1:PORT/PATH until it answers or ``timeout``: (status, None, the
    answer's first 2000 characters) or (None, why, None)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as resp:
                return resp.status, None, _body(resp)
        except urllib.error.HTTPError as e:
            return e.code, None, _body(e)
        except (OSError, ValueError) as e:
            last = str(getattr(e, "reason", e))
        if time.monotonic() >= deadline:
            return None, f"{last} after {timeout:.0f}s", None
        time.sleep(0.3)


def _body(resp, limit: int = 2000) -> Optional[str]:
    try:
        return resp.read(limit * 4).decode("utf-8", errors="replace")[:limit]
    except (OSError, ValueError):
        return None


__all__ = ["Engine", "EngineError", "LABEL", "find_engine", "http_probe", "port_busy"]
