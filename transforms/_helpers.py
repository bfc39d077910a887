"""Small helpers shared by transforms: shell-word analysis and text layout matching the file."""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from functools import lru_cache

from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.document import Document, Instruction, Span, Stage, Word
from dockerfix.fixer.edits import Edit
from dockerfix.fixer.imageref import ImageRefError
from dockerfix.fixer.imageref import parse as parse_image_ref


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


#: Words a shell gives a meaning of its own when they come first: builtins and reserved words
#: (``exec`` alone is handled: ``exec node x`` runs exactly ``node x``).
SHELL_BUILTINS = frozenset(
    ". : [ alias bg break cd case command continue do done elif else esac eval exit export false fg fi "
    "for function getopts hash if in jobs kill local read readonly return select set shift source test "
    "then time times trap true type ulimit umask unalias unset until wait while".split()
)
_ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def command_reason(words: list[str]) -> str | None:
    """Why a plain-word command still needs a shell: a leading ``VAR=value`` or a builtin."""
    if words and _ASSIGNMENT_RE.match(words[0]):
        return f"sets {words[0].split('=', 1)[0]} for the command (a shell feature)"
    if words and words[0] in SHELL_BUILTINS:
        return f"starts with the shell builtin `{words[0]}`"
    return None


def plain_words(cmd: str) -> list[str] | None:
    """The argv a POSIX shell would run for ``cmd``, when it is plain words; else None.
    ``exec node x`` is ``node x`` (exec only replaces the shell, which exec form has not)."""
    if shell_reason(cmd) is not None:
        return None
    try:
        words = shlex.split(cmd, posix=True)
    except ValueError:
        return None
    while words and words[0] == "exec" and len(words) > 1 and not words[1].startswith("-"):
        words = words[1:]
    if command_reason(words) is not None:
        return None
    return words or None


#: Programs that already are an init, by the basename of the first argv word.
INITS = frozenset({"dumb-init", "tini", "tini-static", "docker-init", "catatonit", "init", "s6-svscan"})


def argv_of(ins: Instruction | None) -> list[str] | None:
    """The argv of a CMD/ENTRYPOINT: its JSON array, or its words when they are plain (None
    when the shell form needs a shell)."""
    if ins is None:
        return None
    if ins.is_json:
        return list(ins.json_args or ())
    return plain_words(ins.args_text)


def final_command(doc: Document) -> tuple[Instruction | None, Instruction | None]:
    """(ENTRYPOINT, CMD) the image starts with: the last of each in the final stage or the stages
    it is built ``FROM`` (a stage's own instruction wins over an inherited one)."""
    final = doc.final_stage
    if final is None:
        return None, None
    instrs = [i for st in stage_chain(doc, final) for i in st.instructions]
    ep = max((i for i in instrs if i.keyword == "ENTRYPOINT"), key=lambda i: i.index, default=None)
    cmd = max((i for i in instrs if i.keyword == "CMD"), key=lambda i: i.index, default=None)
    return ep, cmd


def command_words(ins: Instruction) -> list[str]:
    """The words of a CMD/ENTRYPOINT for detection (which program, which file): its argv, or a
    plain whitespace split when the shell form needs a shell.  Never for writing an argv back."""
    argv = argv_of(ins)
    return argv if argv else ins.args_text.split()


def is_init(argv: list[str] | None) -> bool:
    return bool(argv) and argv[0].rsplit("/", 1)[-1] in INITS


def strip_init(argv: list[str]) -> list[str]:
    """``["dumb-init", "--", "node", "x"]`` -> ``["node", "x"]`` (the init's own options too)."""
    if not is_init(argv):
        return argv
    rest = argv[1:]
    while rest and rest[0].startswith("-"):
        stop = rest[0] == "--"
        rest = rest[1:]
        if stop:
            break
    return rest


