"""Install dependencies from the lockfile, without devDependencies in the runtime image.

## What it does
Rewrites the install of the project's own dependencies (``npm install``/``npm i`` with no package
names, ``yarn``/``yarn install``, ``pnpm install``) into the lockfile-only form of the package
manager whose lockfile is in the build context, and leaves devDependencies out where nothing
later needs them:

| lockfile in the context | runtime stage | stage with a later build/test step |
|---|---|---|
| ``package-lock.json`` / ``npm-shrinkwrap.json`` | ``npm ci --omit=dev`` | ``npm ci`` |
| ``yarn.lock`` (yarn 1) | ``yarn install --frozen-lockfile --production`` | ``yarn install --frozen-lockfile`` |
| ``yarn.lock`` (yarn berry) | ``yarn workspaces focus --all --production`` (yarn 4, or workspace-tools plugin) | ``yarn install --immutable`` |
| ``pnpm-lock.yaml`` | ``pnpm install --frozen-lockfile --prod`` | ``pnpm install --frozen-lockfile`` |

Yarn berry (2+) is recognised from the lockfile's format and from how the project runs yarn:
``packageManager: "yarn@4.x"`` in package.json, a ``.yarnrc.yml``, a committed
``.yarn/releases/yarn-*.cjs``, or a ``yarn set version ...`` in the Dockerfile before the install.
Berry gets berry's flags (``--immutable``, ``yarn workspaces focus --all --production``), never
yarn 1's (``--frozen-lockfile``, ``--production``); a ``--frozen-lockfile`` already there, which
berry takes as a deprecated alias (``YN0050``), is renamed ``--immutable``.  When those say berry
but ``yarn.lock`` is a
yarn 1 file, the install is left alone and the report says why: berry rewrites such a lockfile, so
``--immutable`` fails (``YN0028``).

An existing ``npm ci`` in a runtime stage gets ``--omit=dev``; the deprecated
``npm install --production`` / ``--only=production`` becomes ``npm ci --omit=dev``, and the same
flags on ``npm ci`` (``--production``, ``--only=prod``) become ``--omit=dev``.  On the official
node image up to Node.js 14 (npm 6, which ignores ``--omit=dev`` and installs devDependencies)
only the lockfile part is applied and the old flags stay (a ``--omit=dev`` next to them, which npm
6 ignores, is removed).  Combinations end with a single ``--omit=dev``: a repeated production flag
(``--production --only=production``, ``-production``) is removed, and so is ``--only=dev``, which
npm 7 and later ignore (they accept only ``prod``/``production`` there), next to ``--omit=dev``;
``--include=dev``, ``--also=dev``, ``--dev`` and ``--production=false`` keep devDependencies.  Only the
command's own words are edited: ``RUN --mount=type=cache,...`` flags, ``&&`` chains,
continuations and comments stay as they are.  When the stage copies ``package.json`` but not the
lockfile before the install (``COPY package.json ./``), the same fix adds the lockfile to that
``COPY`` (``COPY package.json package-lock.json ./``): without it ``npm ci`` fails.

devDependencies stay (only the lockfile part is applied) when a later step needs them: in the same
stage after the install, or in any stage built ``FROM`` it or copying ``--from`` it.  Such a step is
``npm run build``/``yarn build``/``pnpm build``/any script named ``build``, ``npm test``, a script
whose body runs a build or dev tool (``tsc``, ``next build``, ``vite build``, ``nest build``,
``webpack``, ``babel``, ...) or a command from a devDependency.  They also stay when the image's
start command needs one (``CMD ["npx", "ts-node", ...]``, a ``start`` script running ``nodemon``,
``nest start``, which compiles with the project's ``typescript``),
and in stages that do not end up in the final image (separate ``dev``/``test`` targets).  The
start command is resolved through the script it names (``npm start``, ``npm run start:prod``,
``yarn start:prod``, ``pnpm run serve``, with npm's ``pre``/``post`` hooks), in the package.json
whose scripts run there: in an npm/yarn/pnpm workspace (root ``workspaces``,
``pnpm-workspace.yaml``) the package the final WORKDIR holds, found from the COPY lines
(``COPY . /app`` + ``WORKDIR /app/packages/api``: ``packages/api/package.json``), or the one the
command selects (``yarn workspace api start``, ``npm start -w api``, ``pnpm --filter api start``).

The project's own install-time scripts (``preinstall``, ``install``, ``postinstall``, ``prepare``...,
also of workspace packages) run during the install too: one that needs a devDependency
(``"prepare": "husky"``) fails a production-only install with ``husky: not found``.  When every
such script only sets up git hooks (husky, lefthook, simple-git-hooks, ``is-ci``), the production
install skips it: with ``--ignore-scripts`` when that loses nothing (every lifecycle script is a
git-hook one and the npm lockfile, parsed, shows no production package with ``hasInstallScript``),
else by ``npm pkg delete scripts.prepare && `` in front of the install (``npm pkg`` exists from npm
7.20: Node.js 16.6 and later on the official image; the script is removed from the image's
package.json only).  Any other such script (``"postinstall": "patch-package"``, ``"prepare":
"tsc"``), yarn and pnpm installs, and images whose npm is unknown keep devDependencies, with the
reason.

## Why
``npm install`` resolves versions again at build time, so two builds of one commit can ship
different code, and it may rewrite the lockfile inside the image; ``npm ci`` installs exactly what
the lockfile pins and fails loudly when it is out of date.  devDependencies (compilers, test
runners, linters) in a runtime image make it larger and add packages, and their CVEs, that
production never runs.  hadolint has no rule for this (hadolint issue #781 asks for one); this
pass is the fix it would suggest.

## Example
```diff
 FROM node:22-slim
 WORKDIR /app
-COPY package.json ./
-RUN npm install
+COPY package.json package-lock.json ./
+RUN npm ci --omit=dev
 COPY . .
 CMD ["node", "server.js"]
```

## Fix safety
Unsafe.  Only in an application's runtime image: a development, test, build-only (no start
command) or base image keeps its devDependencies, and the skip names the stage's role and the
evidence for it (``fixer/roles.py``).  ``npm ci`` refuses to install when the lockfile does not match ``package.json``: a build
that passes today fails until the lockfile is regenerated.  Leaving devDependencies out is right
only when the app really runs without them; a package listed under devDependencies but required
at run time (a common mistake) then fails on start, which no static check can rule out.
``yarn workspaces focus`` does not check the lockfile the way ``--immutable`` does, and on yarn
2/3 it needs ``plugin-workspace-tools``: it is used only when yarn 4 is evident (``packageManager``,
``.yarn/releases/yarn-4.*.cjs``, ``yarn set version 4.x``) or the plugin is (``.yarnrc.yml``,
``.yarn/plugins/``); otherwise berry gets ``yarn install --immutable`` and a report line.  ``--ignore-scripts`` also skips the install scripts of dependencies, so it is used only
when the npm lockfile proves there are none in production (``hasInstallScript``); ``npm pkg
delete`` leaves the image's package.json without the git-hook script (a later ``COPY . .``
brings it back).  Checked with real npm: ``npm pkg delete scripts.prepare && npm ci --omit=dev``
and ``npm ci --omit=dev --ignore-scripts`` install a ``"prepare": "husky"`` project on npm 7.20 and
11, where plain ``npm ci --omit=dev`` fails; npm 7.19 prints its usage for ``npm pkg`` and exits 0
(the install then still fails), hence the version check.  In a workspace whose COPY lines do not tell which package the WORKDIR holds,
devDependencies stay.  Nothing is changed, and a reason is reported, when there is no ``package.json`` or no
lockfile in the build context, the lockfile belongs to another package manager, ``.dockerignore``
leaves the lockfile out, the lockfile cannot be seen reaching the image before the install, or the
install runs in a heredoc script or an exec-form ``RUN``; in the lockfile cases an npm install
that already leaves devDependencies out with a deprecated flag (``npm install --only=production``)
still gets the same install spelled ``--omit=dev`` when the base image is the official node image
of Node.js 15 or later (npm 7+).  Installs of named packages (``npm install express``, ``npm
install -g pm2``) are left alone.

## Related codes
none (peers only report; hadolint issue #781 asks for an ``npm ci`` rule).
"""  # noqa: E501 (the docstring is the rule's documentation; rows of its Markdown table cannot wrap)

