"""Steps that need devDependencies: build, test and dev tools, scripts that run them, and a start
command that does (shared by DFX004, DFX005 and DFX010)."""

from __future__ import annotations

from dockerfix.fixer.commands import ASSIGNMENT_RE
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.document import Document, Instruction

from ._pkgmanagers import PACKAGE_MANAGERS, PACKAGE_RUNNERS, PM_BUILTINS
from ._shell import script_commands
from ._startcmd import command_words, final_command, selected_package, strip_init, unwrap_shell_c

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
#: Packages with several commands, or commands named unlike the package (beyond ``_PACKAGE_BINS``).
_MORE_BINS = {"pm2": ("pm2", "pm2-runtime", "pm2-dev", "pm2-docker"), "typescript": ("tsc", "tsserver"),
              "ts-node": ("ts-node", "ts-node-esm", "ts-node-script", "ts-node-transpile-only", "ts-node-cwd"),
              "prisma": ("prisma",), "@prisma/cli": ("prisma",), "sequelize-cli": ("sequelize", "sequelize-cli"),
              "typeorm": ("typeorm",), "knex": ("knex",), "@angular/cli": ("ng",)}
_NPM_BUILTIN_SCRIPTS = {"test": "test", "t": "test", "tst": "test", "start": "start"}
#: Runtime commands that compile the project's sources as they start, and the packages they compile
#: with (``nest start`` is ``nest build`` then ``node dist/main``: it needs the project's TypeScript).
COMPILES_AT_START = {("nest", "start"): ("typescript",)}


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


def package_bins(name: str) -> frozenset[str]:
    """The commands a package installs, as far as known: its known bins, else its name (without
    the scope: ``@acme/deploy`` -> ``deploy``, and the full name)."""
    bins = set(_MORE_BINS.get(name, ()))
    if name in _PACKAGE_BINS:
        bins.add(_PACKAGE_BINS[name])
    if not bins:
        bins = {name, name.rsplit("/", 1)[-1]}
    return frozenset(bins)


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
    if head in PACKAGE_RUNNERS or (head in ("yarn", "pnpm") and len(argv) > 1 and argv[1] in ("exec", "dlx")) \
            or (head == "npm" and len(argv) > 1 and argv[1] in ("exec", "x")):
        skip = 1 if head in PACKAGE_RUNNERS else 2
        rest = [a for a in argv[skip:] if not a.startswith("-") and a != "--"]
        return dev_dependency_reason(rest, package, _depth + 1) if rest else None
    scripts = package.scripts if package else {}
    script: str | None = None
    if head in PACKAGE_MANAGERS:
        words = [a for a in argv[1:] if not a.startswith("-")]
        if not words:
            return None
        sub = words[0]
        if head == "npm" and sub in _NPM_BUILTIN_SCRIPTS:
            script = _NPM_BUILTIN_SCRIPTS[sub]
        elif sub in ("run", "run-script") and len(words) > 1:
            script = words[1]
        elif head in ("yarn", "pnpm") and sub not in PM_BUILTINS:
            script = sub
        elif head == "bun" and sub == "run" and len(words) > 1:
            script = words[1]
        if script is None:
            return None
        if script == "test":
            return f"`{' '.join(argv)}` runs the tests"
        if script == "build":
            return f"`{' '.join(argv)}` runs a build"
        for hook in (f"pre{script}", f"post{script}"):  # npm and yarn 1 run them around the script
            inner = dev_dependency_reason_of_script(scripts[hook], package, _depth + 1) if hook in scripts else None
            if inner:
                return f"`{' '.join(argv)}` also runs the script {hook!r} ({inner})"
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
    if package is not None and len(argv) > 1:
        for needed in COMPILES_AT_START.get((head, argv[1]), ()):
            if needed in package.dev_dependencies and needed not in package.dependencies:
                return f"`{head} {argv[1]}` compiles the sources with {needed!r}, a devDependency"
    return None


def dev_dependency_reason_of_script(body: str, package: PackageJson | None, _depth: int = 0) -> str | None:
    """Like :func:`dev_dependency_reason` for a package.json script body (``tsc && node x``)."""
    cmds: list[list[str]] = []
    for words in script_commands(body):
        argv = list(words)
        while argv and (ASSIGNMENT_RE.match(argv[0]) or argv[0] in ("cross-env", "dotenv", "--")):
            if argv[0] == "cross-env" and "cross-env" in (package.dev_dependencies if package else {}):
                return "`cross-env` comes from devDependencies"
            argv.pop(0)
        cmds.append(argv)
    for argv in cmds:
        reason = dev_dependency_reason(argv, package, _depth)
        if reason:
            return reason
    return None


def dev_step_in_run(ins: Instruction, package: PackageJson | None, after: int = -1) -> str | None:
    """Why a RUN (from source offset ``after`` on) needs devDependencies, or None."""
    for cmd in ins.commands:
        if cmd.start <= after:
            continue
        reason = dev_dependency_reason(cmd.argv, package)
        if reason:
            return reason
    return None


def runtime_dev_reason(doc: Document, ctx: Context, package: PackageJson | None = None) -> str | None:
    """Why the final image's start command needs devDependencies, or None.  ``package`` is the
    package.json whose scripts the command runs (default: the context root's; see
    ``_startcmd.final_package`` for workspaces)."""
    entry, cmd = final_command(doc)
    for ins in (entry, cmd):
        if ins is None or not ins.args_text:
            continue
        argv = strip_init(unwrap_shell_c(command_words(ins)))
        pkg = package if package is not None else ctx.package
        picked = selected_package(ctx, argv)
        if picked is not None:
            argv, pkg, why = picked
            if pkg is None:
                return f"which scripts the start command on line {source_line(doc, ins.line)} runs cannot be told: {why}"
        reason = dev_dependency_reason(tuple(argv), pkg)
        if reason:
            return f"the start command on line {source_line(doc, ins.line)} needs devDependencies: {reason}"
    return None


#: The project's own scripts that ``npm install``/``npm ci`` (and yarn, pnpm) run, in order.
LIFECYCLE_SCRIPTS = ("preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare")
#: Programs that only set up git hooks: dropping a lifecycle script made of them changes nothing in
#: an image (there is no .git there to hook into).
GIT_HOOK_TOOLS = frozenset({"husky", "is-ci", "lefthook", "simple-git-hooks", "yorkie", "true", "echo", "exit"})


def lifecycle_dev_scripts(package: PackageJson | None) -> list[tuple[str, str]]:
    """``(script, reason)`` for each lifecycle script of ``package`` that an install runs and that
    needs a devDependency (``"prepare": "husky"`` with husky in devDependencies): a production-only
    install fails on it (``husky: not found``)."""
    if package is None:
        return []
    out = []
    for name in LIFECYCLE_SCRIPTS:
        body = package.scripts.get(name)
        if body is None:
            continue
        reason = dev_dependency_reason_of_script(body, package)
        if reason:
            out.append((name, reason))
    return out


def is_git_hook_script(body: str) -> bool:
    """Does a script only set up git hooks (``husky``, ``husky install``, ``is-ci || husky install``,
    ``npx husky install``, ``git config core.hooksPath .githooks``)?"""
    cmds = script_commands(body)
    if not cmds:
        return False
    for argv in cmds:
        head = argv[0].rsplit("/", 1)[-1]
        if head in PACKAGE_RUNNERS and len(argv) > 1:
            head = argv[1].rsplit("/", 1)[-1]
        if head == "git" and argv[1:3] == ["config", "core.hooksPath"]:
            continue
        if head not in GIT_HOOK_TOOLS:
            return False
    return True
