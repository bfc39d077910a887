"""Small helpers shared by transforms: shell-word analysis and text layout matching the file."""

from __future__ import annotations

import json
import shlex

from dockerfix.fixer.document import Document, Instruction

#: Characters that make a shell command depend on the shell (expansion, control, redirection).
SHELL_META = set("$`|&;<>()*?[]{}~!\\\n")


def shell_reason(cmd: str) -> str | None:
    """Why ``cmd`` needs a shell to run as intended, or None if it is plain words."""
    quote = ""
    for i, ch in enumerate(cmd):
        if quote == "'":
            if ch == "'":
                quote = ""
            continue
        if quote == '"':
            if ch == '"':
                quote = ""
            elif ch in "$`":
                return "expands variables or commands at run time"
            elif ch == "\\":
                return "uses backslash escapes"
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "$" or ch == "`":
            return "expands variables or commands at run time"
        elif ch in "|&;":
            return "chains commands (&&, ||, ;, | or &)"
        elif ch in "<>":
            return "redirects input or output"
        elif ch in "*?[":
            return "uses filename globbing"
        elif ch in "(){}!":
            return "uses shell grouping or operators"
        elif ch == "~" and (i == 0 or cmd[i - 1] in " \t="):
            return "uses ~ home expansion"
        elif ch == "#" and (i == 0 or cmd[i - 1] in " \t"):
            return "contains a shell comment"
        elif ch == "\\":
            return "uses backslash escapes"
    if quote:
        return "has an unterminated quote"
    return None


def plain_words(cmd: str) -> list[str] | None:
    """The argv a POSIX shell would run for ``cmd``, when it is plain words; else None."""
    if shell_reason(cmd) is not None:
        return None
    try:
        words = shlex.split(cmd, posix=True)
    except ValueError:
        return None
    return words or None


def json_array(values: list[str] | tuple[str, ...]) -> str:
    """Exec-form text in Docker's documented style: ``["node", "server.js"]``."""
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def keyword(doc: Document, word: str, like: Instruction | None = None) -> str:
    """An instruction keyword in the case the file uses (lower-case files stay lower-case)."""
    ref = like or (doc.instructions[0] if doc.instructions else None)
    if ref is not None and ref.keyword_as_written.islower():
        return word.lower()
    return word.upper()

# imports for the helpers below (kept here so this block can be appended independently)
import re  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

from dockerfix.fixer.context import Context  # noqa: E402
from dockerfix.fixer.document import Stage  # noqa: E402
from dockerfix.fixer.edits import Edit  # noqa: E402
from dockerfix.fixer.imageref import ImageRefError  # noqa: E402
from dockerfix.fixer.imageref import parse as parse_image_ref  # noqa: E402


# -- base image classification and layout (shared by the non-root, init-process and pinning passes) --

_VAR_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_DEBIAN_CODENAMES = ("trixie", "bookworm", "bullseye", "buster", "stretch", "jessie")
_ROOT_USERS = {"root", "0"}
#: Package managers and the distro family they give away when an earlier RUN uses them.
_PKG_HINTS = (("apk", "alpine"), ("apt-get", "debian"), ("apt", "debian"))


def expand_args(doc: Document, text: str, stage: Stage | None = None) -> str | None:
    """``text`` with ``$NAME`` / ``${NAME}`` / ``${NAME:-default}`` replaced by the default values
    of global ARGs (and, for a stage, ARGs declared in it before use); None when one cannot be
    resolved without build arguments (an ARG with no default, or an unknown name)."""
    values: dict[str, str | None] = dict(doc.global_args)
    if stage is not None:
        for ins in stage.instructions:
            if ins.keyword == "ARG":
                for w in ins.words:
                    name, eq, default = w.value.partition("=")
                    if eq or name not in values:
                        values[name] = default if eq else values.get(name)
    failed = False

    def sub(m: re.Match) -> str:
        nonlocal failed
        name = m.group(1) or m.group(3)
        val = values.get(name)
        if val is None:
            if m.group(2) is not None:
                return m.group(2)
            failed = True
            return ""
        return val

    out = _VAR_RE.sub(sub, text)
    return None if failed or "$" in out else out


