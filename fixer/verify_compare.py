"""``dockerfix verify``: what was measured of an image, how the original and the fixed image compare,
and the before/after table (text, JSON, markdown).

Pure: no engine, no files.  :mod:`.verify_engine` fills a :class:`Measurement` per image,
:func:`compare` turns two of them into :class:`Row`\\ s with a verdict each, and :class:`FileReport`
decides the file's exit code:

* **2** (error) when either image cannot be built or run (named in ``reasons``);
* **1** (regression) when the fixed image is worse on any measured point (named);
* **0** otherwise: the fixed image is at least as good on every point.

What "worse" means, point by point:

==============  =====================================================================================
builds          both must build (else error)
runs            both must stay up until measured (else error)
size            larger than the original by more than ``size_tolerance`` (default 5% or 1 MB,
                whichever is larger: an init binary or a ``chown`` is not a regression)
user            the app runs as root (uid 0) where the original did not
PID 1           a worse kind of PID 1: ``init`` (dumb-init, tini, ...) > the app itself (``exec``)
                > a shell or a package manager (``sh -c``, npm, yarn) that may not forward signals
NODE_ENV        the original had ``production`` and the fixed image has not
stop            the original stopped on SIGTERM and the fixed one had to be SIGKILLed (137 or the
                full ``stop -t`` timeout)
secrets         a value passed as a build secret or build-arg is found in the fixed image (a layer,
                the history or the config) and was not found in the original
devDependencies the fixed image has a ``devDependencies`` package of the context's package.json in
                the app's ``node_modules`` that the original did not have
HTTP probe      the original answered and the fixed image does not
==============  =====================================================================================
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Optional

EXIT_OK, EXIT_REGRESSION, EXIT_ERROR = 0, 1, 2

#: PID 1 that reaps zombies and forwards signals.
INITS = {"dumb-init", "tini", "tini-static", "docker-init", "catatonit", "podman-init", "s6-svscan", "init"}
#: PID 1 that is a wrapper around the app: a shell (``CMD node app.js``) or a package manager.
WRAPPERS = {"sh", "bash", "ash", "dash", "npm", "yarn", "pnpm", "npx", "corepack"}
PID1_RANK = {"init": 2, "exec": 1, "wrapper": 0}


def pid1_kind(cmdline: list[str]) -> Optional[str]:
    """``init``, ``exec`` (the app itself) or ``wrapper``; None when unknown."""
    if not cmdline:
        return None
    # npm and yarn rename themselves (process.title): argv[0] becomes "npm start" as one string
    first = os.path.basename(cmdline[0].split()[0]) if cmdline[0].strip() else ""
    if first in INITS:
        return "init"
    if first in WRAPPERS:
        return "wrapper"
    if first in ("node", "nodejs") and len(cmdline) > 1 and os.path.basename(cmdline[1]) in (
            "npm", "npm-cli.js", "yarn", "yarn.js", "pnpm", "pnpm.cjs", "npx-cli.js"):
        return "wrapper"  # npm/yarn started through node (#!/usr/bin/env node)
    return "exec"


@dataclass
class Measurement:
    """What was measured of one image (None: not measured / unknown)."""

    dockerfile: str = ""
    built: bool = False
    build_error: Optional[str] = None       # last lines of the build output
    build_seconds: Optional[float] = None
    size_bytes: Optional[int] = None
    ran: Optional[bool] = None              # stayed up until measured
    run_error: Optional[str] = None
    uid: Optional[int] = None               # the app process (PID 1, or the first process below the
                                            # init, shells and package managers that start it)
    user: Optional[str] = None              # its name from the image's /etc/passwd
    pid1_uid: Optional[int] = None          # PID 1's uid (an init or a wrapper may run as another user)
    pid1: list[str] = field(default_factory=list)
    app: list[str] = field(default_factory=list)  # the app process' command line when not PID 1
    processes: list[dict] = field(default_factory=list)  # {pid, ppid, uid, cmd} of every process
    run_init: bool = False                  # run under the engine's init (``run --init``)
    node_env: Optional[str] = None
    node_env_seen: bool = False             # True: NODE_ENV was read from the process, not the config
    stop_timeout: Optional[int] = None
    stop_seconds: Optional[float] = None
    stop_exit: Optional[int] = None
    leaks: dict[str, list[str]] = field(default_factory=dict)  # secret name -> places found
    secrets_checked: list[str] = field(default_factory=list)   # secret names looked for
    probe: Optional[str] = None             # "PORT/PATH" asked for
    probe_status: Optional[int] = None      # HTTP status, None: no answer
    probe_error: Optional[str] = None
    probe_body: Optional[str] = None        # the answer's first 2000 characters
    dev_deps_checked: list[str] = field(default_factory=list)  # devDependencies looked for
    dev_deps: list[str] = field(default_factory=list)          # ... found in the app's node_modules
    logs: Optional[str] = None              # the container's last log lines (after ``stop``)

    @property
    def killed(self) -> Optional[bool]:
        """True when ``stop`` had to SIGKILL: exit 137, or it took the whole timeout."""
        if self.stop_exit is None:
            return None
        return self.stop_exit == 137 or (self.stop_seconds is not None and self.stop_timeout is not None
                                          and self.stop_seconds >= self.stop_timeout - 0.3)

    def to_json(self) -> dict:
        d = asdict(self)
        d["killed"] = self.killed
        d["pid1_kind"] = pid1_kind(self.pid1)
        return d


@dataclass
class Row:
    check: str
    before: str
    after: str
    verdict: str  # better | same | worse | n/a


@dataclass
class FileReport:
    path: str
    original: Measurement
    fixed: Optional[Measurement]
    rows: list[Row] = field(default_factory=list)
    status: str = "ok"          # ok | regression | error | unchanged
    reasons: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)  # codes applied

    @property
    def exit_code(self) -> int:
        return {"ok": EXIT_OK, "unchanged": EXIT_OK, "regression": EXIT_REGRESSION}.get(self.status, EXIT_ERROR)

    def to_json(self) -> dict:
        return {"path": self.path, "status": self.status, "exit": self.exit_code, "reasons": self.reasons,
                "fixes": self.fixes, "rows": [asdict(r) for r in self.rows],
                "original": self.original.to_json(), "fixed": self.fixed.to_json() if self.fixed else None}


def _mb(n: Optional[int]) -> str:
    return "-" if n is None else f"{n / 1e6:.1f} MB"


def _user(m: Measurement) -> str:
    if m.uid is None:
        return "?"
    return f"{m.uid} ({m.user})" if m.user else str(m.uid)


def _cmd(argv: list[str], limit: int = 36) -> str:
    s = " ".join(argv) if argv else "?"
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _stop(m: Measurement) -> str:
    if m.stop_exit is None:
        return "?"
    how = "SIGKILL" if m.killed else "SIGTERM ok"
    return f"{m.stop_seconds:.1f}s, exit {m.stop_exit} ({how})"


def _leaks(m: Measurement) -> str:
    if not m.secrets_checked:
        return "-"
    if not m.leaks:
        return "none found"
    return "; ".join(f"{name} in {', '.join(sorted(set(p.split(':')[0] for p in places)))}"
                     for name, places in sorted(m.leaks.items()))


def _dev(m: Measurement) -> str:
    if not m.dev_deps:
        return "none"
    more = ", …" if len(m.dev_deps) > 3 else ""
    return f"{len(m.dev_deps)} ({', '.join(m.dev_deps[:3])}{more})"


def _probe(m: Measurement) -> str:
    if m.probe_status is not None:
        return f"HTTP {m.probe_status}"
    return f"no answer ({m.probe_error})" if m.probe_error else "no answer"


def _verdict(better: bool, worse: bool) -> str:
    return "worse" if worse else "better" if better else "same"


def size_limit(original: int, tolerance: float, floor_bytes: int) -> int:
    """The largest fixed size that is not a regression."""
    return original + max(int(original * tolerance), floor_bytes)


def compare(o: Measurement, f: Optional[Measurement], *, size_tolerance: float = 0.05,
            size_floor: int = 1_000_000) -> tuple[list[Row], str, list[str]]:
    """(rows, status, reasons): status ``ok`` / ``regression`` / ``error``."""
    rows: list[Row] = []
    errors: list[str] = []
    worse: list[str] = []

    def built(m: Optional[Measurement]) -> str:
        return "yes" if m and m.built else "no"

    rows.append(Row("builds", built(o), built(f), "same" if (o.built and f and f.built) else
                    "worse" if (o.built and not (f and f.built)) else "n/a"))
    if not o.built:
        errors.append("the original image does not build" + (f": {_last(o.build_error)}" if o.build_error else ""))
    if f is None or not f.built:
        errors.append("the fixed image does not build" + (f": {_last(f.build_error)}" if f and f.build_error else ""))
    if errors:
        return rows, "error", errors

    assert f is not None
    rows.append(Row("runs", "yes" if o.ran else "no", "yes" if f.ran else "no",
                    "same" if (o.ran and f.ran) else "worse" if o.ran else "n/a"))
    if not o.ran:
        errors.append(f"the original image does not run: {o.run_error or 'exited'}")
    if not f.ran:
        errors.append(f"the fixed image does not run: {f.run_error or 'exited'}")
    if o.size_bytes is not None and f.size_bytes is not None:
        grew = f.size_bytes > size_limit(o.size_bytes, size_tolerance, size_floor)
        rows.append(Row("size", _mb(o.size_bytes), _mb(f.size_bytes),
                        _verdict(f.size_bytes < o.size_bytes - size_floor, grew)))
        if grew:
            worse.append(f"size grew from {_mb(o.size_bytes)} to {_mb(f.size_bytes)}")
    if errors:  # what cannot run cannot be measured further
        return rows, "error", errors

    if o.uid is not None and f.uid is not None:
        regress = f.uid == 0 and o.uid != 0
        rows.append(Row("user", _user(o), _user(f), _verdict(o.uid == 0 and f.uid != 0, regress)))
        if regress:
            worse.append(f"the app runs as root (uid 0); the original ran as uid {o.uid}")
    else:
        rows.append(Row("user", _user(o), _user(f), "n/a"))

    ko, kf = pid1_kind(o.pid1), pid1_kind(f.pid1)
    if ko and kf:
        regress = PID1_RANK[kf] < PID1_RANK[ko]
        rows.append(Row("PID 1", f"{_cmd(o.pid1)} [{ko}]", f"{_cmd(f.pid1)} [{kf}]",
                        _verdict(PID1_RANK[kf] > PID1_RANK[ko], regress)))
        if regress:
            worse.append(f"PID 1 is {_cmd(f.pid1)} ({kf}); the original had {_cmd(o.pid1)} ({ko})")
    else:
        rows.append(Row("PID 1", _cmd(o.pid1), _cmd(f.pid1), "n/a"))

    po, pf = o.node_env == "production", f.node_env == "production"
    rows.append(Row("NODE_ENV", o.node_env or "(unset)", f.node_env or "(unset)", _verdict(pf and not po, po and not pf)))
    if po and not pf:
        worse.append(f"NODE_ENV is {f.node_env or 'unset'} in the fixed image; the original had production")

    if o.killed is not None and f.killed is not None:
        regress = f.killed and not o.killed
        rows.append(Row(f"stop -t {o.stop_timeout}", _stop(o), _stop(f), _verdict(o.killed and not f.killed, regress)))
        if regress:
            worse.append(f"the fixed image ignores SIGTERM (stopped in {f.stop_seconds:.1f}s, exit {f.stop_exit}); "
                         f"the original stopped in {o.stop_seconds:.1f}s")
    else:
        rows.append(Row("stop", _stop(o), _stop(f), "n/a"))

    if o.secrets_checked or f.secrets_checked:
        new = sorted(set(f.leaks) - set(o.leaks))
        rows.append(Row("secret in image", _leaks(o), _leaks(f), _verdict(bool(set(o.leaks) - set(f.leaks)), bool(new))))
        for name in new:
            worse.append(f"the fixed image contains the value of {name} ({', '.join(f.leaks[name][:3])})")

    if o.dev_deps_checked or f.dev_deps_checked:
        new = sorted(set(f.dev_deps) - set(o.dev_deps))
        rows.append(Row("devDependencies", _dev(o), _dev(f), _verdict(bool(set(o.dev_deps) - set(f.dev_deps)), bool(new))))
        if new:
            worse.append(f"the fixed image has devDependencies the original did not: {', '.join(new)}")

    if o.probe or f.probe:
        ok_o, ok_f = _answers(o), _answers(f)
        rows.append(Row(f"HTTP {o.probe or f.probe}", _probe(o), _probe(f), _verdict(ok_f and not ok_o, ok_o and not ok_f)))
        if ok_o and not ok_f:
            worse.append(f"the fixed image does not answer HTTP on {f.probe}: {_probe(f)}")

    return rows, ("regression" if worse else "ok"), worse


def _answers(m: Measurement) -> bool:
    return m.probe_status is not None and m.probe_status < 500


def _last(text: Optional[str]) -> str:
    """The line of a build log that says what went wrong: the last one that mentions an error,
    else the last line."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "error" in ln.lower():
            return ln if len(ln) <= 300 else ln[:299] + "…"
    return lines[-1] if lines else ""