def json_array(values: list[str] | tuple[str, ...]) -> str:
    """Exec-form text in Docker's documented style: ``["node", "server.js"]``."""
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def keyword(doc: Document, word: str, like: Instruction | None = None) -> str:
    """An instruction keyword in the case the file uses (lower-case files stay lower-case)."""
    ref = like or (doc.instructions[0] if doc.instructions else None)
    if ref is not None and ref.keyword_as_written.islower():
        return word.lower()
    return word.upper()


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
    continuation lines and heredoc bodies included) with its indentation.

    When ``ins`` is the last instruction and its last line ends with the escape character (a
    continuation into the end of the file), a new line would be joined to it; the dangling
    escape is removed in the same edit."""
    dangling = _dangling_escape(doc, ins)
    if dangling is not None:
        rest = doc.source[dangling + 1 : ins.span.end]
        return Edit(dangling, ins.span.end, rest + doc.newline + doc.line_indent(ins) + text)
    return Edit.insert(ins.span.end, doc.newline + doc.line_indent(ins) + text)


def _dangling_escape(doc: Document, ins: Instruction) -> int | None:
    """Offset of an escape character that continues ``ins`` into the end of the file, if any."""
    if ins.heredocs or ins.index != len(doc.instructions) - 1:
        return None
    for number in range(ins.end_line, ins.line - 1, -1):
        start = doc.line_start(number)
        content = doc.source[start:].split("\n", 1)[0].rstrip("\r")
        if not content.strip(" \t") or content.lstrip(" \t").startswith("#"):
            if number != ins.line:
                continue
        stripped = content.rstrip(" \t")
        continues = stripped.endswith(doc.escape) and not stripped.endswith(doc.escape * 2)
        return start + len(stripped) - 1 if continues else None
    return None


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


# ---------------------------------------------------------------------------------------------
# Package-manager commands inside RUN lines, and steps that need devDependencies
# (shared by DFX004 production-deps and DFX005 node-env; others may use them).


#: Words that separate simple commands in a shell-form RUN.
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", "{", "}", ";;"})
#: Words that may precede the program of a simple command.
_PREFIX_WORDS = frozenset({"then", "do", "else", "elif", "if", "while", "until", "!", "time", "exec", "command"})
_REDIRECT_RE = re.compile(r"^\d*(?:>>?|<<?|>&|<&|&>)")


@dataclass(frozen=True)
class ShellCommand:
    """One simple command of a shell-form RUN: its argv words (leading ``VAR=value`` assignments,
    ``if``/``then``-style keywords and redirections left out), each with its span in the source."""

    words: tuple[Word, ...]

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(w.value for w in self.words)

    @property
    def start(self) -> int:
        return self.words[0].span.start

    @property
    def end(self) -> int:
        return self.words[-1].span.end


def shell_commands(ins: Instruction) -> list[ShellCommand]:
    """The simple commands of a shell-form ``RUN`` (split on ``&&``, ``||``, ``;``, ``|``...), in
    order.  Empty for exec-form RUNs; heredoc bodies are not looked into."""
    if ins.keyword != "RUN" or ins.is_json:
        return []
    out: list[ShellCommand] = []
    cur: list[Word] = []
    skip_next = False

    def flush() -> None:
        if cur:
            out.append(ShellCommand(tuple(cur)))
        cur.clear()

    for w in ins.words:
        text = w.text
        if skip_next:
            skip_next = False
            continue
        if text in _SEPARATORS:
            flush()
            continue
        trailing_sep = False
        if text.endswith(";") and not text.endswith("\\;") and len(text) > 1 and text[0] not in "\"'":
            text = text[:-1]
            w = Word(text, w.value[:-1], Span(w.span.start, w.span.end - 1))
            trailing_sep = True
        if text.startswith("<<"):  # heredoc marker: the body is not part of the words
            flush()
            continue
        if _REDIRECT_RE.match(text):
            if _REDIRECT_RE.fullmatch(text):
                skip_next = True  # `> file`: the next word is the target
        elif not cur and (text in _PREFIX_WORDS or _ASSIGNMENT_RE.match(text)):
            pass
        else:
            cur.append(w)
        if trailing_sep:
            flush()
    flush()
    return out


#: npm subcommand aliases (npm's own alias table, trimmed to the ones people write).
_NPM_INSTALL = frozenset({"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "add"})
_NPM_CI = frozenset({"ci", "clean-install", "ic", "install-clean", "isntall-clean"})
#: Options that take their value as the next word (``--loglevel warn``).  Unknown options are
#: taken as booleans, so their value would look like a package name: the command is then left alone.
_VALUE_OPTIONS = frozenset({
    "--loglevel", "--registry", "--cache", "--prefix", "-C", "--dir", "--userconfig", "--workspace", "-w",
    "--omit", "--include", "--only", "--tag", "--cwd", "--filter", "-F", "--network-timeout", "--mutex",
    "--modules-folder", "--cache-folder", "--store-dir", "--reporter", "--fetch-timeout", "--fetch-retries",
})


@dataclass(frozen=True)
class PackageManagerCommand:
    """``npm``/``yarn``/``pnpm``/``bun`` as run inside a RUN line.

    ``action`` is ``install`` (``npm install``/``npm i``/``yarn``/``yarn install``/``pnpm i``...),
    ``ci`` (``npm ci``), ``focus`` (``yarn workspaces focus``), ``run`` or ``other``; ``sub`` is the
    subcommand word (None for a bare ``yarn``); ``options`` are the option words after the tool (with
    the values of options that take one); ``positionals`` are the other words after the subcommand
    (package names for an install)."""

    tool: str
    action: str
    command: ShellCommand
    tool_word: Word
    sub: Word | None
    options: tuple[Word, ...]
    positionals: tuple[Word, ...]

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(w.value for w in self.options)

    def has_option(self, *names: str) -> bool:
        """True when one of ``names`` is given (``--x`` or ``--x=value`` for a bare ``--x``)."""
        for v in self.option_values:
            if v in names:
                return True
            if "=" in v and v.split("=", 1)[0] in names and v.split("=", 1)[1] not in ("false", "0"):
                return True
        return False

    @property
    def is_bare_install(self) -> bool:
        """An install of the project's own dependencies (no package names, not global)."""
        return (self.action in ("install", "ci") and not self.positionals
                and not self.has_option("-g", "--global") and "--location=global" not in self.option_values)

    @property
    def last_word(self) -> Word:
        return self.sub or self.tool_word


