"""Set NODE_ENV=production in the runtime stage.

## What it does
Adds ``ENV NODE_ENV=production`` (``key=value`` form) to the final stage of a Node.js image:

* right above the stage's dependency install (``npm ci``, ``npm install``, ``yarn``,
  ``pnpm install``...), together with the comment lines directly above that ``RUN``, so npm, yarn
  and pnpm already install for production;
* below the last step that needs devDependencies when the stage builds or tests after installing
  (``npm run build``, ``tsc``, ``next build``, ``npm test``... — the detection DFX004 uses), so the
  build still gets its tools;
* below the install when the start command itself needs a devDependency (``ts-node``,
  ``nodemon``, ``nest start``, which compiles with the project's ``typescript``) -- through the
  script it names (``npm start``, ``npm run start:prod``, ``yarn serve``, with npm's
  ``pre``/``post`` hooks), in the package.json that runs there (in a workspace, the package the
  final WORKDIR holds) -- so the install keeps them;
* below the install when a lifecycle script the install runs (``prepare``, ``postinstall``...,
  of the project or a workspace package) needs a devDependency (``"prepare": "husky"``): under
  ``NODE_ENV=production`` the install would fail with ``husky: not found``;
* right after ``FROM`` when the stage installs nothing (it copies ``node_modules`` from another
  stage), so the variable is in place for every later step.

The final stage counts as a Node stage when its base is a Node image (``node``, ``node:22-slim``,
``*/node:*``, ``gcr.io/distroless/nodejs22-*``), or a stage of this file that derives from one, or
when it runs npm, yarn, pnpm or node.  Nothing is added when ``NODE_ENV`` is already set with
``ENV`` (any syntax: ``ENV NODE_ENV production``, ``ENV A=1 NODE_ENV=production``) in the final
stage or in the stages it is built ``FROM``; a ``NODE_ENV`` ``ARG`` there or before the first
``FROM`` is the user's own mechanism and is reported instead of overridden.

A final stage that is not an application's runtime image (a base-image build, a development,
test or build-only image: ``fixer/roles.py``) is skipped with the evidence of its role.

## Why
Express, Next.js and many other libraries switch to their production behaviour (view caching,
no stack traces in error pages, less logging) only when ``NODE_ENV=production``; without it the
container runs in development mode.  npm, yarn and pnpm also skip devDependencies when it is set,
so installs after it produce a leaner image.  The Node.js Docker best practices recommend setting
it in the image.

## Example
```diff
 FROM node:22-slim
 WORKDIR /app
 COPY package.json package-lock.json ./
+ENV NODE_ENV=production
 RUN npm ci
 COPY . .
 CMD ["node", "server.js"]
```

## Fix safety
Unsafe.  The application itself may read ``NODE_ENV`` and behave differently (other config files,
other logging, disabled debug routes), which is the point but is a behaviour change only the
owner can accept.  An install after the new line leaves devDependencies out; a package wrongly
listed under devDependencies but needed at run time then fails on start.  Placing the line after
every detected build/test step and keeping installs for ``ts-node``/``nodemon`` start commands
avoids the failures that can be seen statically, not those hidden in the application's code.
Nothing is added, and the reason names the missing fact, when there is no readable
``package.json`` in the build context (the install and start command cannot be checked) or, in a
workspace, when the COPY lines do not tell which package the WORKDIR holds.

## Related codes
none (peers only report; no hadolint or BuildKit rule checks NODE_ENV).
"""

from __future__ import annotations

from collections.abc import Iterable

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Instruction, Stage
from dockerfix.fixer.edits import Applicability, Fix, Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.transform import Transform
from dockerfix.fixer.workspaces import read_package, workspace_folders, workspace_patterns

from ._devdeps import dev_step_in_run, lifecycle_dev_scripts, runtime_dev_reason
from ._images import is_node_image
from ._layout import keyword, new_line_after, new_line_before
from ._pkgmanagers import LOCK_KINDS, package_manager_commands
from ._roles import not_runtime_skip
from ._startcmd import command_words, final_package, package_at

VAR = "NODE_ENV"
_NODE_PROGRAMS = {*LOCK_KINDS, "node", "nodejs", "npx", "corepack"}


def env_keys(ins: Instruction) -> list[str]:
    """Names an ``ENV`` (both syntaxes) or ``ARG`` instruction sets."""
    return [a.name for a in ins.assignments]