# ---------------------------------------------------------------------------------------------
# rendering

def overall_exit(reports: list[FileReport]) -> int:
    return max((r.exit_code for r in reports), default=EXIT_OK)


def _table(header: list[str], body: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        esc = lambda c: c.replace("|", "\\|")  # noqa: E731
        return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
                *("| " + " | ".join(esc(c) for c in row) + " |" for row in body)]
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return [line(header), line(["-" * w for w in widths]), *map(line, body)]


STATUS_WORD = {"ok": "no regression", "regression": "REGRESSION", "error": "ERROR",
               "unchanged": "nothing to verify (no fix applies)"}


def render(reports: list[FileReport], fmt: str = "text", engine: str = "") -> str:
    if fmt == "json":
        return json.dumps({"version": 1, "engine": engine, "exit": overall_exit(reports),
                           "files": [r.to_json() for r in reports]}, indent=2, ensure_ascii=False) + "\n"
    md = fmt == "markdown"
    out: list[str] = []
    for r in reports:
        title = f"{r.path}: {STATUS_WORD[r.status]}"
        if r.fixes:
            title += f" (fixes {', '.join(r.fixes)})"
        out.append(f"### `{r.path}`: {STATUS_WORD[r.status]}" + (f" (fixes {', '.join(r.fixes)})" if r.fixes else "")
                   if md else title)
        if r.rows:
            if md:
                out.append("")
            out.extend(_table(["check", "original", "fixed", "verdict"],
                              [[x.check, x.before, x.after, x.verdict] for x in r.rows], md))
        if md and r.rows and r.reasons:
            out.append("")  # a list right after a table is not part of it
        for reason in r.reasons:
            out.append(f"- {reason}" if md else f"  {'error' if r.status == 'error' else 'worse'}: {reason}")
        for m, label in ((r.original, "original"), (r.fixed, "fixed")):
            if m is not None and m.build_error and not m.built:
                tail = "\n".join(m.build_error.splitlines()[-12:])
                out.append(f"\n<details><summary>{label} build output (last lines)</summary>\n\n```\n{tail}\n```\n"
                           "</details>" if md else f"  {label} build output (last lines):\n"
                           + "\n".join("    " + ln for ln in tail.splitlines()))
        out.append("")
    code = overall_exit(reports)
    summary = {0: "no regression", 1: "regression", 2: "cannot build or run"}[code]
    out.append(f"{'**' if md else ''}verify: {summary} (exit {code}){'**' if md else ''}"
               + (f" — engine: {engine}" if engine else ""))
    return "\n".join(out) + "\n"
