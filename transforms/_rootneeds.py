"""Why an image must keep starting as root: facts from the Dockerfile and the build context that
a non-root ``USER`` would break (DFX006).

* a port below 1024 the app binds (``EXPOSE 80``, ``ENV PORT=80``, ``PORT=80`` or ``--port 80`` in
  the start command or in the package.json script it runs);
* an entrypoint that steps down to another user itself (``gosu``, ``su-exec``, ``setpriv``,
  ``chroot --userspec``, ``runuser``, ``s6-setuidgid``, ``su -c``): in ENTRYPOINT/CMD or in the
  entrypoint script, read from the build context;
* a ``WORKDIR`` (or a start file) under ``/root``, whose mode 0700 keeps every other user out.
"""

from __future__ import annotations

import posixpath
import re

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Instruction, Stage
from dockerfix.fixer.positions import source_line

from ._stages import copy_sources
from ._startcmd import command_words, final_command, workdir_at

#: Variables that name the port the app listens on.
PORT_VARS = frozenset({"PORT", "HTTP_PORT", "HTTPS_PORT", "APP_PORT", "SERVER_PORT", "LISTEN_PORT", "NODE_PORT",
                       "WEB_PORT"})
_PORT_ASSIGN_RE = re.compile(r"(?<![\w$])(" + "|".join(sorted(PORT_VARS)) + r")=[\"']?(\d+)\b")
_PORT_FLAG_RE = re.compile(r"(?:^|\s)(?:--port|--http-port|--listen|-p)(?:=|\s+)[\"']?(\d+)\b")
#: Programs that switch to another user (the entrypoint drops root itself).
_STEP_DOWN_RE = re.compile(
    r"(?<![\w./-])(gosu|su-exec|setpriv|runuser|s6-setuidgid|setuidgid|chpst\s+-u|chroot\s+--userspec)(?![\w-])"
    r"|(?<![\w./-])su\s+(?:-[a-z-]+\s+)*[\w$\"'{}-]+\s+(?:-s\s+\S+\s+)?-c\b")
_SCRIPT_SUFFIXES = (".sh", ".bash")
_SHELLS = ("sh", "bash", "ash", "dash")


def _vars(doc: Document, stage: Stage) -> dict[str, str]:
    out = {k: v for k, v in doc.global_args.items() if v is not None}
    for st in reversed(doc.stage_chain(stage)):
        for ins in st.instructions:
            if ins.keyword in ("ARG", "ENV"):
                for a in ins.assignments:
                    if a.value is not None and (ins.keyword == "ENV" or a.name not in out):
                        out[a.name] = a.value
    return out