_TOOLS = frozenset({"npm", "yarn", "pnpm", "bun", "corepack"})


def package_manager_commands(ins: Instruction) -> list[PackageManagerCommand]:
    """Every npm/yarn/pnpm/bun command of a shell-form RUN, with source spans for its words.
    ``corepack yarn ...`` and ``corepack pnpm ...`` are seen as yarn/pnpm."""
    out = []
    for cmd in shell_commands(ins):
        words = list(cmd.words)
        if not words:
            continue
        name = words[0].value.rsplit("/", 1)[-1]
        if name == "corepack" and len(words) > 1 and words[1].value in ("yarn", "pnpm", "npm"):
            words = words[1:]
            name = words[0].value
        if name not in _TOOLS - {"corepack"}:
            continue
        tool_word = words[0]
        options: list[Word] = []
        rest: list[Word] = []
        sub: Word | None = None
        i = 1
        while i < len(words):
            w = words[i]
            if w.value.startswith("-") and w.value != "-":
                options.append(w)
                if w.value in _VALUE_OPTIONS and i + 1 < len(words):
                    options.append(words[i + 1])
                    i += 1
            elif sub is None:
                sub = w
            else:
                rest.append(w)
            i += 1
        action = "other"
        s = sub.value if sub else None
        if name == "npm":
            action = "install" if s in _NPM_INSTALL else "ci" if s in _NPM_CI else (
                "run" if s in ("run", "run-script", "rum", "urn", "test", "t", "tst", "start", "exec", "x") else "other")
        elif name == "yarn":
            if s is None or s == "install":
                action = "install"
            elif s == "add":
                action = "install"
            elif s == "workspaces" and rest and rest[0].value == "focus":
                action = "focus"
                rest = rest[1:]
            else:
                action = "run"
        elif name == "pnpm":
            action = "install" if s in ("install", "i", "add") else "ci" if s == "ci" else "run"
        elif name == "bun":
            action = "install" if s in ("install", "i", "add") else "run"
        if s == "add" and not rest:
            action = "other"  # `npm add` without a package is not an install of the project
        out.append(PackageManagerCommand(name, action, cmd, tool_word, sub, tuple(options), tuple(rest)))
    return out


