"""Folders a final stage creates as root that the app may write to (DFX006, class 8 of issue 12).

``RUN mkdir -p /app/uploads /var/log/app`` (or ``install -d``, a ``WORKDIR`` other than the last,
a ``VOLUME``) before the ``USER`` line leaves root-owned folders: the app then gets ``EACCES``
writing there.  :func:`root_created_dirs` lists them, with the instruction that creates each, so
that DFX006 can ``chown`` them (non-recursively) along with the ``WORKDIR``.  Left out: folders the
file already hands to someone (``chown``, ``install -o``, ``mkdir -m 777``, ``chmod o+w``),
folders removed again (``rm -r``, ``mv``), system and scratch locations (``/etc``, ``/usr``,
``/tmp``, ``/root``, package caches), and paths with variables, globs or braces.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockerfix.fixer.document import Document, Instruction, Stage
from dockerfix.fixer.positions import source_line

_SYSTEM = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/root", "/boot", "/dev",
           "/proc", "/sys", "/tmp", "/var/tmp", "/var/lib/apt", "/var/cache/apt", "/var/cache/apk", "/var/lib/dpkg",
           "/opt/yarn", "/run/secrets")
_MKDIR_VALUE_OPTS = frozenset({"-m", "--mode", "--context", "-Z"})
_INSTALL_VALUE_OPTS = frozenset({"-m", "--mode", "-g", "--group", "-o", "--owner", "-t", "--target-directory",
                                 "-S", "--suffix"})
_OTHERS_WRITE_RE = re.compile(r"^(?:[0-7]*[2367]|.*[ao]\+[rwxXst]*w.*|.*\+[rwxXst]*w.*)$")


@dataclass(frozen=True)
class Created:
    path: str
    index: int  # position in the stage body (instructions after FROM)
    how: str  # "mkdir" | "install" | "WORKDIR" | "VOLUME"


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


#: Folders every base image already has (a WORKDIR or mkdir -p of them creates nothing).
_EXISTING = frozenset({"/", "/opt", "/srv", "/home", "/home/node", "/var", "/var/log", "/var/lib", "/var/cache",
                       "/var/run", "/run", "/mnt", "/media", "/var/spool", "/var/mail", "/var/opt"})


def _system(path: str) -> bool:
    return path in _EXISTING or any(_under(path, s) for s in _SYSTEM)


def _plain(word: str) -> bool:
    return not any(c in word for c in "$`~*?[{")


def _operands(argv: tuple[str, ...], value_opts: frozenset[str]) -> tuple[list[str], list[str]]:
    """(options with their values, operands) of a command's argv[1:]."""
    opts: list[str] = []
    ops: list[str] = []
    it = iter(argv[1:])
    ended = False
    for a in it:
        if ended or not a.startswith("-") or a == "-":
            ops.append(a)
        elif a == "--":
            ended = True
        elif a in value_opts:
            opts.append(a + "=" + next(it, ""))
        else:
            opts.append(a)
    return opts, ops


def _inherited_workdir(doc: Document, stage: Stage) -> str:
    for st in doc.stage_chain(stage)[1:]:
        wds = [i for i in st.instructions if i.keyword == "WORKDIR"]
        if wds:
            return posixpath.normpath(posixpath.join("/", wds[-1].args_text.strip()))
    return "/"


def root_created_dirs(doc: Document, stage: Stage, body: list[Instruction], upto: int | None,
                      last_workdir: int | None) -> tuple[list[Created], list[str]]:
    """The folders the stage creates as root (instructions ``body[:upto]``) that are left to root,
    and notes on folders that cannot be handled (created conditionally)."""
    end = len(body) if upto is None else upto
    wd = _inherited_workdir(doc, stage)
    created: dict[str, Created] = {}
    settled: list[tuple[str, bool]] = []  # (path, recursive): owner or mode decided by the file
    removed: list[tuple[str, int]] = []
    notes: list[str] = []
    for i, ins in enumerate(body):
        if ins.keyword == "WORKDIR":
            raw = ins.args_text.strip()
            if raw and "$" not in raw:
                wd = posixpath.normpath(posixpath.join(wd, raw))
                if i != last_workdir and i < end:
                    created.setdefault(wd, Created(wd, i, "WORKDIR"))
            continue
        if ins.keyword == "VOLUME":
            paths = list(ins.json_args or ()) if ins.is_json else [w.value for w in ins.words]
            for p in paths:
                if _plain(p) and p.startswith("/"):
                    p = posixpath.normpath(p)
                    created.setdefault(p, Created(p, i, "VOLUME"))
            continue
        if ins.keyword != "RUN":
            continue
        scripts = [ins.shell] if not ins.heredocs else list(ins.heredoc_scripts)
        for script in scripts:
            for cmd in script.commands:
                prog, argv = cmd.program, cmd.argv
                if prog in ("mkdir", "install"):
                    value_opts = _MKDIR_VALUE_OPTS if prog == "mkdir" else _INSTALL_VALUE_OPTS
                    opts, ops = _operands(argv, value_opts)
                    if prog == "install" and not any(o in ("-d", "--directory") or
                                                     (o.startswith("-") and not o.startswith("--") and "d" in o)
                                                     for o in opts):
                        continue
                    mode = next((o.split("=", 1)[1] for o in opts if o.startswith(("-m=", "--mode="))), "")
                    owned = any(o.startswith(("-o=", "--owner=")) for o in opts)
                    for op in ops:
                        if not _plain(op):
                            continue
                        path = posixpath.normpath(posixpath.join(wd, op))
                        if owned or (mode and _OTHERS_WRITE_RE.match(mode)):
                            settled.append((path, False))
                        elif i >= end:
                            continue  # created by the runtime user itself
                        elif not script.simple:
                            if not _system(path):
                                notes.append(f"{path} is created conditionally on line {source_line(doc, ins.line)}: "
                                             f"chown it to the "
                                             "runtime user by hand if the app writes there")
                        else:
                            created.setdefault(path, Created(path, i, prog))
                elif prog in ("chown", "chmod"):
                    opts, ops = _operands(argv, frozenset())
                    recursive = any(o in ("-R", "--recursive") for o in opts)
                    if prog == "chmod":
                        if not ops or not _OTHERS_WRITE_RE.match(ops[0]):
                            continue
                        targets = ops[1:]
                    else:
                        targets = ops[1:]
                    for t in targets:
                        if _plain(t):
                            settled.append((posixpath.normpath(posixpath.join(wd, t)), recursive))
                elif prog in ("rm", "mv", "rmdir"):
                    _opts, ops = _operands(argv, frozenset())
                    gone = ops[:-1] if prog == "mv" else ops
                    for t in gone:
                        if _plain(t):
                            removed.append((posixpath.normpath(posixpath.join(wd, t)), i))
    out = []
    for c in created.values():
        if _system(c.path):
            continue
        if any(c.path == p or (rec and _under(c.path, p)) for p, rec in settled):
            continue
        if any(_under(c.path, r) and idx >= c.index for r, idx in removed):
            continue
        out.append(c)
    return out, notes