def stage_chain(doc: Document, stage: Stage) -> list[Stage]:
    """The stage and the stages it is built ``FROM`` (by stage name), nearest first."""
    chain = [stage]
    seen = {stage.index}
    cur = stage
    while True:
        base = cur.base.lower()
        parent = next((s for s in doc.stages[: cur.index] if s.name == base), None)
        if parent is None or parent.index in seen:
            return chain
        chain.append(parent)
        seen.add(parent.index)
        cur = parent


@dataclass(frozen=True)
class BaseImage:
    """What a stage is ultimately built from.

    ``image`` is the image reference after following stage names and expanding ARG defaults
    (None when that is impossible; ``reason`` says why).  ``is_node`` is true for the official
    Docker Hub ``node`` image (any tag or digest).  ``distro`` is ``"alpine"``, ``"debian"`` or
    None (unknown); it comes from the image name and tag, else from package managers used by
    RUN lines of the stages involved.  ``distroless`` marks images without a shell or package
    manager (``gcr.io/distroless/*``, Chainguard).  ``chain`` lists the stages, nearest first.
    """

    image: str | None
    is_node: bool
    distro: str | None
    distroless: bool
    chain: tuple[Stage, ...] = field(repr=False)
    reason: str | None = None

    @property
    def tag(self) -> str | None:
        if self.image is None:
            return None
        try:
            return parse_image_ref(self.image).tag
        except ImageRefError:
            return None


def base_image(doc: Document, stage: Stage) -> BaseImage:
    """Classify the image a stage is built from (see :class:`BaseImage`)."""
    chain = stage_chain(doc, stage)
    root = chain[-1]
    raw = root.base
    image = expand_args(doc, raw) if "$" in raw else raw
    reason = None
    ref = None
    if image is None:
        reason = f"the base image `{raw}` depends on a build argument without a default"
    elif image.lower() == "scratch":
        reason = "the stage is built FROM scratch"
    else:
        try:
            ref = parse_image_ref(image)
        except ImageRefError as e:
            reason = f"the base image `{image}` is not a valid reference ({e})"
    is_node = ref is not None and ref.repository == "docker.io/library/node"
    distroless = ref is not None and (
        ref.repository.startswith("gcr.io/distroless/") or ref.repository.startswith("cgr.dev/chainguard/")
    )
    distro = None
    if ref is not None and not distroless:
        tag = (ref.tag or "latest").lower()
        last = ref.path.rsplit("/", 1)[-1]
        if "alpine" in tag or last == "alpine":
            distro = "alpine"
        elif last in ("debian", "ubuntu") or any(c in tag for c in _DEBIAN_CODENAMES):
            distro = "debian"
        elif is_node and not any(w in tag for w in ("windows", "nanoserver")):
            distro = "debian"  # node:22, node:lts, node:22-slim, node:iron are Debian images
    if distro is None and not distroless:
        for st in reversed(chain):
            for ins in st.instructions:
                if ins.keyword != "RUN":
                    continue
                words = re.findall(r"[\w.-]+", ins.logical + "".join(h.body for h in ins.heredocs))
                for tool, family in _PKG_HINTS:
                    if tool in words:
                        distro = distro or family
    return BaseImage(image=image, is_node=is_node, distro=distro, distroless=distroless, chain=tuple(chain),
                     reason=reason)


def is_root_user(value: str) -> bool:
    """Does a ``USER`` value (``name[:group]`` or ``uid[:gid]``) select root?"""
    return value.split(":", 1)[0].strip() in _ROOT_USERS


def effective_user(doc: Document, stage: Stage) -> Instruction | None:
    """The last ``USER`` instruction in force at the end of ``stage`` (following FROM-stage
    names), or None when the stage runs as the base image's user."""
    for st in stage_chain(doc, stage):
        users = [i for i in st.instructions if i.keyword == "USER"]
        if users:
            return users[-1]
    return None