#: Tools whose presence means a build or test step (they normally come from devDependencies).
BUILD_TOOLS = frozenset({
    "tsc", "webpack", "babel", "rollup", "esbuild", "tsup", "parcel", "swc", "gulp", "grunt", "jest", "vitest",
    "mocha", "ava", "eslint", "ng", "vue-cli-service", "react-scripts", "nuxt", "nuxi", "astro", "svelte-kit",
    "remix", "gatsby", "ncc", "tsx", "ts-node", "nodemon", "turbo", "nx", "lerna",
})
#: Tools that are builds only with a given subcommand (``next start`` is a runtime command).
BUILD_SUBCOMMANDS = {"next": {"build", "lint"}, "vite": {"build"}, "nest": {"build"}, "prisma": {"generate"},
                     "nuxt": {"build", "generate"}, "astro": {"build"}, "ng": {"build", "test"}}
#: devDependency package -> the command it installs, where the two differ.
_PACKAGE_BINS = {"typescript": "tsc", "@nestjs/cli": "nest", "@angular/cli": "ng", "@babel/cli": "babel",
                 "@swc/cli": "swc", "@vercel/ncc": "ncc", "@vue/cli-service": "vue-cli-service",
                 "@sveltejs/kit": "svelte-kit", "@remix-run/dev": "remix", "webpack-cli": "webpack"}
_RUNNERS = frozenset({"npx", "bunx", "pnpx"})
_NPM_BUILTIN_SCRIPTS = {"test": "test", "t": "test", "tst": "test", "start": "start"}


def dev_binaries(package: PackageJson | None) -> dict[str, str]:
    """Command name -> devDependency that provides it (the package name itself, or its known bin)."""
    out: dict[str, str] = {}
    if package is None:
        return out
    for dep in package.dev_dependencies:
        out[_PACKAGE_BINS.get(dep, dep)] = dep
        if dep in _PACKAGE_BINS:
            out.setdefault(dep, dep)
    return out


def dev_dependency_reason(argv: tuple[str, ...] | list[str], package: PackageJson | None,
                          _depth: int = 0) -> str | None:
    """Why running ``argv`` needs devDependencies (a build, test or dev tool), or None.

    Knows ``npm run X`` / ``npm test`` / ``yarn X`` / ``pnpm X`` (following the script in
    package.json, any script named ``build``, any ``test``), ``npx``/``bunx`` runners, build tools
    (``tsc``, ``next build``, ``vite build``, ``nest build``, ``webpack``, ``babel``...) and any command
    provided by a package listed in ``devDependencies``."""
    argv = [a for a in argv if a]
    if not argv or _depth > 4:
        return None
    head = argv[0].rsplit("/", 1)[-1]
    if head in _RUNNERS or (head in ("yarn", "pnpm") and len(argv) > 1 and argv[1] in ("exec", "dlx")) \
            or (head == "npm" and len(argv) > 1 and argv[1] in ("exec", "x")):
        skip = 1 if head in _RUNNERS else 2
        rest = [a for a in argv[skip:] if not a.startswith("-") and a != "--"]
        return dev_dependency_reason(rest, package, _depth + 1) if rest else None
    scripts = package.scripts if package else {}
    script: str | None = None
    if head in ("npm", "yarn", "pnpm", "bun"):
        words = [a for a in argv[1:] if not a.startswith("-")]
        if not words:
            return None
        sub = words[0]
        if head == "npm" and sub in _NPM_BUILTIN_SCRIPTS:
            script = _NPM_BUILTIN_SCRIPTS[sub]
        elif sub in ("run", "run-script") and len(words) > 1:
            script = words[1]
        elif head in ("yarn", "pnpm") and sub not in ("install", "add", "remove", "workspaces", "workspace",
                                                      "cache", "config", "global", "import", "init", "dlx",
                                                      "exec", "bin", "info", "why", "list", "ls", "prune",
                                                      "rebuild", "store", "link", "unlink", "pack",
                                                      "publish", "set", "plugin", "node", "up", "upgrade",
                                                      "audit", "outdated", "fetch", "deploy", "i", "ci"):
            script = sub
        elif head == "bun" and sub == "run" and len(words) > 1:
            script = words[1]
        if script is None:
            return None
        if script == "test":
            return f"`{' '.join(argv)}` runs the tests"
        if script == "build":
            return f"`{' '.join(argv)}` runs a build"
        body = scripts.get(script)
        if body is None:
            if head in ("yarn", "pnpm") and sub == script:  # `yarn tsc` runs a package binary
                return dev_dependency_reason(words, package, _depth + 1)
            return None
        inner = dev_dependency_reason_of_script(body, package, _depth + 1)
        return f"`{' '.join(argv)}` runs the script {script!r} ({inner})" if inner else None
    if head in BUILD_TOOLS:
        return f"`{' '.join(argv)}` is a build/dev tool"
    if head in BUILD_SUBCOMMANDS and len(argv) > 1 and argv[1] in BUILD_SUBCOMMANDS[head]:
        return f"`{head} {argv[1]}` is a build step"
    dev = dev_binaries(package)
    if head in dev:
        return f"`{head}` comes from the devDependency {dev[head]!r}"
    return None