def is_node_stage(doc: Document, stage: Stage) -> bool:
    """Is ``stage`` a Node.js stage: a Node base image somewhere in its FROM chain, or it runs
    npm/yarn/pnpm/node?"""
    lineage = doc.stage_chain(stage)
    if any(is_node_image(st.base) for st in lineage):
        return True
    for st in lineage:
        for ins in st.instructions:
            if ins.keyword == "RUN" and package_manager_commands(ins):
                return True
            if ins.keyword in ("CMD", "ENTRYPOINT", "RUN") and ins.args_text:
                argv = command_words(ins)
                if argv and argv[0].rsplit("/", 1)[-1] in _NODE_PROGRAMS:
                    return True
    return False


def _lifecycle_needs_dev(ctx: Context) -> str | None:
    """Why an install under NODE_ENV=production would fail: a lifecycle script of the project (or
    of a workspace package) that the install runs needs a devDependency (``"prepare": "husky"``)."""
    packages = [("", ctx.package)]
    patterns = workspace_patterns(ctx.files, ctx.package)
    if patterns is not None:
        packages += [(f, read_package(ctx.files, f).package) for f in workspace_folders(ctx.files, patterns)]
    for folder, pkg in packages:
        for name, reason in lifecycle_dev_scripts(pkg):
            where = f"{folder}/package.json" if folder else "package.json"
            return f"{where} scripts.{name} runs at install time and needs devDependencies ({reason})"
    return None


def _is_install(ins: Instruction) -> bool:
    return any(c.action in ("install", "ci", "focus") and not c.positionals for c in package_manager_commands(ins))


class NodeEnv(Transform):
    code = "DFX005"
    name = "node-env"
    summary = "Set NODE_ENV=production in the runtime stage"
    default_applicability = Applicability.UNSAFE
    related = ()
    after = (
        "DFX010",  # hardens the production stage the split made
    )

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        final = doc.final_stage
        if final is None:
            return
        if not is_node_stage(doc, final):
            if any(is_node_stage(doc, s) for s in doc.stages):
                yield Skip(self.code, f"the final stage (FROM {final.base}, line {source_line(doc, final.from_.line)}) is "
                                      f"not a Node "
                           "stage, so NODE_ENV would have no effect there", final.from_.line)
            return
        for st in doc.stage_chain(final):
            for ins in st.instructions:
                if ins.keyword == "ENV" and VAR in env_keys(ins):
                    return  # already set: nothing to do
                if ins.keyword == "ARG" and VAR in env_keys(ins):
                    yield Skip(self.code, f"NODE_ENV is an ARG on line {source_line(doc, ins.line)}; the build decides "
                                          f"its value, "
                               "ENV NODE_ENV=production not added", ins.line)
                    return
        if VAR in doc.global_args:
            yield Skip(self.code, "NODE_ENV is a global ARG (before the first FROM); the build decides its value, "
                       "ENV NODE_ENV=production not added", final.from_.line)
            return

        skip = not_runtime_skip(self.code, doc, ctx, "ENV NODE_ENV=production")
        if skip is not None:
            yield skip
            return

        if ctx.package is None:
            missing = ctx.missing_package
            yield Skip(self.code, f"ENV NODE_ENV=production not added: {missing}, so whether the install and the "
                       "start command work without devDependencies cannot be checked", final.from_.line)
            return
        package, _folder, why = final_package(doc, ctx)
        if package is None:
            yield Skip(self.code, f"ENV NODE_ENV=production not added: {why}", final.from_.line)
            return

        runs = [i for i in final.instructions if i.keyword == "RUN"]
        install = next((i for i in runs if _is_install(i)), None)
        dev_steps = [i for i in runs if dev_step_in_run(i, package_at(doc, ctx, final, i.index)[0] or ctx.package)]
        last_dev = dev_steps[-1] if dev_steps else None
        line = keyword(doc, "ENV", final.from_) + f" {VAR}=production"
        if last_dev is not None and (install is None or install.index <= last_dev.index):
            edit = new_line_after(doc, last_dev, line)
            where = f"after the build step on line {source_line(doc, last_dev.line)}, which needs devDependencies"
        elif install is not None and (needs := runtime_dev_reason(doc, ctx, package) or _lifecycle_needs_dev(ctx)):
            edit = new_line_after(doc, install, line)
            where = f"after the install on line {source_line(doc, install.line)}: {needs}"
        elif install is not None:
            edit = new_line_before(doc, install, line)
            where = f"before the install on line {source_line(doc, install.line)}, so it installs for production"
        else:
            edit = new_line_after(doc, final.from_, line)
            where = "at the start of the runtime stage"
        yield Fix(self.code, f"set NODE_ENV=production in the runtime stage ({where})", final.from_.line,
                  (edit,), self.default_applicability)
