"""npm credentials as build secrets (DFX009): the variable references in a RUN's words, the
``.npmrc`` lines a Dockerfile writes with ``echo``/``printf`` or copies from the build context
(credentials masked), the guard line that stops a token-form RUN whose secret is missing or
empty, and the notes that tell how to build with the secret (``docker build``, Docker Compose,
GitHub Actions), with the project's own registry host and scope lines."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from collections.abc import Iterable

from dockerfix.fixer.commands import ShellCommand
from dockerfix.fixer.context import Context
from dockerfix.fixer.dockerignore import clean_context_path, dockerignore_matches
from dockerfix.fixer.document import Document, Instruction, Word
from dockerfix.fixer.edits import Applicability, Edit, Fix
from dockerfix.fixer.secrets import mask_secrets

from ._pkgmanagers import NPM_CONFIG_READERS
from ._stages import copy_sources, is_root_user

#: The secret id of a whole-file ``.npmrc`` secret (the file form).
SECRET_ID = "npmrc"
_REF_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def variable_refs(source: str, words: Iterable[Word]) -> list[tuple[int, int, str, str, str]]:
    """``(start, end, name, modifier, quoting)`` of the variable references in ``words`` (spans in
    ``source``); quoting is ``"'"`` (single quotes: not expanded), ``'"'`` or ``""`` (unquoted).
    A word starts outside quotes, so each is read on its own."""
    out = []
    for w in words:
        base = w.span.start
        text = source[base:w.span.end]
        quote = ""
        i = 0
        while i < len(text):
            ch = text[i]
            if quote != "'" and ch == "\\":
                i += 2
                continue
            if ch == "'" and quote != '"':
                quote = "" if quote == "'" else "'"
            elif ch == '"' and quote != "'":
                quote = "" if quote == '"' else '"'
            elif ch == "$":
                m = _REF_RE.match(text, i)
                if m:
                    out.append((base + m.start(), base + m.end(), m.group(1) or m.group(3), m.group(2) or "", quote))
                    i = m.end()
                    continue
            i += 1
    return out


def token_edits(source: str, c: ShellCommand, token_ids: dict[str, str]) -> list[Edit]:
    """Edits that make the command ``c`` read each build-arg token from its secret file."""
    out = []
    for s, e, name, _mod, quote in variable_refs(source, c.all_words):
        if name in token_ids:
            sub = f"$(cat /run/secrets/{token_ids[name]})"
            out.append(Edit(s, e, sub if quote else f'"{sub}"'))
    return out


def written_lines(cmds: Iterable[ShellCommand]) -> list[str]:
    """The lines the echo/printf commands write, variables as ``${NAME}``, literal tokens masked."""
    lines: list[str] = []
    for c in cmds:
        words = [w.value for w in c.words[1:]]  # argv: redirections are not in it
        if c.program == "printf" and words:
            text = _printf(words[0], words[1:]).replace("\\n", "\n")
        else:
            interpret = False
            while words and words[0] in ("-e", "-n", "-en", "-ne", "-E"):
                interpret |= "e" in words.pop(0)
            text = " ".join(words)
            if interpret or "\\n" in text:
                text = text.replace("\\n", "\n")
        text = re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", r"${\1}", text)
        lines.extend(line.strip() for line in text.split("\n") if line.strip())
    return [mask_secrets(line) for line in lines]


def _printf(fmt: str, args: list[str]) -> str:
    """``printf``'s output for ``%s`` formats (the format repeats for the arguments left)."""
    rest = list(args)

    def take(_m: re.Match) -> str:
        return rest.pop(0) if rest else ""

    text = re.sub(r"%s", take, fmt)
    while rest and "%s" in fmt:
        text += re.sub(r"%s", take, fmt)
    return text


_AUTH_RE = re.compile(r"^(\s*(?://[^=]*:)?_(?:authToken|auth|password)\s*=\s*)(.*)$")


def npmrc_settings(text: str | None) -> list[str]:
    """An .npmrc's settings with every credential value replaced by ``${NPM_TOKEN}`` (kept when it
    already is a variable)."""
    out = []
    for line in (text or "").splitlines():
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        m = _AUTH_RE.match(line)
        if m and not m.group(2).strip().startswith("${"):
            line = m.group(1).strip() + "${NPM_TOKEN}"
        out.append(line.strip())
    return out