def _expand(text: str, values: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        name = m.group(1) or m.group(3)
        return values.get(name, m.group(2) or m.group(0))
    return re.sub(r"\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))", sub, text)


def privileged_port(doc: Document, stage: Stage, ctx: Context) -> str | None:
    """Where the app is told to bind a port below 1024, or None."""
    values = _vars(doc, stage)
    chain = list(reversed(doc.stage_chain(stage)))
    for st in chain:
        for ins in st.instructions:
            if ins.keyword == "EXPOSE":
                for w in ins.words:
                    m = re.fullmatch(r"(\d+)(?:-\d+)?(?:/\w+)?", _expand(w.value, values))
                    if m and int(m.group(1)) < 1024:
                        return f"EXPOSE {w.value} on line {source_line(doc, ins.line)}"
            elif ins.keyword == "ENV":
                for a in ins.assignments:
                    v = _expand(a.value or "", values)
                    if a.name in PORT_VARS and v.isdigit() and int(v) < 1024:
                        return f"ENV {a.name}={a.value} on line {source_line(doc, ins.line)}"
    ep, cmd = final_command(doc)
    texts = [(f"{i.keyword} on line {source_line(doc, i.line)}", " ".join(command_words(i))) for i in (ep, cmd) if i is not None]
    script = _runner_script(ep, cmd, ctx)
    if script is not None:
        texts.append(script)
    for where, text in texts:
        for rx in (_PORT_ASSIGN_RE, _PORT_FLAG_RE):
            for m in rx.finditer(text):
                if int(m.group(m.lastindex or 1)) < 1024:
                    return f"`{m.group(0).strip()}` in {where}"
    return None


def _runner_script(ep: Instruction | None, cmd: Instruction | None, ctx: Context) -> tuple[str, str] | None:
    """(where, text) of the package.json script the start command runs (``npm start``,
    ``npm run start:prod``, ``yarn serve``)."""
    if ctx.package is None:
        return None
    argv = [w for i in (ep, cmd) if i is not None for w in command_words(i)]
    while argv and posixpath.basename(argv[0]) in ("dumb-init", "tini", "--", "/sbin/tini"):
        argv = argv[1:]
    if not argv or posixpath.basename(argv[0]) not in ("npm", "yarn", "pnpm", "bun"):
        return None
    rest = [a for a in argv[1:] if not a.startswith("-")]
    if rest[:1] in (["run"], ["run-script"]):
        rest = rest[1:]
    name = rest[0] if rest else None
    body = ctx.package.scripts.get(name or "")
    return (f"scripts.{name} of package.json", body) if body else None


def node_user_removed(doc: Document, stage: Stage) -> str | None:
    """Where the file deletes or renames the image's ``node`` user, or None."""
    for st in doc.stage_chain(stage):
        for ins in st.instructions:
            for cmd in ins.commands:
                if cmd.program in ("deluser", "userdel", "usermod") and "node" in cmd.argv[1:]:
                    return f"`{cmd.program} ... node` on line {source_line(doc, ins.line)}"
    return None


def root_workdir(doc: Document, stage: Stage) -> str | None:
    """Where the app lives under /root (mode 0700), or None."""
    for st in reversed(doc.stage_chain(stage)):
        workdirs = [i for i in st.instructions if i.keyword == "WORKDIR"]
        if workdirs:
            path = workdirs[-1].args_text.strip()
            if path == "/root" or path.startswith("/root/"):
                return f"WORKDIR {path} on line {source_line(doc, workdirs[-1].line)}"
    ep, cmd = final_command(doc)
    for ins in (ep, cmd):
        if ins is not None:
            for w in command_words(ins):
                if w == "/root" or w.startswith("/root/"):
                    return f"`{w}` in {ins.keyword} on line {source_line(doc, ins.line)}"
    return None


#: Packages whose only job is to step down to another user.
STEP_DOWN_PACKAGES = frozenset({"gosu", "su-exec", "s6", "s6-overlay", "runit"})


def step_down(doc: Document, stage: Stage, ctx: Context) -> tuple[str | None, str | None]:
    """(where the entrypoint steps down to another user, None) or (None, why that cannot be told:
    an entrypoint script that is not in the build context)."""
    from ._ospkgs import install_commands

    installed = None
    for st in doc.stage_chain(stage):
        for ins in st.instructions:
            if ins.keyword == "RUN":
                for p in install_commands(ins):
                    names = {w.split("=")[0] for w in p.packages} & STEP_DOWN_PACKAGES
                    if names and installed is None:
                        installed = f"it installs {', '.join(sorted(names))} on line {source_line(doc, ins.line)} to do so"
    ep, cmd = final_command(doc)
    starts = [i for i in (ep, cmd) if i is not None]
    for start in starts:
        m = _STEP_DOWN_RE.search(start.logical)
        if m:
            return f"`{_name(m)}` in {start.keyword} on line {source_line(doc, start.line)}", None
    missing = None
    for start in starts:
        for path in script_paths(command_words(start)):
            found = False
            rels = context_paths(doc, stage, path)
            if posixpath.basename(path) == "docker-entrypoint.sh" and rels == ["docker-entrypoint.sh"] \
                    and ctx.read_file("docker-entrypoint.sh") is None:
                continue  # not copied in: the official node image's own entrypoint, which keeps the user
            for rel in rels:
                text = ctx.read_file(rel)
                if text is None:
                    continue
                found = True
                body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
                m = _STEP_DOWN_RE.search(body)
                if m:
                    return f"`{_name(m)}` in the entrypoint script {rel}", None
            if not found and missing is None:
                missing = path
    if installed is not None:
        return installed, None
    if missing is not None:
        return None, (f"the start command runs the script `{missing}`, which is not in the build context, so it "
                      "cannot be told whether it steps down to another user itself (gosu, su-exec)")
    return None, None


def _name(m: re.Match) -> str:
    words = m.group(0).split()
    return " ".join(words[:2]) if words[0] in ("chroot", "chpst") else words[0]


def script_paths(argv: list[str]) -> list[str]:
    out = []
    for i, a in enumerate(argv):
        base = posixpath.basename(a)
        if base.endswith(_SCRIPT_SUFFIXES) or (i == 0 and "entrypoint" in base and "." not in base):
            out.append(a)
        elif i == 0 and base in _SHELLS and len(argv) > 1 and not argv[1].startswith("-"):
            out.append(argv[1])
    return out


def _workdir_at(stage_chain: list[Stage], ins: Instruction) -> str:
    wd = "/"
    for st in stage_chain:
        for i in st.instructions:
            if i is ins:
                return wd
            if i.keyword == "WORKDIR" and i.args_text:
                wd = posixpath.normpath(posixpath.join(wd, i.args_text.strip()))
    return wd


def context_paths(doc: Document, stage: Stage, path: str) -> list[str]:
    """Build-context paths a file at ``path`` in the image may come from, following the COPY/ADD
    instructions (not ``--from``) of the stage chain; the file's name at the context root last."""
    chain = list(reversed(doc.stage_chain(stage)))
    final_wd = _workdir_at(chain, chain[-1].instructions[-1]) if chain else "/"
    last_wd = final_wd
    for i in chain[-1].instructions:
        if i.keyword == "WORKDIR" and i.args_text:
            last_wd = posixpath.normpath(posixpath.join("/", last_wd, i.args_text.strip()))
    targets = [posixpath.normpath(posixpath.join(last_wd, path))]
    if "/" not in path:  # a bare name is looked up in PATH first
        targets = [f"{d}/{path}" for d in ("/usr/local/bin", "/usr/local/sbin", "/usr/bin", "/bin")] + targets
    out: list[str] = []
    for target in targets:
        out.extend(_sources_for(chain, target))
    out.append(posixpath.basename(path))
    seen: list[str] = []
    for p in out:
        if p not in seen and not p.startswith(".."):
            seen.append(p)
    return seen


def _sources_for(chain: list[Stage], target: str) -> list[str]:
    return [src for _ins, src, _sure in _copies_of(chain, target)]


def copy_into(doc: Document, stage: Stage, path: str) -> Instruction | None:
    """The last COPY/ADD from the build context (not ``--from``) of the stage chain that names a
    source for the file at ``path`` (relative to the final WORKDIR): the file itself, or a folder
    (``.``, ``bin/``) it would be under; None when no COPY/ADD names one."""
    chain = list(reversed(doc.stage_chain(stage)))
    wd = workdir_at(doc, stage)
    if wd is None and not path.startswith("/"):
        return None
    targets = [posixpath.normpath(posixpath.join(wd or "/", path))]
    if "/" not in path:
        targets = [f"{d}/{path}" for d in ("/usr/local/bin", "/usr/local/sbin", "/usr/bin", "/bin")] + targets
    found = [ins for t in targets for ins, _src, sure in _copies_of(chain, t) if sure]
    return max(found, key=lambda i: i.index, default=None)


def _copies_of(chain: list[Stage], target: str) -> list[tuple[Instruction, str, bool]]:
    """(COPY/ADD, context path, named) triples that may put a file at ``target`` in the image;
    ``named``: the COPY names that file or a folder (``.``, ``bin/``) it is under, not only a
    source that might be a folder."""
    out: list[tuple[Instruction, str, bool]] = []
    for st in chain:
        for ins in st.instructions:
            if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None:
                continue
            srcs = copy_sources(ins)
            if not srcs:
                continue
            raw_dest = ins.words[-1].value
            dest = posixpath.normpath(posixpath.join(_workdir_at(chain, ins), raw_dest))
            for w in srcs:
                src = posixpath.normpath(w.value.lstrip("/")) if w.value not in (".", "./") else "."
                if target == dest and len(srcs) == 1 and not raw_dest.endswith("/"):
                    out.append((ins, src, True))
                elif target.startswith(dest.rstrip("/") + "/"):
                    rel = target[len(dest.rstrip("/")) + 1:]
                    if posixpath.basename(src) == rel:
                        out.append((ins, src, True))
                    folder = src == "." or w.value.endswith("/") or posixpath.basename(src) == posixpath.basename(dest)
                    out.append((ins, posixpath.normpath(posixpath.join(src, rel)), folder))
    return out