def dev_dependency_reason_of_script(body: str, package: PackageJson | None, _depth: int = 0) -> str | None:
    """Like :func:`dev_dependency_reason` for a package.json script body (``tsc && node x``)."""
    cmds: list[list[str]] = [[]]
    for tok in re.split(r"(\s+|&&|\|\||[;|&()])", body):
        if not tok or tok.isspace():
            continue
        if tok in ("&&", "||", ";", "|", "&", "(", ")"):
            cmds.append([])
            continue
        tok = tok.strip("'\"")
        if not cmds[-1] and (_ASSIGNMENT_RE.match(tok) or tok in ("cross-env", "dotenv", "--")):
            if tok == "cross-env" and "cross-env" in (package.dev_dependencies if package else {}):
                return "`cross-env` comes from devDependencies"
            continue
        cmds[-1].append(tok)
    for argv in cmds:
        reason = dev_dependency_reason(argv, package, _depth)
        if reason:
            return reason
    return None


def dev_step_in_run(ins: Instruction, package: PackageJson | None, after: int = -1) -> str | None:
    """Why a RUN (from source offset ``after`` on) needs devDependencies, or None."""
    for cmd in shell_commands(ins):
        if cmd.start <= after:
            continue
        reason = dev_dependency_reason(cmd.argv, package)
        if reason:
            return reason
    return None


def is_node_image(ref: str) -> bool:
    """``node``, ``node:22``, ``docker.io/library/node@sha256:...``, ``cgr.dev/chainguard/node``,
    ``gcr.io/distroless/nodejs22-debian12``..."""
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1].split(":", 1)[0].lower()
    return last == "node" or last.startswith("nodejs")


def stage_by_name(doc: Document, name: str) -> Stage | None:
    name = name.lower()
    for s in doc.stages:
        if s.name == name:
            return s
    if name.isdigit() and int(name) < len(doc.stages):
        return doc.stages[int(name)]
    return None


def stage_consumers(doc: Document, stage: Stage) -> list[Stage]:
    """Stages that build on ``stage``: ``FROM stage`` or ``COPY/ADD --from=stage``, transitively."""
    found: list[Stage] = []
    todo = [stage]
    while todo:
        cur = todo.pop()
        keys = {str(cur.index)} | ({cur.name} if cur.name else set())
        for s in doc.stages:
            if s.index <= cur.index or s in found:
                continue
            uses = s.base.lower() in keys or any(
                i.keyword in ("COPY", "ADD") and i.flag("from") is not None
                and (i.flag("from").value or "").lower() in keys for i in s.instructions)
            if uses:
                found.append(s)
                todo.append(s)
    return sorted(found, key=lambda s: s.index)


def copy_sources(ins: Instruction) -> list[Word] | None:
    """The source words of a shell-form COPY/ADD (None for JSON form or heredocs)."""
    if ins.keyword not in ("COPY", "ADD") or ins.is_json or ins.heredocs or len(ins.words) < 2:
        return None
    return list(ins.words[:-1])


