"""npm/yarn/pnpm/bun commands inside RUN lines: which tool, which action, its options and
package names, with source spans for every word (shared by DFX004, DFX005, DFX010, DFX011)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Iterable

from dockerfix.fixer.commands import ShellCommand
from dockerfix.fixer.context import Context
from dockerfix.fixer.edits import Edit
from dockerfix.fixer.document import Document, Instruction, Span, Stage, Word

#: The package managers that install from a lockfile, and the lockfile kinds each one reads
#: (``Context.lock_kind``).
LOCK_KINDS = {"npm": ("npm",), "yarn": ("yarn-v1", "yarn-berry"), "pnpm": ("pnpm",)}
#: Package managers, and the one-off runners that come with them.
PACKAGE_MANAGERS = frozenset({"npm", "yarn", "pnpm", "bun"})
PACKAGE_RUNNERS = frozenset({"npx", "pnpx", "bunx"})
#: Every program that reads the project's npm configuration (``.npmrc``).
NPM_CONFIG_READERS = PACKAGE_MANAGERS | PACKAGE_RUNNERS | {"corepack"}

#: yarn/pnpm subcommands that are not scripts (``yarn X`` otherwise runs the script X).
PM_BUILTINS = frozenset({
    "install", "add", "remove", "workspaces", "workspace", "cache", "config", "global", "import", "init", "dlx",
    "exec", "bin", "info", "why", "list", "ls", "prune", "rebuild", "store", "link", "unlink", "pack", "publish",
    "set", "plugin", "node", "up", "upgrade", "audit", "outdated", "fetch", "deploy", "i", "ci",
})

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


def package_manager_commands(ins: Instruction) -> list[PackageManagerCommand]:
    """Every npm/yarn/pnpm/bun command of a shell-form RUN, with source spans for its words.
    ``corepack yarn ...`` and ``corepack pnpm ...`` are seen as yarn/pnpm."""
    return package_manager_commands_of(ins.commands)


def package_manager_commands_of(commands: Iterable[ShellCommand]) -> list[PackageManagerCommand]:
    """:func:`package_manager_commands` for given commands (a heredoc script's, for instance)."""
    out = []
    for cmd in commands:
        words = list(cmd.words)
        if not words:
            continue
        name = words[0].value.rsplit("/", 1)[-1]
        if name == "corepack" and len(words) > 1 and words[1].value in ("yarn", "pnpm", "npm"):
            words = words[1:]
            name = words[0].value
        if name not in PACKAGE_MANAGERS:
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


# -- which npm the base image ships -----------------------------------------------------------------

#: Codenames of the official node image's LTS tags -> major.
NODE_CODENAMES = {"argon": 4, "boron": 6, "carbon": 8, "dubnium": 10, "erbium": 12, "fermium": 14,
                  "gallium": 16, "hydrogen": 18, "iron": 20, "jod": 22, "krypton": 24}


def base_node_version(doc: Document, stage: Stage) -> tuple[bool, int | None, int | None]:
    """``(official, major, minor)`` of the Node.js a stage is built from, read from the official
    node image's tag (``node:14``, ``node:16.3-alpine``, ``node:fermium``); ``official`` is False
    for other images (npm version unknown) and ``major`` None for floating tags (``lts``,
    ``latest``, ``alpine``: a current npm)."""
    from ._images import base_image

    base = base_image(doc, stage)
    if base.reason or not base.is_node:
        return False, None, None
    head = (base.tag or "latest").split("-", 1)[0].lower()
    if head in NODE_CODENAMES:
        return True, NODE_CODENAMES[head], None
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?(?:\.\d+)?", head)
    if not m:
        return True, None, None
    return True, int(m.group(1)), int(m.group(2)) if m.group(2) else None


def npm_without_omit(doc: Document, stage: Stage) -> str | None:
    """Why npm in ``stage`` does not understand ``--omit=dev`` (npm 6, shipped up to Node.js 14;
    it ignores the flag and installs devDependencies), or None."""
    official, major, _minor = base_node_version(doc, stage)
    if official and major is not None and major <= 14:
        return f"the base image's Node.js {major} ships npm 6, which does not know --omit=dev"
    return None


def npm_version_floor(doc: Document, stage: Stage) -> int:
    """The lowest npm major the stage's base image can ship, from the official node image's tag
    (Node.js 15 and later ship npm 7+; a floating tag such as ``lts`` a current one); 0 when
    unknown (another image, or an older Node.js)."""
    official, major, _minor = base_node_version(doc, stage)
    if not official:
        return 0
    if major is None or major >= 15:
        return 7
    return 6 if major >= 10 else 0


def npm_without_pkg(doc: Document, stage: Stage) -> str | None:
    """Why ``npm pkg`` (npm >= 7.20: Node.js 16.6 and later) cannot be shown to exist in ``stage``, or None."""
    official, major, minor = base_node_version(doc, stage)
    if not official:
        return "the base image is not the official node image, so its npm version (`npm pkg` needs npm 7.20) is unknown"
    if major is not None and (major < 16 or major == 16 and minor is not None and minor < 6):
        return f"the base image's Node.js {major}{'.' + str(minor) if minor is not None else ''} ships an npm " \
               "older than 7.20, which has no `npm pkg`"
    return None


# -- global installs ----------------------------------------------------------------------------------

#: Packages whose global install serves the installs themselves (package managers, native-build
#: helpers): a stage that installs dependencies keeps them.
INSTALL_TOOLS = frozenset({"npm", "yarn", "pnpm", "bun", "corepack", "node-gyp", "node-pre-gyp",
                           "@mapbox/node-pre-gyp", "prebuild-install", "node-gyp-build"})


def global_packages(cmd: PackageManagerCommand) -> list[str] | None:
    """The package specs a global install installs (``npm install -g a b@1``, ``yarn global add
    a``, ``pnpm add -g a``), or None when ``cmd`` is not a global install."""
    if cmd.tool == "yarn" and cmd.sub is not None and cmd.sub.value == "global":
        if cmd.positionals and cmd.positionals[0].value == "add":
            return [w.value for w in cmd.positionals[1:]]
        return None
    if cmd.action == "install" and (cmd.has_option("-g", "--global") or "--location=global" in cmd.option_values):
        return [w.value for w in cmd.positionals]
    return None


def package_name(spec: str) -> str | None:
    """The registry name of an install spec (``@nestjs/cli@10`` -> ``@nestjs/cli``, ``pm2@5`` ->
    ``pm2``), or None for specs that name no registry package (git URLs, tarballs, folders,
    aliases, variables)."""
    if not spec or "$" in spec or ":" in spec or spec.startswith((".", "/", "~")) or spec.endswith((".tgz", ".tar.gz")):
        return None
    if spec.startswith("@"):
        at = spec.find("@", 1)
        name = spec if at == -1 else spec[:at]
        return name if name.count("/") == 1 else None
    name = spec.split("@", 1)[0]
    return None if "/" in name else name


# -- npm's devDependency flags ------------------------------------------------------------------------

#: Deprecated spellings of ``--omit=dev`` (npm reads ``-production`` as ``--production``).
NPM_LEGACY_PROD = ("--production", "--prod", "--only=production", "--only=prod", "--production=true",
                   "-production", "-only=production", "-only=prod")
#: ``--only`` values npm 6 read as "devDependencies only" and npm 7+ ignore (invalid there).
NPM_DEAD_ONLY = ("--only=dev", "--only=development", "-only=dev")
#: Options that ask for devDependencies (or set --omit to something the user chose).
NPM_KEEP_DEV = ("--production=false", "--include=dev", "--omit=", "--also=dev", "--also=development", "--dev")


@dataclass(frozen=True)
class NpmDevFlags:
    """How an npm install's options spell what it does with devDependencies; each entry is the
    option's words (``--only=prod``, or ``--only`` ``prod``)."""

    legacy: list[tuple[Word, ...]]  # --production, --only=prod...: deprecated spellings of --omit=dev
    omit: list[tuple[Word, ...]]  # --omit=dev / --omit dev
    dead_only: list[tuple[Word, ...]]  # --only=dev: npm 6 "devDependencies only", ignored by npm 7+
    keeps: bool  # --include=dev, --also=dev, --production=false...: devDependencies asked for


def npm_dev_flags(cmd: PackageManagerCommand) -> NpmDevFlags:
    opts = list(cmd.options)
    pairs = list(zip(opts, opts[1:]))
    legacy: list[tuple[Word, ...]] = [(w,) for w in opts if w.value in NPM_LEGACY_PROD]
    legacy += [(a, b) for a, b in pairs if a.value in ("--only", "-only") and b.value in ("production", "prod")]
    omit: list[tuple[Word, ...]] = [(w,) for w in opts if w.value == "--omit=dev"]
    omit += [(a, b) for a, b in pairs if a.value == "--omit" and b.value == "dev"]
    dead: list[tuple[Word, ...]] = [(w,) for w in opts if w.value in NPM_DEAD_ONLY]
    dead += [(a, b) for a, b in pairs if a.value in ("--only", "-only") and b.value in ("dev", "development")]
    vals = [w.value for w in opts]
    keeps = any(v.startswith(NPM_KEEP_DEV) and v != "--omit=dev" for v in vals) or any(
        a.value in ("--include", "--also") and b.value in ("dev", "development") for a, b in pairs)
    order = lambda groups: sorted(groups, key=lambda g: g[0].span.start)  # noqa: E731
    return NpmDevFlags(order(legacy), order(omit), order(dead), keeps)


def respell_omit_dev(group: tuple[Word, ...]) -> list[Edit]:
    """``--production`` -> ``--omit=dev``; ``--only prod`` -> ``--omit dev``."""
    if len(group) == 2:
        return [Edit.replace(group[0].span, "--omit"), Edit.replace(group[1].span, "dev")]
    return [Edit.replace(group[0].span, "--omit=dev")]


def delete_option(doc: Document, cmd: PackageManagerCommand, group: tuple[Word, ...]) -> Edit | None:
    """Delete an option's words with the blank (and line continuations) before them, or None when
    that would touch a comment or anything but blanks."""
    words = list(cmd.command.all_words)
    idx = next((i for i, w in enumerate(words) if w.span == group[0].span), 0)
    if idx == 0:
        return None
    start = words[idx - 1].span.end
    gap = doc.source[start:group[0].span.start]
    inner = doc.source[group[0].span.end:group[-1].span.start]
    blank = " \t\r\n" + doc.escape
    if any("#" in g or g.strip(blank) for g in (gap, inner)) or not gap:
        return None
    return Edit.delete(Span(start, group[-1].span.end))


def drop_dead_only(doc: Document, cmd: PackageManagerCommand, dead: list[tuple[Word, ...]],
                   tidy: list[str]) -> list[Edit]:
    """Delete ``--only=dev`` next to ``--omit=dev``: npm 7 and later accept only ``prod`` and
    ``production`` for ``--only`` and ignore any other value (npm 6 read it as "devDependencies
    only"), so it contradicts the install's meaning without changing it."""
    edits = [delete_option(doc, cmd, g) for g in dead]
    if not dead or not all(edits):
        return []
    tidy.append(f"drop `{' '.join(w.value for w in dead[0])}`, which npm 7 and later ignore (only "
                "`--only=prod` has a meaning there)")
    return [e for e in edits if e is not None]


def one_omit_dev(doc: Document, cmd: PackageManagerCommand, flags: NpmDevFlags, tidy: list[str]) -> list[Edit]:
    """Edits that leave a production-only npm install (npm >= 7) with one ``--omit=dev``: the
    deprecated spellings (``--production``, ``--only=prod``) respelled or, when repeated, removed,
    and a contradicting ``--only=dev`` removed.  ``tidy`` gets the message parts."""
    edits: list[Edit] = []
    groups = sorted(flags.legacy + flags.omit, key=lambda g: g[0].span.start)
    if not groups:
        return edits
    keep = flags.omit[0] if flags.omit else groups[0]
    respelled = removed = False
    for g in groups:
        if g is keep:
            if g in flags.legacy:
                edits += respell_omit_dev(g)
                respelled = True
            continue
        gone = delete_option(doc, cmd, g)
        if gone is not None:
            edits.append(gone)
            removed = True
        elif g in flags.legacy:  # cannot be removed cleanly: at least the current spelling
            edits += respell_omit_dev(g)
            respelled = True
    if respelled:
        tidy.append("spell the deprecated production flag as --omit=dev")
    if removed:
        tidy.append("keep a single --omit=dev")
    return edits + drop_dead_only(doc, cmd, flags.dead_only, tidy)


def yarn_berry_evidence(ctx: Context, *, lockfile: bool = False) -> str | None:
    """Why the build context says the project runs yarn berry (2+), or None: ``packageManager``
    (``yarn@1`` says it does not), with ``lockfile`` a berry ``yarn.lock``, then ``.yarnrc.yml``
    or a committed ``.yarn/releases/yarn-*``."""
    pm = ctx.package.package_manager if ctx.package else None
    m = re.match(r"yarn@(\d+)", pm or "")
    if m:
        return f"packageManager `{pm}`" if int(m.group(1)) >= 2 else None
    if lockfile and ctx.lock_kind == "yarn-berry":
        return "a yarn berry yarn.lock"
    if ctx.yarnrc_yml is not None:
        return ".yarnrc.yml"
    release = next((r for r in ctx.yarn_releases if r.startswith("yarn-")), None)
    return f".yarn/releases/{release}" if release else None
