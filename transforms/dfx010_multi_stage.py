"""Split a single-stage image with a build step into a build stage and a production stage.

## What it does
A single-stage Node.js Dockerfile that installs dependencies and then runs a step needing
devDependencies (``npm run build``, ``tsc``, ``next build``, ``vite build``, ``nest build``... — the
detection DFX004 uses) becomes two stages:

* the original stage, unchanged except that it is named ``AS build`` (an existing name is kept):
  it still installs every dependency and runs the build;
* a production stage appended after it, ``FROM`` the same base image text, with the same
  ``WORKDIR``, that copies ``package.json`` and the lockfile from the build context, installs the
  production dependencies only, and copies the build output from the build stage:

| lockfile | production install |
|---|---|
| ``package-lock.json`` / ``npm-shrinkwrap.json`` | ``npm ci --omit=dev`` |
| ``yarn.lock`` (yarn 1) | ``yarn install --frozen-lockfile --production`` |
| ``pnpm-lock.yaml`` | ``pnpm install --frozen-lockfile --prod`` |

The build output folder is ``compilerOptions.outDir`` of ``tsconfig.json``, or ``dist``, ``build``,
``out``, ``lib`` or ``.next``; it is used only when the start command (``CMD``/``ENTRYPOINT``, or
the package.json script that ``npm start``/``npm run x`` runs) runs from that folder
(``node dist/server.js``; ``next start`` runs from ``.next``, and a ``next.config.*`` file is copied
too) and names no file outside it.

Runtime instructions move from the build stage to the production stage, with the comment lines
directly above them: ``EXPOSE``, ``CMD``, ``ENTRYPOINT``, ``HEALTHCHECK``, ``STOPSIGNAL``, ``LABEL``,
``USER`` and any ``ENV``/``VOLUME`` after the stage's last ``RUN``.  Instructions the production
stage needs as well are copied, not moved: ``ENV``, ``VOLUME`` and ``SHELL`` lines that earlier
``RUN`` steps see, ``WORKDIR``, the ``ARG`` lines the copies use, and setup steps before the install
(``apt-get``/``apk`` package installs, ``corepack enable``, a global install of the package manager
or of ``node-gyp``).  Any other global install (``npm install -g``, ``yarn global add``) is repeated
in the production stage only when the start command, scripts followed, runs one of its commands
(``pm2-runtime``; the fix notes it); a CLI that only the build uses (``npm install -g @nestjs/cli``
with ``CMD ["node", "dist/main"]``) stays in the build stage, and the message says so.
The install's ``RUN`` flags (``--mount=type=secret,...``, cache mounts) are kept.  Every other line
keeps its place and text; the later passes then harden the production stage (``NODE_ENV``,
non-root ``USER``, dumb-init, digest pinning).

## Why
A single-stage image that builds its app ships the compiler, bundler, test runner and linters it
needed for the build, with the source next to the output: a bigger image, and packages (and their
CVEs) that production never runs.  DFX004 cannot leave devDependencies out of such a stage, since
the build needs them.  A build stage with every dependency and a runtime stage with production
dependencies and the build output is the layout the Node.js Docker best practices and the Docker
documentation recommend.

## Example
```diff
-FROM node:22
+FROM node:22 AS build
 WORKDIR /app
 COPY . .
 RUN npm install
 RUN npm run build
+
+FROM node:22
+WORKDIR /app
+COPY package.json package-lock.json ./
+RUN npm ci --omit=dev
+COPY --from=build /app/dist ./dist
 EXPOSE 3000
 CMD ["npm", "start"]
```

## Fix safety
Unsafe.  The runtime image holds only ``package.json``, the lockfile, the production
``node_modules`` and the build output: a file the app reads at run time from anywhere else
(``views/``, ``public/``, config files, migrations, ``.env``) is gone, which no static check can
rule out (the fix's note says so).  A package wrongly listed under devDependencies but needed at
run time fails on start.  Nothing is changed, and a reason is reported, when there is no
``package.json`` or no lockfile, the lockfile is yarn berry's or bun's, ``.dockerignore`` leaves it
out, the lockfile belongs to another package manager than the install, ``package.json`` has
workspaces or install-time scripts (``prepare``, ``postinstall``...) that would run without the
sources, the output folder is unknown or the start command names files outside it or needs
devDependencies, there is no absolute ``WORKDIR`` before the install, a ``USER`` line is followed
by ``RUN`` steps, or a ``RUN`` the production stage may need (other than setup, install, and build
steps) is present.  Files that already have several stages are not restructured.

## Related codes
none (hadolint and BuildKit checks do not look at stage layout).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from collections.abc import Iterable

from dockerfix.fixer.context import Context
from dockerfix.fixer.dockerignore import dockerignore_matches
from dockerfix.fixer.document import Document, Instruction, Stage
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.transform import Transform

from ._devdeps import dev_dependency_reason, dev_step_in_run, package_bins, runtime_dev_reason
from ._layout import keyword, line_insert_offset
from ._pkgmanagers import (
    INSTALL_TOOLS,
    LOCK_KINDS,
    PackageManagerCommand,
    global_packages,
    package_manager_commands,
    package_name,
)
from ._shell import script_commands
from ._startcmd import command_words, is_init, strip_init, unwrap_shell_c

#: Production-only installs by lockfile kind.
PROD_INSTALL = {
    "npm": "npm ci --omit=dev",
    "yarn-v1": "yarn install --frozen-lockfile --production",
    "pnpm": "pnpm install --frozen-lockfile --prod",
}
#: Folders a build commonly writes to (used only when the start command runs from one of them).
OUTPUT_DIRS = ("dist", "build", "out", "lib", ".next")
#: Instructions that only describe the running container: moved to the production stage.
_RUNTIME_ONLY = frozenset({"EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "LABEL", "MAINTAINER"})
#: Programs of a setup RUN (before the install) that the production stage repeats.
_SETUP_PROGRAMS = frozenset({"apt-get", "apt", "apk", "yum", "dnf", "microdnf", "corepack", "rm",
                             "update-ca-certificates"})
#: Project scripts npm/yarn/pnpm run during an install of the project itself.
_INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare")
_VAR_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_PATHY = re.compile(r"(^\.{0,2}/)|(/)|(\.(?:[cm]?js|json|ts|env)$)")


class _Abort(Exception):
    """Raised inside the analysis with the reason the file is not split."""


@dataclass
class _Plan:
    install: Instruction
    install_cmd: PackageManagerCommand
    build_step: Instruction
    build_reason: str
    workdir: str
    install_prefix: str = ""  # setup commands before the install in the same RUN (`corepack enable && `)
    prelude: list[Instruction] = field(default_factory=list)  # copied, before the install
    after: list[Instruction] = field(default_factory=list)  # copied, after the install
    moved: list[Instruction] = field(default_factory=list)
    build_only: list[str] = field(default_factory=list)  # global installs left in the build stage (why)
    kept_globals: list[str] = field(default_factory=list)  # global installs repeated in production (why)


def _is_setup_run(ins: Instruction) -> bool:
    """A RUN before the install that prepares the system or the package manager."""
    if ins.heredocs or not ins.commands:  # no commands: exec form
        return False
    for cmd in ins.commands:
        argv, prog = cmd.argv, cmd.program
        if prog in _SETUP_PROGRAMS:
            continue
        if prog in LOCK_KINDS and (
                any(a in ("-g", "--global", "--location=global") for a in argv[1:])
                or (len(argv) > 1 and argv[1] in ("global", "config"))):
            continue
        return False
    return True


def _global_install_specs(ins: Instruction) -> list[str] | None:
    """The package specs of a RUN made only of global installs (``npm install -g @nestjs/cli``,
    ``yarn global add pm2``, with ``npm cache clean`` steps), or None for any other RUN."""
    if ins.heredocs or ins.is_json or not ins.commands:
        return None
    pm = package_manager_commands(ins)
    if len(pm) != len(ins.commands):
        return None
    specs: list[str] = []
    found = False
    for cmd in pm:
        pkgs = global_packages(cmd)
        if pkgs is not None:
            specs += pkgs
            found = True
        elif cmd.action != "other" or cmd.sub is None or cmd.sub.value != "cache":
            return None
    return specs if found else None


def _is_pm_only_run(ins: Instruction) -> bool:
    """A RUN after the install that only runs package-manager housekeeping (``npm prune``,
    ``npm cache clean``), no scripts."""
    if ins.heredocs or ins.is_json:
        return False
    cmds = ins.commands
    pm = package_manager_commands(ins)
    return bool(cmds) and len(pm) == len(cmds) and all(c.action in ("other", "install", "ci") for c in pm)


def dev_step_in_run_cmd(argv: tuple[str, ...], ctx: Context) -> bool:
    return dev_dependency_reason(argv, ctx.package) is not None


def _strip_jsonc(text: str) -> str:
    """tsconfig.json allows comments and trailing commas."""
    out, i, n, quote = [], 0, len(text), False
    while i < n:
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
            out.append(ch)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end == -1 else end + 2
            continue
        else:
            out.append(ch)
        i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def _normal_dir(path: str) -> str | None:
    p = posixpath.normpath(path.strip())
    if p in (".", "") or p.startswith("/") or p.startswith("..") or "$" in p:
        return None
    return p


def tsconfig_out_dir(ctx: Context) -> str | None:
    text = ctx.read_file("tsconfig.json")
    if not text:
        return None
    try:
        data = json.loads(_strip_jsonc(text))
    except ValueError:
        return None
    opts = data.get("compilerOptions") if isinstance(data, dict) else None
    out = opts.get("outDir") if isinstance(opts, dict) else None
    return _normal_dir(out) if isinstance(out, str) else None


class MultiStage(Transform):
    code = "DFX010"
    name = "multi-stage"
    summary = "Split a single-stage image with a build step into a build stage and a production stage"
    default_applicability = Applicability.UNSAFE
    related = ()
    after = (
        "DFX003",  # split once the FROM tag is final
        "DFX002",  # ... and pinned
        "DFX009",  # the install RUN carries its secret mount into the build stage
    )

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        if len(doc.stages) != 1:
            return
        stage = doc.stages[0]
        found = self._build_step(stage, ctx)
        if found is None:
            return  # nothing needs devDependencies: a single stage is fine (DFX004 prunes them)
        build_ins, reason = found
        line = stage.from_.line
        try:
            plan = self._plan(doc, ctx, stage, build_ins, reason)
            out_dir, extra = self._output(doc, ctx, stage, plan)
        except _Abort as e:
            yield Skip(self.code, f"not split into build and production stages (build step on line "
                       f"{source_line(doc, build_ins.line)}): {e}", line)
            return
        yield self._fix(doc, ctx, stage, plan, out_dir, extra)

    # -- analysis ---------------------------------------------------------------------------
    def _build_step(self, stage: Stage, ctx: Context) -> tuple[Instruction, str] | None:
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                continue
            installs = [c for c in package_manager_commands(ins) if c.is_bare_install]
            after = installs[-1].command.end if installs else -1
            reason = dev_step_in_run(ins, ctx.package, after=after)
            if reason:
                return ins, reason
        return None

    def _plan(self, doc: Document, ctx: Context, stage: Stage, build_ins: Instruction, reason: str) -> _Plan:
        if ctx.package is None:
            raise _Abort(ctx.package_error or "no package.json in the build context")
        if ctx.lockfile is None:
            raise _Abort("no lockfile in the build context, so the production stage cannot install exactly "
                         "the versions the build used")
        if ctx.lock_kind not in PROD_INSTALL:
            raise _Abort(f"the lockfile {ctx.lockfile} ({ctx.lock_kind}) has no production-only install this "
                         "pass can write (yarn berry needs its .yarnrc.yml, release and `workspaces focus`)")
        if dockerignore_matches(ctx.dockerignore, ctx.lockfile):
            raise _Abort(f".dockerignore leaves {ctx.lockfile} out of the build context")
        if ctx.package.data.get("workspaces"):
            raise _Abort("package.json declares workspaces: a production install needs every workspace's "
                         "package.json")
        hooks = [s for s in _INSTALL_SCRIPTS if s in ctx.package.scripts]
        if hooks:
            raise _Abort(f"package.json has {', '.join('scripts.' + h for h in hooks)}, which the production "
                         "install would run without the sources")
        install = install_cmd = None
        for ins in stage.instructions:
            if ins.keyword == "RUN" and ins.index <= build_ins.index:
                cmds = [c for c in package_manager_commands(ins) if c.is_bare_install]
                if cmds:
                    install, install_cmd = ins, cmds[0]
                    break
        if install is None or install_cmd is None:
            raise _Abort("no install of the project's dependencies before the build step")
        for cmd in install.commands:
            if cmd.start >= install_cmd.command.start and cmd.start <= install_cmd.command.end:
                continue
            if cmd.argv[0] not in (*LOCK_KINDS, "corepack") \
                    and not dev_step_in_run_cmd(cmd.argv, ctx):
                raise _Abort(f"the install on line {source_line(doc, install.line)} also runs `{' '.join(cmd.argv)[:60]}`, which "
                             "the production stage may need too")
        if ctx.lock_kind not in LOCK_KINDS.get(install_cmd.tool, ()):
            raise _Abort(f"the install on line {source_line(doc, install.line)} uses {install_cmd.tool}, but the lockfile is "
                         f"{ctx.lockfile}")

        # the working directory of the install
        workdir = "/"
        seen_workdir = False
        for ins in stage.instructions:
            if ins.keyword != "WORKDIR":
                continue
            if ins.index > install.index:
                raise _Abort(f"WORKDIR changes after the install (line {source_line(doc, ins.line)})")
            value = ins.words[0].value if len(ins.words) == 1 else None
            if value is None or "$" in value:
                raise _Abort(f"WORKDIR on line {source_line(doc, ins.line)} is not a plain path")
            workdir = posixpath.normpath(posixpath.join(workdir, value))
            seen_workdir = True
        if not seen_workdir:
            raise _Abort("no WORKDIR before the install, so the build output has no known place")

        plan = _Plan(install, install_cmd, build_ins, reason, workdir)
        first = install.commands[0]
        if first.start < install_cmd.command.start:
            plan.install_prefix = doc.source[first.start:install_cmd.command.start]
        runs = [i for i in stage.instructions if i.keyword == "RUN"]
        last_run = runs[-1].index
        for ins in stage.instructions[1:]:
            kw = ins.keyword
            before = ins.index < install.index
            group = plan.prelude if before else plan.after
            if kw in _RUNTIME_ONLY:
                plan.moved.append(ins)
            elif kw == "USER":
                if ins.index < last_run:
                    raise _Abort(f"USER {ins.args_text} on line {source_line(doc, ins.line)} is followed by RUN steps; the "
                                 "production stage would need the same user set up")
                plan.moved.append(ins)
            elif kw in ("ENV", "VOLUME"):
                if ins.index > last_run:
                    plan.moved.append(ins)
                else:
                    group.append(ins)
            elif kw in ("WORKDIR", "SHELL", "ARG"):
                group.append(ins)
            elif kw == "ONBUILD":
                raise _Abort(f"ONBUILD on line {source_line(doc, ins.line)} would need a decision about which stage it "
                             f"belongs to")
            elif kw in ("COPY", "ADD"):
                src = ins.flag("from")
                if src is not None:
                    raise _Abort(f"line {source_line(doc, ins.line)} copies from another image (--from={src.value}); the runtime "
                                 "may need those files")
                if kw == "ADD" and any(w.value.startswith(("http://", "https://", "git@")) for w in ins.words[:-1]):
                    raise _Abort(f"ADD on line {source_line(doc, ins.line)} downloads files the runtime may need")
            elif kw == "RUN":
                specs = None if ins is install else _global_install_specs(ins)
                if specs is not None:
                    if self._global_install_needed(doc, ctx, stage, plan, ins, specs, before):
                        group.append(ins)
                    continue
                if ins is install or ins.index >= install.index and (
                        dev_step_in_run(ins, ctx.package) or _is_pm_only_run(ins)):
                    continue
                if before and _is_setup_run(ins):
                    group.append(ins)
                    continue
                raise _Abort(f"the RUN on line {source_line(doc, ins.line)} (`{ins.args_text[:60]}`) may prepare files or "
                             f"packages "
                             "the runtime needs")
        # keep only the ARGs the copied and moved lines use
        used: set[str] = set(_VAR_REF.findall(stage.from_.logical))
        for ins in plan.prelude + plan.after + plan.moved + [install]:
            if ins.keyword != "ARG":
                used.update(_VAR_REF.findall(ins.logical))
        plan.prelude = [i for i in plan.prelude if i.keyword != "ARG" or self._declares(i, used)]
        plan.after = [i for i in plan.after if i.keyword != "ARG" or self._declares(i, used)]
        return plan

    def _global_install_needed(self, doc: Document, ctx: Context, stage: Stage, plan: _Plan, ins: Instruction,
                               specs: list[str], before_install: bool) -> bool:
        """Does the production stage need a RUN of global installs?  Yes when a package serves the
        production install (a package manager, node-gyp: before the install), when a spec names no
        registry package, or when the start command (scripts followed) runs one of its commands; a
        CLI the start command does not run (``npm install -g @nestjs/cli`` for ``node dist/main``)
        stays in the build stage."""
        where = f"line {source_line(doc, ins.line)}"
        try:
            desc, words = self._start_words(doc, ctx, stage)
        except _Abort:
            return True  # the split is refused later with the reason
        heads = {w.rsplit("/", 1)[-1] for w in words}
        names = []
        for spec in specs:
            name = package_name(spec)
            if name is None or (before_install and name in INSTALL_TOOLS):
                return True
            names.append(name)
        used = sorted((name, b) for name in names for b in package_bins(name) & heads)
        if used:
            plan.kept_globals.append(f"the production stage repeats the global install on {where} "
                                     f"({', '.join(names)}): the start command {desc} runs "
                                     f"{', '.join(sorted({'`' + b + '`' for _n, b in used}))}")
            return True
        plan.build_only.append(f"the global install of {', '.join(names)} on {where} stays in the build stage: "
                               f"the start command {desc} does not run it")
        return False

    @staticmethod
    def _declares(ins: Instruction, names: set[str]) -> bool:
        return any(a.name in names for a in ins.assignments)

    def _start_words(self, doc: Document, ctx: Context, stage: Stage) -> tuple[str, list[str]]:
        """(description, words) of what the container runs at start, scripts followed."""
        ep = next((i for i in reversed(stage.instructions) if i.keyword == "ENTRYPOINT"), None)
        cmd = next((i for i in reversed(stage.instructions) if i.keyword == "CMD"), None)
        if ep is None and cmd is None:
            raise _Abort("the stage sets no CMD or ENTRYPOINT, so it is not clear what runs from the build output")
        argv = (command_words(ep) if ep else []) + (command_words(cmd) if cmd else [])
        while is_init(argv):
            argv = strip_init(argv)
        argv = unwrap_shell_c(argv)
        desc = f"`{' '.join(argv)}`"
        words = list(argv)
        scripts = ctx.package.scripts if ctx.package else {}
        if argv and argv[0] in LOCK_KINDS:
            rest = [a for a in argv[1:] if not a.startswith("-")]
            name = None
            if rest[:1] == ["start"]:
                name = "start"
            elif rest[:1] in (["run"], ["run-script"]) and len(rest) > 1:
                name = rest[1]
            elif argv[0] in ("yarn", "pnpm") and rest:
                name = rest[0]
            if name is None or name not in scripts:
                raise _Abort(f"cannot tell what {desc} runs (no matching script in package.json)")
            words = []
            for s in (f"pre{name}", name, f"post{name}"):
                if s in scripts:
                    words += [w for cmd in script_commands(scripts[s]) for w in cmd]
            desc = f"{desc} (scripts.{name} `{scripts[name]}`)"
        return desc, [w.strip("'\"") for w in words if w.strip("'\"")]

    def _output(self, doc: Document, ctx: Context, stage: Stage, plan: _Plan) -> tuple[str, list[str]]:
        """The build output folder and extra files to copy with it."""
        reason = runtime_dev_reason(doc, ctx)
        if reason:
            raise _Abort(reason)
        desc, words = self._start_words(doc, ctx, stage)
        candidates = list(OUTPUT_DIRS)
        ts_out = tsconfig_out_dir(ctx)
        if ts_out:
            candidates.insert(0, ts_out)
        next_start = any(a == "next" and b == "start" for a, b in zip(words, words[1:]))
        paths = []
        for w in words:
            for part in [w] + ([w.split("=", 1)[1]] if w.startswith("-") and "=" in w else []):
                if part.startswith("-") or not _PATHY.search(part):
                    continue
                p = posixpath.normpath(part[len(plan.workdir) + 1:] if part.startswith(plan.workdir + "/") else part)
                paths.append((part, p))
        main = ctx.package.main if ctx.package else None
        if any(w in (".", "./") for w in words) and main:
            paths.append((main, posixpath.normpath(main)))
        out = None
        if next_start:
            out = ".next"
        for _raw, p in paths:
            hit = next((c for c in candidates if p == c or p.startswith(c + "/")), None)
            if hit and out is None:
                out = hit
        if out is None:
            raise _Abort(f"cannot tell where the build writes its output: the start command {desc} runs from "
                         f"none of tsconfig.json's outDir or {', '.join(OUTPUT_DIRS)}")
        outside = [raw for raw, p in paths if not (p == out or p.startswith(out + "/")) and p != "package.json"]
        if outside:
            raise _Abort(f"the start command {desc} also uses {', '.join(outside)}, outside the build output "
                         f"{out}/")
        extra: list[str] = []
        if out == ".next":
            for name in ("next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs"):
                if ctx.read_file(name) is not None and not dockerignore_matches(ctx.dockerignore, name):
                    extra.append(name)
        return out, extra

    # -- the edit ---------------------------------------------------------------------------
    def _fix(self, doc: Document, ctx: Context, stage: Stage, plan: _Plan, out_dir: str, extra: list[str]) -> Fix:
        frm = stage.from_
        nl = doc.newline
        name = stage.name
        edits: list[Edit] = []
        if name is None:
            name = "build"
            edits.append(Edit.insert(frm.args_span.end, f" {keyword(doc, 'AS', frm)} build"))

        # deletions of moved instructions (with their comment blocks), merged when adjacent
        ranges: list[list[int]] = []
        for ins in plan.moved:
            seg = next(s for s in doc.segments if s.kind == "instruction" and s.span.start == ins.span.start)
            start = line_insert_offset(doc, ins)
            if ranges and ranges[-1][1] == start:
                ranges[-1][1] = seg.span.end
            else:
                ranges.append([start, seg.span.end])
        edits += [Edit(s, e, "") for s, e in ranges]

        def verbatim(ins: Instruction, with_comments: bool) -> str:
            start = line_insert_offset(doc, ins) if with_comments else doc.line_start(ins.line)
            return doc.source[start:ins.span.end]

        kw = lambda w: keyword(doc, w, frm)  # noqa: E731
        flags = " ".join(doc.text(f.span) for f in frm.flags if "BUILDPLATFORM" not in (f.value or ""))
        lines = [f"{kw('FROM')} {flags + ' ' if flags else ''}{doc.text(stage.base_span)}"]
        lines += [verbatim(i, False) for i in plan.prelude]
        pkg_files = ["package.json", ctx.lockfile or ""]
        for rc in (".npmrc",) + ((".yarnrc",) if ctx.lock_kind == "yarn-v1" else ()):
            if ctx.read_file(rc) is not None and not dockerignore_matches(ctx.dockerignore, rc) \
                    and rc not in plan.install.logical:
                pkg_files.append(rc)
        lines.append(f"{kw('COPY')} {' '.join(pkg_files)} ./")
        run_flags = " ".join(doc.text(f.span) for f in plan.install.flags)
        lines.append(f"{kw('RUN')} {run_flags + ' ' if run_flags else ''}"
                     f"{plan.install_prefix}{PROD_INSTALL[ctx.lock_kind or 'npm']}")
        src = posixpath.join(plan.workdir, out_dir)
        lines.append(f"{kw('COPY')} --from={name} {src} ./{out_dir}")
        for f in extra:
            lines.append(f"{kw('COPY')} --from={name} {posixpath.join(plan.workdir, f)} ./")
        lines += [verbatim(i, False) for i in plan.after]
        lines += [verbatim(i, True) for i in plan.moved]
        block = nl.join(lines)

        # where the new stage goes: the end of the file, after one blank line
        deleted = [e for e in edits if e.text == ""]
        rest = doc.source
        for e in sorted(deleted, key=lambda e: e.start, reverse=True):
            rest = rest[:e.start] + rest[e.end:]
        if rest.endswith(nl + nl) or rest.endswith("\n\n"):
            prefix = ""
        elif rest.endswith("\n"):
            prefix = nl
        else:
            prefix = nl + nl
        suffix = nl if doc.final_newline else ""  # the new last line ends like the old one
        edits.append(Edit.insert(len(doc.source), prefix + block + suffix))

        moved = sorted({i.keyword for i in plan.moved})
        message = (f"split into a build stage `{name}` (all dependencies, then the build: {plan.build_reason}) and "
                   f"a production stage with `{PROD_INSTALL[ctx.lock_kind or 'npm']}` and the build output "
                   f"{src}" + (f"; {', '.join(moved)} moved to the production stage" if moved else "")
                   + "".join(f"; {why}" for why in plan.build_only))
        note = (f"the production image holds only package.json, {ctx.lockfile}, the production node_modules and "
                f"{out_dir}/{' and ' + ', '.join(extra) if extra else ''}: add a `COPY --from={name} ...` line for "
                "any other file the app reads at run time (views, public/, config, migrations)")
        return Fix(self.code, message, frm.line, tuple(edits), self.default_applicability,
                   (note, *plan.kept_globals))