from __future__ import annotations

import re
from collections.abc import Iterable

from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.dockerignore import dockerignore_matches
from dockerfix.fixer.document import Document, Instruction, Span, Stage
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.transform import Transform
from dockerfix.fixer.workspaces import read_package, workspace_folders, workspace_patterns

from ._devdeps import LIFECYCLE_SCRIPTS, dev_step_in_run, is_git_hook_script, lifecycle_dev_scripts, runtime_dev_reason
from ._roles import final_stage_role, not_runtime_skip
from ._pkgmanagers import (
    LOCK_KINDS,
    PackageManagerCommand,
    delete_option,
    drop_dead_only,
    npm_dev_flags,
    npm_version_floor,
    one_omit_dev,
    npm_without_omit,
    npm_without_pkg,
    package_manager_commands,
    package_manager_commands_of,
    yarn_berry_evidence,
)
from ._startcmd import final_package
from ._stages import copies_root_file, copy_sources, stage_consumers

LOCK_NAMES = {"npm": ("package-lock.json", "npm-shrinkwrap.json"), "yarn": ("yarn.lock",), "pnpm": ("pnpm-lock.yaml",)}
LOCKED_FORM = {"npm": "npm ci", "yarn-v1": "yarn install --frozen-lockfile", "yarn-berry": "yarn install --immutable",
               "pnpm": "pnpm install --frozen-lockfile"}