def line_insert_offset(doc: Document, ins: Instruction) -> int:
    """Where a new line belongs that should come before ``ins``: the start of the comment block
    directly above it (comments describe the instruction below them), else its own line start."""
    idx = next(i for i, s in enumerate(doc.segments) if s.kind == "instruction" and s.span.start == ins.span.start)
    start = doc.line_start(ins.line)
    for seg in reversed(doc.segments[:idx]):
        if seg.kind != "comment":
            break
        start = seg.span.start
    return start


def new_line_before(doc: Document, ins: Instruction, text: str) -> Edit:
    """An insertion of the line ``text`` (no newline) before ``ins`` with its indentation."""
    return Edit.insert(line_insert_offset(doc, ins), doc.line_indent(ins) + text + doc.newline)


def new_line_after(doc: Document, ins: Instruction, text: str) -> Edit:
    """An insertion of the line ``text`` (no newline) after ``ins`` (after its whole span,
    continuation lines and heredoc bodies included) with its indentation."""
    return Edit.insert(ins.span.end, doc.newline + doc.line_indent(ins) + text)


#: ``CMD`` argv forms that run the ``start`` script of package.json.
_START_FORMS = {
    ("npm", "start"): "npm", ("npm", "run", "start"): "npm", ("npm", "run-script", "start"): "npm",
    ("yarn", "start"): "yarn", ("yarn", "run", "start"): "yarn",
    ("pnpm", "start"): "pnpm", ("pnpm", "run", "start"): "pnpm",
}


def start_script_runner(argv: list[str] | tuple[str, ...]) -> str | None:
    """``"npm"``/``"yarn"``/``"pnpm"`` when ``argv`` is exactly a ``start`` invocation of that
    package manager (``npm start``, ``npm run start``, ``yarn start``, ``pnpm start``...)."""
    return _START_FORMS.get(tuple(argv))


def start_script_command(ctx: Context, runner: str = "npm") -> tuple[list[str] | None, str]:
    """The argv ``<runner> start`` ends up running, when it is a plain ``node <file> [args]``.

    Returns ``(argv, description)`` on success and ``(None, reason)`` otherwise.  A missing
    ``scripts.start`` means ``node server.js`` for npm and pnpm (their documented default) when
    ``server.js`` exists in the build context.  ``prestart``/``poststart`` scripts, environment
    assignments, ``&&`` chains, ``nodemon``/``ts-node`` and the like are not plain."""
    if ctx.package is None:
        return None, ctx.package_error or "no package.json in the build context"
    scripts = ctx.package.scripts
    hooks = [h for h in ("prestart", "poststart") if h in scripts]
    if hooks:
        return None, f"package.json also has {' and '.join('scripts.' + h for h in hooks)}, which `{runner} start` runs too"
    start = scripts.get("start")
    if start is None:
        if runner in ("npm", "pnpm") and ctx.read_file("server.js") is not None:
            return ["node", "server.js"], f"`{runner} start` without scripts.start runs `node server.js`"
        return None, "package.json has no scripts.start"
    words = plain_words(start)
    if words is None or words[0] != "node" or node_entry_file(words) is None:
        why = shell_reason(start)
        detail = f"it {why}" if why else "not a plain `node <file>` command"
        return None, f"scripts.start is `{start}`: {detail}"
    return words, f"scripts.start is `{start}`"


def node_entry_file(argv: list[str] | tuple[str, ...]) -> str | None:
    """The script file of a ``node [options] <file> [args]`` argv (options taking a value, such as
    ``-r mod``, are skipped); None for ``node -e ...``, the REPL or a non-node command."""
    if not argv or argv[0].rsplit("/", 1)[-1] != "node":
        return None
    takes_value = {"-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file",
                   "--title", "--conditions", "-C", "--inspect-port", "--max-old-space-size"}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("-e", "--eval", "-p", "--print", "-i", "--interactive", "-"):
            return None
        if a == "--":
            return argv[i + 1] if i + 1 < len(argv) else None
        if a.startswith("-"):
            i += 2 if a in takes_value else 1
            continue
        return a
    return None