def token_notes(token_ids: dict[str, str], lines: list[str]) -> tuple[str, ...]:
    """How to build once the token form reads each build-arg token from a secret."""
    notes = []
    for name, sid in token_ids.items():
        notes.append(f"build with: docker build --secret id={sid},env={name} .  with the token in the environment "
                     f"variable {name}, as the build argument had it (BuildKit: DOCKER_BUILDKIT=1 on Docker 20.10-22; "
                     "no `# syntax=` line is needed)")
    if lines:
        notes.append("the RUN still writes the same .npmrc (" + " / ".join(lines) + ") and removes it before the "
                     "layer is saved; only the token is read from the secret")
    notes.append("required=true: a build without the secret now fails instead of installing without credentials; "
                 "so does one whose secret is empty (" + ", ".join(f"{n} unset" for n in token_ids)
                 + "): the RUN's first line checks the secret file and names the variable to set")
    for name, sid in token_ids.items():
        notes.append(f"docker compose: services.<app>.build.secrets: [{sid}] and top-level secrets: "
                     f"{{{sid}: {{environment: {name}}}}}")
        notes.append(f"GitHub Actions (docker/build-push-action): secrets: | {sid}=${{{{ secrets.{name} }}}}")
    return tuple(notes)


def guard_line(name: str, sid: str) -> str:
    """The shell line that stops a RUN whose secret ``sid`` (fed from ``name``) is missing or empty."""
    return (f'test -s /run/secrets/{sid} || {{ echo "build secret {sid} is missing or empty: set {name} and pass '
            f'--secret id={sid},env={name}" >&2; exit 1; }};')


def guard_edit(doc: Document, run: Instruction, token_ids: dict[str, str]) -> Edit:
    """Put one guard line per secret before the first command of ``run``, each on its own
    continuation line: ``required=true`` stops only a build that passes no ``--secret`` at all,
    while ``--secret id=..,env=NAME`` with ``NAME`` unset passes an empty secret (or none)."""
    cmds: tuple[ShellCommand, ...] = run.shell.simple_commands or ()
    start = cmds[0].all_words[0].span.start
    cont = f"{doc.escape}{doc.newline}"
    lead = doc.source[doc.source.rfind("\n", 0, start) + 1:start]
    if lead.strip():  # the command follows RUN and its flags on their line: start a new line
        indent = doc.line_indent(run) + "    "
        before = cont + indent
    else:  # the command already starts a continuation line: keep its indentation
        indent, before = lead, ""
    names: dict[str, str] = {}  # secret id -> the variable that feeds it
    for name, sid in token_ids.items():
        names.setdefault(sid, name)
    return Edit.insert(start, before + "".join(f"{guard_line(n, sid)} {cont}{indent}" for sid, n in names.items()))


def _shell_quote_line(line: str) -> str:
    if "${" in line:
        return '"' + line.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"'
    return "'" + line.replace("'", "'\\''") + "'"


