"""Run the app under an init process (dumb-init) as PID 1, in exec form.

## What it does
In the final stage of an application's runtime image it installs ``dumb-init`` with the base
image's package manager, without adding a hadolint warning the file did not have:

* where the stage (or a stage it is built ``FROM``) already has a package-install ``RUN``
  (``apk add ...``, ``apt-get install ...``), ``dumb-init`` joins its package list
  (``RUN apk add --no-cache git dumb-init``) -- no second install ``RUN`` (DL3059);
* where the file pins its OS packages (``curl=8.5.0-r0``, ``curl=7.88.1-10+deb12u5``),
  ``dumb-init`` is pinned too, to the version the base image's release ships (a dated table:
  Debian bookworm ``1.2.5-2``, trixie ``1.2.5-3``; Alpine 3.17-3.18 ``1.2.5-r2``, 3.19-3.21
  ``1.2.5-r3``); with no install ``RUN`` to join, a new pinned one goes right after ``FROM``:
  ``RUN apk add --no-cache dumb-init=1.2.5-r3`` or
  ``RUN apt-get update && apt-get install -y --no-install-recommends dumb-init=1.2.5-2 && rm -rf /var/lib/apt/lists/*``;
* otherwise (no install ``RUN`` to join and no pins, or pins but no known version for the
  release: ``node:22-alpine`` names none) nothing is edited, because a new unpinned install would
  add hadolint DL3018 (apk) or DL3008 (apt-get): a report-only finding names
  ``docker run --init`` (compose ``init: true``) and the exact ``RUN`` and ``ENTRYPOINT`` lines
  to add by hand; the ``CMD`` below is still rewritten to start ``node`` directly (unsafe), so
  under the engine's init no package manager sits between the init and the app.  An install is
  not joined when it is conditional (``if``, ``||``), a virtual
  package group deleted again (``apk add --virtual``), next to ``apt-mark auto``, or runs as a
  non-root user.

then starts the command through it:

* no ``ENTRYPOINT``: adds ``ENTRYPOINT ["dumb-init", "--"]`` before the ``CMD`` and writes the
  ``CMD`` in exec form;
* an exec-form ``ENTRYPOINT ["./entrypoint.sh"]`` becomes
  ``ENTRYPOINT ["dumb-init", "--", "./entrypoint.sh"]`` (its ``CMD`` is left alone).

``CMD npm start`` (also ``npm run start``, ``yarn start``, ``pnpm start``, shell or exec form)
becomes ``CMD ["node", "<file>", ...]`` when ``scripts.start`` in package.json is exactly a plain
``node <file> [args]`` and there are no ``prestart``/``poststart`` scripts; otherwise the
package-manager command stays (now under the init) and the report says why.  ``yarn start`` of
a yarn berry project stays unless ``.yarnrc.yml`` sets ``nodeLinker: node-modules``: with
Plug'n'Play (berry's default) there is no ``node_modules`` for a plain ``node`` to load from.
A ``CMD`` that names a script file (``CMD ["server.js"]``), which the official image's
``docker-entrypoint.sh`` used to run with ``node``, gets the ``node`` in front explicitly.
Install line, ``ENTRYPOINT`` and ``CMD`` are one fix: they apply together.

Images that already start under ``dumb-init``, ``tini`` (``/sbin/tini``, ``tini-static``),
``docker-init``, ``catatonit`` or s6's ``/init`` are left alone.

## Why
PID 1 in a container gets no default signal handlers from the kernel: a Node.js process that
does not install its own ``SIGTERM`` handler ignores ``docker stop``, which then waits for its
timeout and kills it.  PID 1 must also reap orphaned child processes, which Node.js does not do.
``npm start`` as PID 1 adds a layer that does not reliably forward signals.  ``dumb-init``
forwards signals to the app (to its whole process group) and reaps zombies.

## Example
```diff
 FROM node:22-alpine
+RUN apk add --no-cache dumb-init
 WORKDIR /app
 COPY . .
-CMD npm start
+ENTRYPOINT ["dumb-init", "--"]
+CMD ["node", "server.js"]
```

## Fix safety
Unsafe.  The new ``ENTRYPOINT`` replaces the base image's one: for the official ``node`` images
that is ``docker-entrypoint.sh``, whose only job is to put ``node`` in front of a script name,
which the fix does explicitly.  Other bases are only changed when their entrypoint is known to be
empty (``alpine``, ``debian``, ``ubuntu``).  ``docker run <image> <args>`` now replaces the
``CMD`` under dumb-init, the same as before.  Installing a package needs network access at build
time; a pinned version is the one the release ships, and breaks (like the file's other pins)
when the distribution publishes a new one.  Skipped, with a reason, when the final stage is not
an application's runtime (a base-image build such as the official node image's own Dockerfile,
whose ``apt-mark auto``/``purge --auto-remove`` would remove the package again; development,
test and build-only images; nginx or Java stages: see ``fixer/roles.py``), for a base or tool
image (no package.json in the build context, an ENTRYPOINT script that runs the command it is
given -- ``exec "$@"``, often after ``su-exec`` -- and no CMD that names an application: none, a
shell, the ``node`` REPL; a script that is not in the build context is named as the missing
fact), when the build context has no package.json at all (nothing shows that an application
runs there), when the distro
cannot be told (unknown or distroless base, a base image from an unresolved build argument),
when the base's Debian release is archived (jessie, stretch, buster: ``apt-get update`` fails
there; ``node:14``, ``node:16-buster-slim``), for a shell-form ``ENTRYPOINT``, or when the final
stage has no ``CMD``.  A ``CMD`` that needs a shell (``$PORT``, ``&&``) keeps its shell form:
dumb-init signals the shell's whole process group, so the app still gets ``SIGTERM``.

## Related codes
hadolint DL3025 (loosely: exec form); it never adds DL3018, DL3008 or DL3059; Node.js Docker best
practices ("Use an init system").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Instruction, Stage
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.transform import Transform

from ._appevidence import no_package_skip, tool_image_skip
from ._images import base_image
from ._layout import keyword, new_line_after, new_line_before
from ._ospkgs import DUMB_INIT_VERSIONS, file_pins, merge_target, release_of
from ._roles import not_runtime_skip
from ._shell import json_array, shell_reason
from ._stages import is_root_user
from ._startcmd import (
    INITS,
    argv_of,
    final_command,
    is_init,
    script_command,
)

INSTALL = {
    "alpine": "apk add --no-cache dumb-init",
    "debian": "apt-get update && apt-get install -y --no-install-recommends dumb-init "
              "&& rm -rf /var/lib/apt/lists/*",
}
#: Bases whose own ENTRYPOINT is known, so replacing it is understood.
_KNOWN_ENTRYPOINT_REPOS = ("docker.io/library/node", "docker.io/library/alpine", "docker.io/library/debian",
                           "docker.io/library/ubuntu")
SCRIPT_SUFFIXES = (".js", ".mjs", ".cjs")
_INIT_RE = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, INITS - {"init"}))) + r")(?![\w-])")


def _first_word(ins: Instruction) -> list[str] | None:
    if ins.is_json:
        return list(ins.json_args or ())
    return [w.value for w in ins.words[:1]]


class InitProcess(Transform):
    code = "DFX007"
    name = "init-process"
    summary = "Run the app under dumb-init as PID 1, with the command in exec form"
    default_applicability = Applicability.UNSAFE
    related = ("DL3025", "JSONArgsRecommended")  # it also turns a shell-form CMD into exec form
    after = (
        "DFX010",  # hardens the production stage the split made
        "DFX012",  # picks apt-get or apk for the variant the production stage ends on
    )

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        stage = doc.final_stage
        if stage is None:
            return
        chain = doc.stage_chain(stage)
        entrypoints = [i for st in chain for i in st.instructions if i.keyword == "ENTRYPOINT"]
        cmds = [i for st in chain for i in st.instructions if i.keyword == "CMD"]
        ep, cmd = final_command(doc)
        if ep is not None and is_init(_first_word(ep)):
            if not_runtime_skip(self.code, doc, ctx, "") is not None:
                return  # not an application's runtime: its start command is not ours to change
            yield from self._start_under_init(doc, ctx, stage.index, ep, cmd)
            return  # already under an init
        if cmd is not None and is_init(_first_word(cmd)):
            return
        if any(_INIT_RE.search(i.logical) for i in entrypoints + cmds):
            return  # an init started some other way (`sh -c "exec tini ..."`)
        line = (cmd or ep or stage.from_).line
        skip = not_runtime_skip(self.code, doc, ctx, "an init process (dumb-init)") \
            or tool_image_skip(self.code, doc, ctx, "an init process (dumb-init)")
        if skip is not None:
            yield skip
            return
        if (ep is not None and ep.stage != stage.index) or (ep is None and cmd is not None and cmd.stage != stage.index):
            yield Skip(self.code, "the final stage inherits its command from another stage; add the init there", line)
            return
        if ep is None and cmd is None:
            yield Skip(self.code, "the final stage sets no CMD or ENTRYPOINT", stage.from_.line)
            return
        if ep is not None and not ep.is_json:
            yield Skip(self.code, f"ENTRYPOINT on line {source_line(doc, ep.line)} is in shell form: `/bin/sh -c` is PID 1 and "
                       "wrapping it would not reach the app; write it in exec form first", ep.line)
            return
        if ep is not None and not ep.json_args:
            yield Skip(self.code, f"ENTRYPOINT on line {source_line(doc, ep.line)} is empty", ep.line)
            return

        base = base_image(doc, stage)
        if base.reason:
            yield Skip(self.code, f"cannot tell how to install dumb-init: {base.reason}", stage.from_.line)
            return
        if base.distroless:
            yield Skip(self.code, f"the base image `{base.image}` is distroless (no shell or package manager) "
                       "to install dumb-init; run with `docker run --init` or copy tini from a build stage",
                       stage.from_.line)
            return
        if base.distro not in INSTALL:
            yield Skip(self.code, f"unknown distro for the base image `{base.image}`: cannot tell whether to "
                       "use apk or apt-get to install dumb-init", stage.from_.line)
            return
        installed = any(i.keyword == "RUN" and "dumb-init" in i.logical for st in chain for i in st.instructions)
        archived = ctx.node_images.archived_release(base.image) if not installed else None
        if archived is not None:
            yield Skip(self.code, f"the base image `{base.image}` is {archived.label}, archived since "
                       f"{archived.since}: `apt-get update` fails there, so dumb-init cannot be installed; move to "
                       "a supported base first (DFX003 reports end-of-life node images)", stage.from_.line)
            return
        if ep is None and not _known_entrypoint(base.image):
            yield Skip(self.code, f"the base image `{base.image}` may define its own ENTRYPOINT, which a new "
                       "ENTRYPOINT would replace", line)
            return
        for parent in chain[1:]:
            users = [i for i in parent.instructions if i.keyword == "USER"]
            if users and not is_root_user(users[-1].args_text):
                yield Skip(self.code, f"stage `{parent.name}` switches to USER {users[-1].args_text} (line "
                           f"{source_line(doc, users[-1].line)}), so a package install after FROM would fail", stage.from_.line)
                return
        skip = no_package_skip(self.code, doc, ctx, "an init process (dumb-init)", "an init should start")
        if skip is not None:
            yield skip
            return

        edits: list[Edit] = []
        notes: list[str] = []
        if not installed:
            install, why = self._install(doc, stage, base.image, base.distro)
            if install is None:
                yield self._by_hand(base.distro, ep, why, line)
                if ep is None and cmd is not None:
                    yield from self._direct(doc, ctx, cmd, base.is_node)
                return
            edits.append(install)
            notes.append(why)

        if ep is not None:
            assert ep.json_args is not None  # exec form, checked above
            edits.append(Edit.replace(ep.args_span, json_array(["dumb-init", "--", *ep.json_args])))
            what = f"wrap ENTRYPOINT {json_array(list(ep.json_args))} in dumb-init"
        else:
            assert cmd is not None
            edits.append(new_line_before(doc, cmd, f"{keyword(doc, 'ENTRYPOINT', cmd)} {json_array(['dumb-init', '--'])}"))
            what = "start the CMD under dumb-init"
            new_cmd, skip = self._command(doc, ctx, cmd, base.is_node)
            if skip is not None:
                yield skip
            if new_cmd is not None:
                edits.append(Edit.replace(cmd.args_span, json_array(new_cmd)))
                what += f" as {json_array(new_cmd)}"
            elif not cmd.is_json:
                notes.append(f"the CMD {shell_reason(cmd.args_text) or 'needs a shell'}, so it stays in shell form; "
                             "dumb-init signals the shell's whole process group")
        yield Fix(self.code, f"run the app under an init process: {what}", line, tuple(edits),
                  self.default_applicability, tuple(notes))

    def _install(self, doc: Document, stage: Stage, image: str | None, distro: str) -> tuple[Edit | None, str]:
        """The edit that installs dumb-init without a new hadolint warning, and a note; or None and
        why there is none.  It joins the stage's package install where there is one; it is pinned
        where the file pins its OS packages (to the version the base image's release ships)."""
        release = release_of(image, distro)
        version = DUMB_INIT_VERSIONS.get((distro, release)) if release else None
        pins = file_pins(doc)
        target, passed = merge_target(doc, stage, "apk" if distro == "alpine" else "apt")
        known = f"{distro} {release}" if release else f"`{image}` (its tag names no release)"
        if target is not None:
            if pins and version:
                pkg, how = f"dumb-init={version}", f", pinned to {version}, the version {known} ships"
            elif pins and all(target.pinned):
                return None, (f"the file pins its OS packages, and no dumb-init version is known for {known}, so "
                              f"it cannot join the pinned install on line {source_line(doc, target.ins.line)} without a "
                              f"lint warning")
            else:
                pkg, how = "dumb-init", ""
            last = target.cmd.words[-1]
            return Edit.insert(last.span.end, f" {pkg}"), (f"dumb-init joins the package install on line "
                                                           f"{source_line(doc, target.ins.line)}{how}")
        if pins and version:
            run = INSTALL[distro].replace("dumb-init", f"dumb-init={version}")
            return (new_line_after(doc, stage.from_, f"{keyword(doc, 'RUN', stage.from_)} {run}"),
                    f"dumb-init is pinned to {version}, the version {known} ships, as the file pins its packages")
        why = "the final stage has no package-install RUN to add dumb-init to" + (f" ({passed})" if passed else "")
        if pins:
            return None, f"{why}, and no dumb-init version is known for {known} to pin it like the file's other packages"
        lint = "DL3018" if distro == "alpine" else "DL3008"
        return None, f"{why}, and a new unpinned install would add a hadolint {lint} warning"

    def _by_hand(self, distro: str, ep: Instruction | None, why: str, line: int) -> Fix:
        """A report-only finding: the init the runtime can add, and the lines to add by hand."""
        wrapped = ["dumb-init", "--", *(ep.json_args or ())] if ep is not None else ["dumb-init", "--"]
        return Fix(self.code, "run the app under an init process: start the container with `docker run --init` "
                   "(compose: `init: true`), or install dumb-init by hand", line, (), Applicability.DISPLAY_ONLY,
                   (f"not edited: {why}",
                    f"by hand: `RUN {INSTALL[distro]}` (pinned like your other packages, if you pin them) and "
                    f"`ENTRYPOINT {json_array(wrapped)}`"))

    def _start_under_init(self, doc: Document, ctx: Context, final: int, ep: Instruction,
                          cmd: Instruction | None) -> Iterable[Fix | Skip]:
        """``CMD npm start`` under an existing init ENTRYPOINT (``["dumb-init", "--"]``): replace it
        with the plain node command when the start script allows, else say why it stays."""
        args = list(ep.json_args or ()) if ep.is_json else [w.value for w in ep.words]
        if cmd is None or cmd.stage != final or args[1:] not in ([], ["--"]):
            return
        argv = argv_of(cmd)
        if argv is None:  # a CMD without words: nothing to resolve
            return
        run, resolved, why = script_command(doc, ctx, argv)
        if run is None:
            return
        if resolved is None:
            yield Skip(self.code, f"`{' '.join(argv)}` stays (under {args[0].rsplit('/', 1)[-1]}): {why}", cmd.line)
            return
        yield Fix(self.code, f"run {json_array(resolved)} directly instead of `{' '.join(argv)}` ({why}): the "
                  "package manager no longer sits between the init and the app", cmd.line,
                  (Edit.replace(cmd.args_span, json_array(resolved)),), self.default_applicability)

    def _direct(self, doc: Document, ctx: Context, cmd: Instruction, node_base: bool) -> Iterable[Fix | Skip]:
        """With the init left to the engine (``docker run --init``), the app can still start
        directly: ``npm start`` becomes ``node server.js`` when the start script is exactly that, so
        no package manager sits between the init and node (SIGTERM reaches the app); otherwise the
        report says why the command stays."""
        new_cmd, skip = self._command(doc, ctx, cmd, node_base, under="")
        if skip is not None:
            yield skip
        argv = argv_of(cmd)
        if new_cmd is None or argv is None or new_cmd == argv or new_cmd[0] != "node":
            return
        yield Fix(self.code, f"run {json_array(new_cmd)} directly instead of `{' '.join(argv)}`: no package "
                  "manager between the init and the app, so SIGTERM reaches node", cmd.line,
                  (Edit.replace(cmd.args_span, json_array(new_cmd)),), self.default_applicability)

    def _command(self, doc: Document, ctx: Context, cmd: Instruction, node_base: bool, under: str = " (under dumb-init)"
                 ) -> tuple[list[str] | None, Skip | None]:
        """The new exec-form argv for the CMD (None: leave it as it is) and a skip note."""
        has_shell = any(i.keyword == "SHELL" for i in doc.stages[cmd.stage].instructions)
        if not cmd.is_json and has_shell:
            return None, None  # runs through the stage's custom SHELL: leave it to that shell
        argv = argv_of(cmd)
        if not argv:
            return None, None
        run, resolved, why = script_command(doc, ctx, argv)
        if run is not None:
            if resolved is not None:
                return resolved, None
            skip = Skip(self.code, f"`{' '.join(argv)}` stays{under}: {why}", cmd.line)
            return (None if cmd.is_json else argv), skip
        if node_base and (argv[0].startswith("-") or argv[0].endswith(SCRIPT_SUFFIXES)):
            return ["node", *argv], None  # what docker-entrypoint.sh did with a script name
        return (None if cmd.is_json else argv), None


def _known_entrypoint(image: str | None) -> bool:
    from dockerfix.fixer.imageref import ImageRefError, parse

    try:
        return parse(image or "").repository in _KNOWN_ENTRYPOINT_REPOS
    except ImageRefError:
        return False