def copies_root_file(ins: Instruction, name: str) -> bool:
    """Does a COPY/ADD (from the build context) bring the context's top-level file ``name``?"""
    srcs = copy_sources(ins)
    if srcs is None:
        return False
    for w in srcs:
        v = w.value
        while v.startswith("./"):
            v = v[2:]
        v = v.lstrip("/")
        if v in ("", ".") or v == name or ("/" not in v.rstrip("/") and fnmatch.fnmatchcase(name, v.rstrip("/"))):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# .dockerignore matching with Docker's semantics (moby/patternmatcher, used by BuildKit): lines
# are trimmed, ``#`` lines are comments, ``!`` negates, each pattern is cleaned like Go's
# filepath.Clean and loses a leading ``/``; ``*`` and ``?`` never cross ``/``, ``**`` spans any
# number of directories, ``[...]`` classes and ``\`` escapes work like Go's filepath.Match; a
# pattern that matches a parent directory excludes everything below it; the last match wins.
# (gitignore semantics differ: there a slash-less pattern matches at any depth.)
# Shared by DFX011 dockerignore; others may use them.


def clean_context_path(path: str) -> str:
    """Go's ``filepath.Clean`` for a build-context path, without the leading ``/``: ``./a//b/``
    becomes ``a/b``; the context root is ``.``."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if len(cleaned) > 1 and cleaned.startswith("/"):
        cleaned = cleaned[1:]
    return cleaned


@lru_cache(maxsize=4096)
def docker_pattern_regex(pattern: str) -> "re.Pattern[str]":
    """The regular expression moby/patternmatcher compiles a (cleaned) pattern to (memoized: the
    same few patterns are matched for every file and round)."""
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                out.append(".*" if i >= n else "(.*/)?")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            if i + 1 < n:
                out.append(re.escape(pattern[i + 1]))
                i += 1
            else:
                out.append("\\\\")
        elif ch == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append("\\[")
            else:
                body = pattern[i + 1 : j]
                if body.startswith("^"):
                    body = "!" + body[1:]
                if body.startswith("!"):
                    body = "^" + body[1:].replace("\\", "\\\\")
                else:
                    body = body.replace("\\", "\\\\")
                out.append("[" + body + "]")
                i = j
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    try:
        return re.compile("".join(out))
    except re.error:
        return re.compile("(?!)")  # Docker reports a bad pattern as an error; it matches nothing here


@dataclass(frozen=True)
class IgnorePattern:
    """One ``.dockerignore`` line: the cleaned pattern, whether it is a ``!`` exception, its line."""

    pattern: str
    negated: bool
    line: int

    def matches(self, path: str) -> bool:
        """Does the pattern match ``path`` (cleaned, ``/``-separated) or one of its parent dirs?"""
        rx = docker_pattern_regex(self.pattern)
        if rx.match(path):
            return True
        parts = path.split("/")
        return any(rx.match("/".join(parts[:k])) for k in range(1, len(parts)))


def dockerignore_patterns(text: str | None) -> list[IgnorePattern]:
    """The patterns of a ``.dockerignore`` text, in order (BuildKit's ``ignorefile.ReadAll``)."""
    out: list[IgnorePattern] = []
    for n, raw in enumerate((text or "").lstrip("\ufeff").splitlines(), 1):
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if not line:
            continue
        neg = line.startswith("!")
        if neg:
            line = line[1:].strip()
        if not line:
            continue
        out.append(IgnorePattern(clean_context_path(line), neg, n))
    return out


def dockerignore_matches(text: str | None, path: str) -> bool:
    """Would ``.dockerignore`` ``text`` leave ``path`` (relative to the context) out?  Any depth,
    ``**``, ``!`` exceptions, leading ``/`` and trailing ``/`` handled as BuildKit does."""
    path = clean_context_path(path)
    if path == ".":
        return False
    excluded = False
    for p in dockerignore_patterns(text):
        if p.matches(path):
            excluded = not p.negated
    return excluded