def _set_versions(doc: Document, stage: Stage, ins: Instruction) -> list[tuple[str, int]]:
    """``yarn set version X`` run in the stage chain up to ``ins``: [(X, line)]."""
    out = []
    for st in reversed(doc.stage_chain(stage)):
        for i in st.instructions:
            if st is stage and i.index > ins.index:
                break
            if i.keyword == "RUN":
                commands = list(i.commands) + [c for script in i.heredoc_scripts for c in script.commands]
                out += [(c.argv[3], i.line) for c in commands
                        if c.program == "yarn" and c.argv[1:3] == ("set", "version") and len(c.argv) > 3]
    return out


def berry_evidence(doc: Document, ctx: Context, stage: Stage, ins: Instruction) -> str | None:
    """Why the project runs yarn berry (2+), from the build context or the Dockerfile, or None."""
    versions = _set_versions(doc, stage, ins)
    if versions:
        v, line = versions[-1]
        if v.lower() in ("classic", "1") or v.startswith("1."):
            return None  # the Dockerfile chose yarn 1 explicitly
        return f"`yarn set version {v}` on line {source_line(doc, line)}"
    return yarn_berry_evidence(ctx)


def _berry_can_focus(doc: Document, ctx: Context, stage: Stage, ins: Instruction) -> bool:
    """``yarn workspaces focus`` exists: yarn >= 4 (packageManager, a committed release or a
    ``yarn set version 4.x``), or the workspace-tools plugin is configured or committed."""
    versions = [v for v, _line in _set_versions(doc, stage, ins)]
    majors = [int(m.group(1)) for m in (re.match(r"(\d+)\.", v) for v in versions[-1:]) if m]
    if versions:
        if majors and majors[0] >= 4:
            return True
    else:
        pm = ctx.package.package_manager if ctx.package else None
        if pm:
            m = re.match(r"yarn@(\d+)", pm)
            if m and int(m.group(1)) >= 4:
                return True
        elif any(re.match(r"yarn-([4-9]|\d\d)\.", r) for r in ctx.yarn_releases):
            return True
    rc = ctx.yarnrc_yml if ctx.yarnrc_yml is not None else (ctx.read_file(".yarnrc.yml") or "")
    return "plugin-workspace-tools" in rc or any("plugin-workspace-tools" in p for p in ctx.yarn_plugins)