def usage_notes(lines: list[str], context_path: str | None = None, written: bool = False) -> tuple[str, ...]:
    """How to build once the whole .npmrc (``lines``, masked) is the secret ``npmrc``."""
    src = "$HOME/.npmrc" if context_path is None else f"./{context_path}"
    notes = [
        f"build with: docker build --secret id={SECRET_ID},src={src} .  (BuildKit; DOCKER_BUILDKIT=1 on Docker "
        "20.10-22; no `# syntax=` line is needed for type=secret with target=)",
        "required=true: a build without the secret now fails instead of installing without credentials",
    ]
    if written and lines:
        # the content may hold a literal token: never echo it into a report, a log or a PR body
        notes.append("the secret file is the .npmrc the removed step wrote, with the real token: "
                     + " / ".join(lines))
    elif context_path:
        notes.append(f"keep {context_path} out of git and out of the build context (.dockerignore); it is now only "
                     "read as a secret")
    notes.append(f"docker compose: services.<app>.build.secrets: [{SECRET_ID}] and top-level "
                 f"secrets: {{{SECRET_ID}: {{file: {src}}}}}")
    shown = lines or ["@<scope>:registry=https://<your-registry-host>/", "//<your-registry-host>/:_authToken=${NPM_TOKEN}"]
    vars_used = sorted({m for line in shown for m in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", line)})
    env = ", ".join(f"{v}: ${{{{ secrets.{v} }}}}" for v in vars_used)
    notes.append("GitHub Actions: write the secret file in a step (" + (f"env: {env}; " if env else "")
                 + "run: printf '%s\\n' " + " ".join(_shell_quote_line(line) for line in shown)
                 + ' > "$RUNNER_TEMP/npmrc") and pass it to docker/build-push-action with secret-files: '
                 + f"{SECRET_ID}=${{{{ runner.temp }}}}/npmrc"
                 + ("" if lines else "  (use your registry host and scope: never the public registry by default)"))
    return tuple(notes)


def refers_to(text: str, name: str) -> bool:
    """Does shell ``text`` reference the variable ``name`` (``$NAME``, ``${NAME}``, ``${NAME:-x}``)?"""
    return re.search(r"\$(?:\{" + re.escape(name) + r"(?:[:}?+-]|\}|$)|" + re.escape(name) + r"(?![A-Za-z0-9_]))",
                     text) is not None


@dataclass
class NpmrcSource:
    """Where a stage's .npmrc comes from."""

    kind: str  # "copy" | "write"
    ins: Instruction
    path: str  # absolute path in the image
    word: Word | None = None  # the COPY source word
    cmds: list[ShellCommand] = field(default_factory=list)  # the echo/printf commands (kind == "write")
    context_path: str | None = None  # the .npmrc's path in the build context (kind == "copy")


def join_path(base: str, rel: str) -> str:
    return posixpath.normpath(posixpath.join(base, rel))


def _home(user: str | None) -> str | None:
    if user is None or is_root_user(user):
        return "/root"
    if user.split(":", 1)[0] in ("node", "1000"):
        return "/home/node"
    return None


def npmrc_path(path: str, workdir: str | None, user: str | None = None) -> str | None:
    """The absolute path in the image of an .npmrc written to ``path``; None when unknown."""
    for home in ("~/", "$HOME/", "${HOME}/"):
        if path.startswith(home):
            h = _home(user)
            return None if h is None else join_path(h, path[len(home):])
    if "$" in path:
        return None
    if path.startswith("/"):
        return join_path("/", path)
    if workdir is None:
        # no WORKDIR: npm reads the user config (~/.npmrc) from any directory
        h = _home(user)
        return None if h is None else join_path(h, ".npmrc") if clean_context_path(path) == ".npmrc" else None
    return join_path(workdir, path)


def token_form(doc: Document, sources: list[NpmrcSource], removals, users: list[Instruction],
                candidates) -> dict[str, str] | None:
    """``{variable: secret id}`` when the .npmrc is written, used and removed in one RUN from
    build arguments: the RUN then keeps writing it and reads each token from a secret mount
    (``$(cat /run/secrets/<id>)``).  None when another form is needed."""
    if not sources or any(s.kind != "write" for s in sources) or not removals:
        return None
    run = sources[0].ins
    if any(s.ins.index != run.index for s in sources) or any(r[0].index != run.index for r in removals):
        return None
    if [u.index for u in users] != [run.index]:
        return None
    writes = [c for s in sources for c in s.cmds]
    rms = [c for _i, c in removals]
    pms = [c for c in (run.shell.simple_commands or ()) if c.words and c.program in NPM_CONFIG_READERS]
    last_write = max(c.all_words[0].span.start for c in writes)
    first_rm = min(c.all_words[0].span.start for c in rms)
    if not pms or any(not (last_write < c.all_words[0].span.start < first_rm) for c in pms):
        return None
    args = {n for ins, _k, used in candidates if ins.keyword == "ARG" for n, _w in used}
    secret_vars = {n for _ins, _k, used in candidates for n, _w in used}
    out: dict[str, str] = {}
    for c in writes:
        for _s, _e, name, mod, quote in variable_refs(doc.source, c.all_words):
            if name not in secret_vars:
                continue
            if mod or quote == "'" or name not in args:
                return None
            out[name] = name.lower()
    return out or None


def dockerignore_fix(code: str, doc: Document, ctx: Context, first: NpmrcSource,
                     context_path: str) -> Fix | None:
    """Keep the copied .npmrc out of the build context when a later whole-folder COPY would put it
    in a layer now that its own COPY is gone (DFX011 adds the same entry when it runs: the file is
    read first, so the entry is never added twice)."""
    if ctx.context_dir is None:
        return None
    if ctx.dockerfile is not None and ctx.file_text(f"{ctx.dockerfile.name}.dockerignore") is not None:
        return None
    parents = {"."} | {context_path.rsplit("/", 1)[0]} if "/" in context_path else {"."}
    takes = False
    for ins in doc.instructions:
        if ins.index <= first.ins.index or ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None:
            continue
        srcs = (ins.json_args or ())[:-1] if ins.is_json else [w.value for w in copy_sources(ins) or ()]
        if any(clean_context_path(x) in parents for x in srcs):
            takes = True
            break
    if not takes:
        return None
    current = ctx.file_text(".dockerignore")
    if dockerignore_matches(current, context_path):
        return None
    cur = current or ""
    nl = "\r\n" if "\r\n" in cur else "\n"
    prefix = ("" if not cur or cur.endswith(("\n", "\r")) else nl) + (nl if cur.strip() else "")
    text = (f"{prefix}# Added by dockerfix (DFX009): the .npmrc is a build secret now, a COPY must not take it"
            f"{nl}{context_path}{nl}")
    return Fix(code, f"add {context_path} to .dockerignore: a later COPY of the whole folder would put it in a layer",
               first.ins.line, (Edit.insert(len(cur), text),), Applicability.UNSAFE, path=".dockerignore")