class ProductionDeps(Transform):
    code = "DFX004"
    name = "production-deps"
    summary = "Install dependencies from the lockfile, without devDependencies in the runtime image"
    default_applicability = Applicability.UNSAFE
    related = ()
    after = (
        "DFX009",  # the install RUN gets its secret mount before it is rewritten
        "DFX010",  # hardens the production stage the split made
    )

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        final = doc.final_stage
        if final is None:
            return
        role = final_stage_role(doc, ctx)
        if role is not None and not role.is_runtime and role.kind != "non-node":
            # a development, test, build-only or base image runs (or builds with) its devDependencies
            skip = not_runtime_skip(self.code, doc, ctx, "a production-only install")
            if skip is not None:
                yield skip
            return
        final_lineage = doc.stage_chain(final)
        runtime_reason: list[str | None] = []  # computed once, lazily
        for stage in doc.stages:
            consumers = stage_consumers(doc, stage)
            reaches_final = stage is final or final in consumers
            for ins in stage.instructions:
                if ins.keyword != "RUN":
                    continue
                if ins.heredocs:
                    if any(c.action in ("install", "ci", "focus")
                           for s in ins.heredoc_scripts for c in package_manager_commands_of(s.commands)):
                        yield Skip(self.code, f"the dependency install on line {source_line(doc, ins.line)} runs in a heredoc "
                                   "script; it is not rewritten", ins.line)
                    continue
                if ins.is_json:
                    if ins.json_args and ins.json_args[0] in LOCK_KINDS and len(ins.json_args) > 1 \
                            and ins.json_args[1] in ("install", "i", "ci"):
                        yield Skip(self.code, f"the exec-form RUN on line {source_line(doc, ins.line)} is not "
                                              f"rewritten", ins.line)
                    continue
                for cmd in package_manager_commands(ins):
                    if not cmd.is_bare_install or cmd.tool not in LOCK_KINDS:
                        continue
                    if not runtime_reason:
                        runtime_reason.append(self._runtime_reason(doc, ctx) if ctx.package else None)
                    yield from self._one(doc, ctx, stage, ins, cmd, consumers, reaches_final,
                                         stage in final_lineage, runtime_reason[0])

    # -----------------------------------------------------------------------------------------
    def _one(self, doc: Document, ctx: Context, stage: Stage, ins: Instruction, cmd: PackageManagerCommand,
             consumers: list[Stage], reaches_final: bool, ships: bool,
             runtime_reason: str | None) -> Iterable[Fix | Skip]:
        line = ins.line
        what = " ".join(w.value for w in cmd.command.words)
        if ctx.package is None:
            why = ctx.missing_package
            yield Skip(self.code, f"`{what}` on line {source_line(doc, line)} left as is: {why}", line)
            return
        if ctx.lockfile is None:
            yield from self._respell_only(doc, stage, cmd, line)
            yield Skip(self.code, f"`{what}` on line {source_line(doc, line)} left as is: no lockfile in the build context: "
                       f"{LOCKED_FORM['npm' if cmd.tool == 'npm' else 'pnpm' if cmd.tool == 'pnpm' else 'yarn-v1']}"
                       " would fail", line)
            return
        if ctx.lock_kind not in LOCK_KINDS[cmd.tool]:
            yield from self._respell_only(doc, stage, cmd, line)
            yield Skip(self.code, f"`{what}` on line {source_line(doc, line)} left as is: the build context's lockfile is "
                       f"{ctx.lockfile}, which {cmd.tool} does not read", line)
            return
        kind = ctx.lock_kind
        if cmd.tool == "yarn" and kind == "yarn-v1":
            berry = berry_evidence(doc, ctx, stage, ins)
            if berry:
                yield Skip(self.code, f"`{what}` on line {source_line(doc, line)} left as is: the project runs yarn berry "
                                      f"({berry}) "
                           f"but {ctx.lockfile} is a yarn 1 lockfile: berry rewrites it, so a lockfile-only install "
                           "(`--immutable`) fails (YN0028), and yarn 1 flags (`--frozen-lockfile`, `--production`) "
                           f"do not apply to berry; commit the {ctx.lockfile} berry writes", line)
                return

        # may devDependencies be left out here?
        keep_reason = dev_step_in_run(ins, ctx.package, after=cmd.command.end)
        if keep_reason is None:
            for later in stage.instructions:
                if later.index > ins.index and later.keyword == "RUN":
                    keep_reason = dev_step_in_run(later, ctx.package)
                    if keep_reason:
                        keep_reason += f" (line {source_line(doc, later.line)})"
                        break
        if keep_reason is None:
            for st in consumers:
                for later in st.instructions:
                    if later.keyword == "RUN":
                        r = dev_step_in_run(later, ctx.package)
                        if r:
                            keep_reason = f"{r} (line {source_line(doc, later.line)}, in a stage built on this one)"
                            break
                if keep_reason:
                    break
        prune_ok = reaches_final and keep_reason is None and runtime_reason is None
        notes: list[Skip] = []
        old_npm = npm_without_omit(doc, stage) if cmd.tool == "npm" else None
        if prune_ok and old_npm:
            prune_ok = False
            notes.append(Skip(self.code, f"devDependencies kept on line {source_line(doc, line)}: {old_npm}", line))
        lifecycle_fix: list[Edit] = []  # `npm pkg delete scripts.X && ` before the install
        ignore = ""  # or " --ignore-scripts" after --omit=dev
        lifecycle_what = ""
        if prune_ok:
            lifecycle_fix, ignore, lifecycle_what, lifecycle_reason = self._lifecycle(doc, ctx, stage, ins, cmd)
            if lifecycle_reason:
                prune_ok = False
                notes.append(Skip(self.code, f"devDependencies kept on line {source_line(doc, line)}: {lifecycle_reason}", line))
        if keep_reason and ships:
            notes.append(Skip(self.code, f"devDependencies kept on line {source_line(doc, line)} because {keep_reason}; leaving "
                              "them out of the runtime image belongs to a multi-stage split (build stage with all "
                              "dependencies, runtime stage with a production-only install)", line))
        elif runtime_reason and reaches_final:
            notes.append(Skip(self.code, f"devDependencies kept on line {source_line(doc, line)}: {runtime_reason}", line))

        edits: list[Edit] = []
        locked = False  # does the fix switch to a lockfile-only install?
        pruned = False
        tidy: list[str] = []  # message parts for flag spellings made coherent
        if cmd.tool == "npm":
            sub = cmd.sub
            assert sub is not None  # install and ci are always written as a word after npm
            flags = npm_dev_flags(cmd)
            if cmd.action == "install":
                locked = True
            if old_npm:  # npm 6: `--production` is the flag it knows; only the lockfile part
                if cmd.action == "install":
                    edits.append(Edit.replace(sub.span, "ci"))
                if flags.legacy and flags.omit:  # npm 6 ignores --omit=dev: keep the flag it reads
                    dropped = [delete_option(doc, cmd, g) for g in flags.omit]
                    if all(dropped):
                        edits += [e for e in dropped if e]
                        tidy.append("drop --omit=dev, which npm 6 ignores, next to the production flag it reads")
            elif flags.keeps:  # devDependencies are asked for: only the lockfile part
                if cmd.action == "install":
                    edits.append(Edit.replace(sub.span, "ci"))
            elif flags.legacy or flags.omit:  # already production-only: one --omit=dev, no deprecated spelling
                if cmd.action == "install":
                    edits.append(Edit.replace(sub.span, "ci"))
                edits += one_omit_dev(doc, cmd, flags, tidy)
            elif prune_ok:
                dead = flags.dead_only
                if cmd.action == "install":
                    edits.append(Edit.replace(sub.span, "ci --omit=dev" + ignore))
                else:
                    edits.append(Edit.insert(sub.span.end, " --omit=dev" + ignore))
                edits += drop_dead_only(doc, cmd, dead, tidy)
                edits += lifecycle_fix
                pruned = True
            elif cmd.action == "install":
                edits.append(Edit.replace(sub.span, "ci"))
        elif cmd.tool == "yarn" and cmd.action == "install" and kind == "yarn-v1":
            add = []
            if not cmd.has_option("--frozen-lockfile"):
                add.append("--frozen-lockfile")
                locked = True
            if prune_ok and not cmd.has_option("--production", "--prod") and "--production=false" not in cmd.option_values:
                add.append("--production")
                pruned = True
            if add:
                if cmd.sub is None:
                    add.insert(0, "install")
                edits.append(Edit.insert(cmd.last_word.span.end, " " + " ".join(add)))
        elif cmd.tool == "yarn" and cmd.action == "install" and kind == "yarn-berry":
            immutable = [w for w in cmd.options if w.value == "--immutable"]
            others = [w for w in cmd.options if w.value != "--immutable"]
            focus_edits: list[Edit] | None = None
            if prune_ok and _berry_can_focus(doc, ctx, stage, ins) and not others:
                focus: list[Edit] = []
                if cmd.sub is None:
                    focus.append(Edit.insert(cmd.tool_word.span.end, " workspaces focus --all --production"))
                else:
                    focus.append(Edit.replace(cmd.sub.span, "workspaces focus --all --production"))
                for w in immutable:
                    gap_start = w.span.start
                    while gap_start > 0 and doc.source[gap_start - 1] in " \t":
                        gap_start -= 1
                    if gap_start == w.span.start:
                        break  # the flag cannot be removed cleanly: no focus rewrite
                    focus.append(Edit.delete(Span(gap_start, w.span.end)))
                else:
                    focus_edits = focus
            if focus_edits is not None:
                edits += focus_edits
                pruned = True
                locked = not immutable
            else:
                frozen = [w for w in others if w.value == "--frozen-lockfile"]
                if not immutable and frozen:
                    # berry takes yarn 1's flag as a deprecated alias (YN0050): name it as berry does
                    edits.append(Edit.replace(frozen[0].span, "--immutable"))
                    locked = True
                elif not immutable:
                    edits.append(Edit.insert(cmd.last_word.span.end,
                                             (" install" if cmd.sub is None else "") + " --immutable"))
                    locked = True
                if prune_ok:
                    notes.append(Skip(self.code, f"devDependencies kept on line {source_line(doc, line)}: a production-only yarn "
                                      "berry install needs `yarn workspaces focus --all --production`, which needs "
                                      "yarn 4 (packageManager, .yarn/releases or `yarn set version 4.x`) or "
                                      "plugin-workspace-tools on yarn 2/3, and neither is evident", line))
        elif cmd.tool == "pnpm" and cmd.action == "install":
            vals = cmd.option_values
            add = []
            if not any(v.startswith(("--frozen-lockfile", "--no-frozen-lockfile")) for v in vals):
                add.append("--frozen-lockfile")
                locked = True
            if prune_ok and not cmd.has_option("--prod", "-P", "--production", "--dev", "-D") \
                    and "--production=false" not in vals:
                add.append("--prod")
                pruned = True
            if add:
                assert cmd.sub is not None  # pnpm's install action is its subcommand word
                edits.append(Edit.insert(cmd.sub.span.end, " " + " ".join(add)))

        if not edits:
            yield from notes
            return
        if locked:
            problem, extra = self._lockfile_reaches(doc, ctx, stage, ins, cmd.tool)
            if problem:
                yield from self._respell_only(doc, stage, cmd, line)
                yield Skip(self.code, f"`{what}` on line {source_line(doc, line)} left as is: {problem}", line)
                return
            edits += extra
        yield from notes
        parts = []
        if locked:
            parts.append(f"install exactly what {ctx.lockfile} pins")
        if pruned:
            parts.append("leave devDependencies out of the runtime image")
        if pruned and lifecycle_what:
            parts.append(lifecycle_what)
        parts += tidy
        msg = " and ".join(parts) if parts else "install from the lockfile"
        msg = msg[0].upper() + msg[1:]
        if len(edits) > 1 and any(e.start < ins.span.start for e in edits):
            msg += f"; copy {ctx.lockfile} into the image before the install"
        yield Fix(self.code, msg, line, tuple(edits), self.default_applicability)

    def _respell_only(self, doc: Document, stage: Stage, cmd: PackageManagerCommand, line: int) -> Iterable[Fix]:
        """When the lockfile part cannot be applied: an npm install that already leaves
        devDependencies out with a deprecated flag (``npm install --only=production``) gets the same
        install spelled ``--omit=dev``, on an image known to ship npm 7 or later."""
        if cmd.tool != "npm" or npm_version_floor(doc, stage) < 7:
            return
        flags = npm_dev_flags(cmd)
        if flags.keeps or not flags.legacy:
            return
        tidy: list[str] = []
        edits = one_omit_dev(doc, cmd, flags, tidy)
        if edits:
            msg = "; ".join(tidy)
            yield Fix(self.code, f"{msg[0].upper()}{msg[1:]} (the same install on npm 7 and later)", line,
                      tuple(edits), self.default_applicability)

    def _runtime_reason(self, doc: Document, ctx: Context) -> str | None:
        """Why the start command keeps devDependencies (it needs one, or which package.json it runs
        cannot be told in a workspace), or None."""
        pkg, _folder, why = final_package(doc, ctx)
        if why:
            return f"which scripts the start command runs cannot be told: {why}"
        return runtime_dev_reason(doc, ctx, pkg)

    def _lifecycle(self, doc: Document, ctx: Context, stage: Stage, ins: Instruction,
                   cmd: PackageManagerCommand) -> tuple[list[Edit], str, str, str | None]:
        """The project's own install-time scripts under a production-only install:
        ``(prefix edits, extra flag, message part, reason to keep devDependencies)``.

        A lifecycle script that needs a devDependency fails a production install (``"prepare":
        "husky"``: ``husky: not found``).  When every such script only sets up git hooks it is
        skipped for this install: with ``--ignore-scripts`` when no script is lost by it (every
        lifecycle script is a git-hook one and the npm lockfile shows no production package with an
        install script), else with ``npm pkg delete scripts.X &&`` before the install (npm 7.20+);
        otherwise devDependencies stay and the reason says why."""
        if ctx.package is None:  # the callers check it first
            return [], "", "", None
        packages: list[tuple[str, PackageJson]] = [("", ctx.package)]
        patterns = workspace_patterns(ctx.files, ctx.package)
        if patterns is not None:
            for f in workspace_folders(ctx.files, patterns):
                member = read_package(ctx.files, f).package
                if member is not None:  # an unreadable member has no scripts to run
                    packages.append((f, member))
        found = [(folder, name, reason, pkg) for folder, pkg in packages
                 for name, reason in lifecycle_dev_scripts(pkg)]
        if not found:
            return [], "", "", None
        folder, name, reason, pkg = found[0]
        where = f"{folder}/package.json" if folder else "package.json"
        failing = f"{where} scripts.{name} runs at install time and needs devDependencies ({reason})"
        for folder, name, reason, pkg in found:
            if not is_git_hook_script(pkg.scripts[name]):
                where = f"{folder}/package.json" if folder else "package.json"
                return [], "", "", (f"{where} scripts.{name} runs at install time and needs devDependencies "
                                    f"({reason}), so a production-only install would fail")
        if cmd.tool != "npm":
            return [], "", "", f"{failing}; {cmd.tool} has no way here to skip it for the production install alone"
        names = [n for f, n, _r, _p in found]
        every = all(is_git_hook_script(p.scripts[n]) for _f, p in packages if p is not None
                    for n in LIFECYCLE_SCRIPTS if n in p.scripts)
        lock = ctx.lock
        if every and lock is not None and not lock.install_scripts and patterns is None:
            return [], " --ignore-scripts", (f"skip scripts.{'/'.join(names)} (git hooks only; it needs a "
                                             "devDependency) with --ignore-scripts: the lockfile shows no "
                                             "production package with an install script"), None
        if any(f for f, *_ in found):
            return [], "", "", f"{failing}; the script is in a workspace package"
        sh = ins.shell
        before = cmd.command.before
        if not sh.simple or (before is not None and before.text not in ("&&", ";")):
            return [], "", "", f"{failing}; the install is not a plain step of its RUN to put `npm pkg delete` before"
        old = npm_without_pkg(doc, stage)
        if old:
            return [], "", "", f"{failing}; {old}"
        keys = " ".join(f"scripts.{n}" for n in names)
        at = cmd.command.all_words[0].span.start
        return ([Edit.insert(at, f"npm pkg delete {keys} && ")], "",
                f"remove scripts.{'/'.join(names)} (git hooks only; it needs a devDependency) before the "
                "production install with `npm pkg delete`", None)

    def _lockfile_reaches(self, doc: Document, ctx: Context, stage: Stage, ins: Instruction,
                          tool: str) -> tuple[str | None, list[Edit]]:
        """(problem, extra edits): is the lockfile COPYed into the image before ``ins``?"""
        lock = ctx.lockfile or ""
        if dockerignore_matches(ctx.dockerignore, lock):
            return f".dockerignore leaves {lock} out of the build context, so the lockfile-only install would fail", []
        names = LOCK_NAMES[tool]
        candidate: Instruction | None = None
        unknown = False
        for st in doc.stage_chain(stage):
            for i in reversed(st.instructions):
                if st is stage and i.index >= ins.index:
                    continue
                if i.keyword not in ("COPY", "ADD"):
                    continue
                srcs = copy_sources(i)
                if i.flag("from") is not None or srcs is None:
                    unknown = True
                    continue
                if any(copies_root_file(i, n) for n in names):
                    return None, []
                if candidate is None and any(w.value in ("package.json", "./package.json") for w in srcs):
                    candidate = i
        if candidate is not None:
            word = next(w for w in copy_sources(candidate) or () if w.value in ("package.json", "./package.json"))
            prefix = "./" if word.value.startswith("./") else ""
            edits = [Edit.insert(word.span.end, f" {prefix}{lock}")]
            dest = candidate.json_args[-1] if candidate.json_args else (
                candidate.words[-1].value if candidate.words else "")
            if not candidate.is_json and candidate.words and not dest.endswith("/") and "$" not in dest:
                # two sources need a folder destination: `COPY a b .` is refused (hadolint DL3021)
                edits.append(Edit.insert(candidate.words[-1].span.end, "/"))
            return None, edits
        if unknown:
            return f"cannot tell whether {lock} is in the image before line {source_line(doc, ins.line)}", []
        return (f"{lock} is not copied into the image before line {source_line(doc, ins.line)}, so the lockfile-only install "
                "would fail"), []
