"""Run the final stage as the non-root ``node`` user.

## What it does
For a final stage built on the official ``node`` image (directly or through earlier stages), and
running as root, it:

* adds ``USER node`` (or ``USER 1000`` with ``user = "1000"`` in the configuration) after every
  step that needs root and before the first ``RUN`` that can run as ``node`` (``npm ci``,
  ``npm run build``, ``yarn``...), so dependency installs and builds already run unprivileged;
  when no such ``RUN`` follows, before ``CMD``/``ENTRYPOINT`` (or at the end of the stage);
* adds ``--chown=node:node`` (``--chown=1000:1000``) to every ``COPY``/``ADD`` after the
  ``WORKDIR`` or into it (``COPY --from=build`` and JSON form too; other flags are kept; a
  ``--chown`` already there is left alone);
* when a ``RUN`` will run as ``node`` inside the ``WORKDIR``, makes the directory itself
  writable with ``RUN chown node:node /app`` right after the ``WORKDIR`` line;
* hands the folders the stage creates as root to ``node`` in the same (non-recursive) ``chown``:
  ``RUN mkdir -p /app/uploads /var/log/app`` (or ``install -d``, an earlier ``WORKDIR``, a
  ``VOLUME``, which also gets a ``mkdir -p``) before the ``USER`` line would leave them
  root-owned and the app would get ``EACCES`` writing there.  The ``chown`` joins the ``RUN``
  that creates the last of them (``RUN mkdir -p /app/uploads && chown node:node /app/uploads``: a
  second ``RUN`` next to it would be hadolint DL3059), else it is a new line after the
  instruction that does, before any ``VOLUME`` of them; a ``COPY`` into such a folder gets
  ``--chown`` too.  Never ``chown -R`` (it would copy ``node_modules`` into a new layer).  Left
  alone: folders the file already hands out (``chown``, ``install -o``, ``mkdir -m 1777``,
  ``chmod o+w``), folders removed again, system and scratch places (``/etc``, ``/usr``,
  ``/tmp``, ``/root``, package caches), paths with variables; a folder created conditionally
  (``if ...; then mkdir``) is named in a note instead.

Steps that need root stay before the ``USER`` line: package installs (``apt-get``, ``apk``),
``npm install -g``, ``corepack enable``, ``chown``, ``useradd`` and any ``RUN`` that is not plainly
a project-local ``npm``/``yarn``/``pnpm``/``npx``/``node`` command (``RUN --mount`` included).

## Why
A process running as root inside a container is root on the host's kernel: a remote code
execution bug in the app or a dependency becomes a container escape away from the host.
Kubernetes ``runAsNonRoot`` refuses to start images whose user it cannot prove non-root;
with ``user = "1000"`` the image declares a numeric uid it can verify.

Why the explicit ``chown`` of the ``WORKDIR``: ``WORKDIR /app`` creates a missing directory owned
by root with the classic builder (``ContainerCreateWorkdir`` uses the daemon's root uid/gid).
BuildKit creates it as the current ``USER`` (``dispatchWorkdir`` passes ``llb.WithUser`` of the
image's user to ``llb.Mkdir``), but only when the directory does not exist yet and only under
BuildKit. ``COPY --chown`` changes the copied files, not an existing destination directory. So
``npm ci`` as ``node`` would fail with ``EACCES`` creating ``node_modules``; one ``chown`` of the
directory (not recursive, so cheap) works with every builder.

## Example
```diff
 FROM node:22-alpine
 WORKDIR /app
+RUN chown node:node /app
-COPY package*.json ./
+COPY --chown=node:node package*.json ./
+USER node
 RUN npm ci --omit=dev
-COPY . .
+COPY --chown=node:node . .
 CMD ["node", "server.js"]
```

## Fix safety
Unsafe: the app loses write access to files it does not own (anything outside the ``WORKDIR``);
mounted volumes may hold root-owned files.
Not added, with a reason that says what to do instead, when the image needs to start as root:

* the app binds a port below 1024 (``EXPOSE 80``, ``ENV PORT=80``, ``PORT=80`` or ``--port 80``
  in the start command or in the package.json script it runs): a non-root user cannot bind it
  without ``CAP_NET_BIND_SERVICE`` (Docker 20.10+ allows it by default through
  ``net.ipv4.ip_unprivileged_port_start=0``; Kubernetes and ``--network host`` do not) -- bind a
  port >= 1024 and map it, or grant the capability;
* the entrypoint steps down to another user itself (``gosu``, ``su-exec``, ``setpriv``,
  ``chroot --userspec``, ``runuser``, ``s6-setuidgid``, ``su -c`` in ENTRYPOINT/CMD or in the
  entrypoint script, read from the build context; a script that is not there is a skip too);
* the ``WORKDIR`` (or the start file) is under ``/root``, mode 0700;
* the image installs ``gosu``/``su-exec`` (to step down at start), or the file deletes or
  changes the ``node`` user (``deluser node``).

Skipped, with a reason: a final stage that is not an application's runtime (a base-image build,
a development, test or build-only image, nginx or Java: see ``fixer/roles.py``); a base or tool
image with no package.json in the build context whose ENTRYPOINT script runs the command it is
given (``exec "$@"``, often after ``su-exec``) and whose CMD names no application (none, a shell,
the bare ``node`` REPL) -- when that script is not in the build context, the reason says so; no
package.json in the build context at all (nothing shows that the process is a Node.js app that
works as uid 1000); bases other than
the official ``node`` image (no known non-root user: nginx, python, distroless images...), a
``USER`` from a variable, a configured user other than ``node``/``1000``, a ``WORKDIR`` given by
a variable or a relative path when a ``RUN`` would need to write to it.
A final ``USER root``/``USER 0`` is reported (display-only, like hadolint DL3002), so ``--check``
fails on it: the steps after it were written to need root, so they must move before a non-root
``USER`` by hand.

## Related codes
hadolint DL3002 (last user should not be root); Trivy DS-0002 / AVD-DS-0002; Checkov
CKV_DOCKER_3 and CKV_DOCKER_8.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Instruction
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.transform import Transform

from ._appevidence import no_package_skip, tool_image_skip
from ._images import base_image
from ._layout import keyword, new_line_after, new_line_before
from ._roles import not_runtime_skip
from ._rootneeds import node_user_removed, privileged_port, root_workdir, step_down
from ._writable import root_created_dirs
from ._pkgmanagers import PACKAGE_MANAGERS, PACKAGE_RUNNERS
from ._stages import effective_user, is_root_user

#: Programs a project-local RUN may call as the ``node`` user.
_NODE_TOOLS = PACKAGE_MANAGERS | PACKAGE_RUNNERS | {"node"}
#: Harmless commands allowed when all their paths are relative (inside the WORKDIR).
_LOCAL_TOOLS = frozenset({"rm", "mkdir", "cp", "mv", "touch", "echo", "true", "ls", "test", "["})
_GLOBAL_FLAGS = frozenset({"-g", "--global", "--location=global", "--unsafe-perm", "--prefix", "-C", "--dir"})
_RUNTIME = ("CMD", "ENTRYPOINT")


def runs_as_node(ins: Instruction) -> bool:
    """Can this RUN run unprivileged?  Only plain project-local package-manager/node commands
    (and relative-path file commands); anything else is assumed to need root."""
    cmds = ins.commands  # none for exec form or another instruction
    if not cmds or ins.heredocs or ins.flags:
        return False
    for cmd in cmds:
        argv, prog = cmd.argv, cmd.program
        if prog in _NODE_TOOLS:
            if any(a in _GLOBAL_FLAGS or a.startswith("--prefix=") for a in argv[1:]):
                return False
            if prog == "yarn" and len(argv) > 1 and argv[1] == "global":
                return False
            if prog in ("npm", "pnpm") and len(argv) > 1 and argv[1] in ("link", "ln", "setup"):
                return False
        elif prog in _LOCAL_TOOLS:
            if any(a.startswith(("/", "~", "..")) for a in argv[1:]):
                return False
        else:
            return False
    return True


def _privileged_ports(ins: Instruction) -> list[str]:
    out = []
    for w in ins.words:
        m = re.fullmatch(r"(\d+)(?:-(\d+))?(?:/\w+)?", w.value)
        if m and int(m.group(1)) < 1024:
            out.append(w.value)
    return out


class NonRoot(Transform):
    code = "DFX006"
    name = "non-root"
    summary = "Run the final stage as the non-root node user"
    default_applicability = Applicability.UNSAFE
    related = ("DL3002", "DS002", "AVD-DS-0002", "CKV_DOCKER_3", "CKV_DOCKER_8")
    after = (
        "DFX010",  # hardens the production stage the split made
        "DFX007",  # USER goes in after the final command is written (init ENTRYPOINT, exec form)...
        "DFX001",  # ... so the lines around CMD keep one layout
    )

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        stage = doc.final_stage
        if stage is None:
            return
        user = ctx.config.user
        numeric = ctx.config.numeric_user
        current = effective_user(doc, stage)
        if current is not None:
            value = current.args_text
            if "$" in value:
                yield Skip(self.code, f"USER on line {source_line(doc, current.line)} comes from a variable (`{value}`): "
                                      f"cannot tell "
                           "whether the image runs as root", current.line)
            elif is_root_user(value):
                # hadolint DL3002: a finding to fix by hand (report-only), so --check fails on it
                yield Fix(self.code, f"the final stage switches back to root (USER {value} on line "
                          f"{source_line(doc, current.line)}); the steps after it were written to need root, so "
                          "move them before a non-root USER by hand", current.line, (), Applicability.DISPLAY_ONLY)
            else:
                yield from self._ports(stage)
            return
        skip = not_runtime_skip(self.code, doc, ctx, f"USER {user}") or tool_image_skip(self.code, doc, ctx, f"USER {user}")
        if skip is not None:
            yield skip
            return
        base = base_image(doc, stage)
        if base.reason:
            yield Skip(self.code, f"cannot tell which non-root user exists: {base.reason}", stage.from_.line)
            return
        if not base.is_node:
            yield Skip(self.code, f"the base image `{base.image}` is not an official node image, so there is no "
                       "known non-root user to switch to; create one and add USER by hand", stage.from_.line)
            return
        if user not in ("node", "1000"):
            yield Skip(self.code, f"the configured user `{user}` is not the node image's user (`node`, uid 1000); "
                       "create it in the Dockerfile and add USER by hand", stage.from_.line)
            return
        reason = self._needs_root(doc, stage, ctx, user)
        if reason is not None:
            yield Skip(self.code, reason, stage.from_.line)
            return
        skip = no_package_skip(self.code, doc, ctx, f"USER {user}", "works as uid 1000")
        if skip is not None:
            yield skip
            return
        owner = "1000:1000" if numeric else "node:node"
        body = list(stage.instructions[1:])
        if not body:
            return

        root_pos = max((i for i, ins in enumerate(body) if ins.keyword == "RUN" and not runs_as_node(ins)),
                       default=-1)
        workdirs = [i for i, ins in enumerate(body) if ins.keyword == "WORKDIR"]
        w_pos = workdirs[-1] if workdirs else None
        w_ins = body[w_pos] if w_pos is not None else None
        w_path = w_ins.words[0].value if w_ins is not None and len(w_ins.words) == 1 else None
        usable = w_path is not None and w_path.startswith("/") and "$" not in w_path
        start = max(root_pos, w_pos if w_pos is not None else -1)
        runs_after = [i for i in range(start + 1, len(body)) if body[i].keyword == "RUN"]

        edits: list[Edit] = []
        details: list[str] = []
        notes: list[str] = []
        chown_wd = bool(runs_after and w_ins is not None and usable)
        target: int | None
        if chown_wd:
            target = runs_after[0]
            assert w_path is not None  # usable says so
        else:
            after = runs_after[-1] if runs_after else start
            target = next((i for i in range(after + 1, len(body)) if body[i].keyword in _RUNTIME), None)
            if runs_after:
                why = "there is no WORKDIR" if w_ins is None else f"WORKDIR `{w_ins.args_text}` is not a plain absolute path"
                notes.append(f"RUN steps from line {source_line(doc, body[runs_after[0]].line)} on keep running as root: "
                             f"{why}, so "
                             f"their directory cannot be made writable for {user}")
        w_clean = (w_path or "").rstrip("/") or "/" if usable else None
        dirs, dir_notes = root_created_dirs(doc, stage, body, target, w_pos)
        notes.extend(dir_notes)
        dirs = [d for d in dirs if d.path != w_clean]
        anchor = max([d.index for d in dirs if d.how != "VOLUME"] + ([w_pos] if chown_wd and w_pos is not None else []),
                     default=-1)
        volumes = {p: i for i, ins in enumerate(body) if ins.keyword == "VOLUME"
                   for p in (list(ins.json_args or ()) if ins.is_json else [w.value for w in ins.words])}
        late = [d for d in dirs if d.path in volumes and volumes[d.path] <= anchor]
        for d in late:
            notes.append(f"VOLUME {d.path} (line {source_line(doc, body[volumes[d.path]].line)}) is declared before the "
                         f"folder can be "
                         f"handed to {user}: chown it before the VOLUME line by hand")
        dirs = [d for d in dirs if d not in late]
        paths = ([w_clean] if chown_wd and w_clean else []) + [d.path for d in dirs]
        if paths:
            fresh = [d.path for d in dirs if d.how == "VOLUME"]
            run = (f"mkdir -p {' '.join(fresh)} && " if fresh else "") + f"chown {owner} {' '.join(paths)}"
            at = body[anchor] if anchor >= 0 else stage.from_
            if at.keyword == "RUN" and not at.is_json and not at.heredocs and at.shell.simple:
                edits.append(Edit.insert(at.args_span.end, f" && {run}"))  # in the RUN that made them (no DL3059)
            else:
                edits.append(new_line_after(doc, at, f"{keyword(doc, 'RUN', at)} {run}"))
            if chown_wd:
                details.append(f"chown the WORKDIR {w_clean} so RUN steps as {user} can write to it")
            if dirs:
                details.append(f"chown the folders created as root that the app may write to: "
                               f"{', '.join(d.path for d in dirs)}")
        user_line = f"{keyword(doc, 'USER', stage.from_)} {user}"
        if target is None:
            edits.append(new_line_after(doc, body[-1], user_line))
            where = "at the end of the final stage"
        else:
            edits.append(new_line_before(doc, body[target], user_line))
            where = f"before line {source_line(doc, body[target].line)}"

        chowned = 0
        prefix = (w_path or "").rstrip("/") + "/"
        for i, ins in enumerate(body):
            if ins.keyword not in ("COPY", "ADD") or ins.flag("chown") is not None:
                continue
            dest = ins.json_args[-1] if ins.is_json and ins.json_args else (ins.words[-1].value if ins.words else "")
            into_workdir = w_ins is not None and usable and (dest.rstrip("/") + "/").startswith(prefix)
            after_workdir = w_ins is not None and w_pos is not None and i > w_pos
            into_dir = dest.startswith("/") and any((dest.rstrip("/") + "/").startswith(d.path.rstrip("/") + "/")
                                                    for d in dirs)
            if after_workdir or into_workdir or into_dir:
                edits.append(Edit.insert(ins.args_span.start, f"--chown={owner} "))
                chowned += 1
        if chowned:
            details.append(f"--chown={owner} on {chowned} COPY/ADD")
        message = f"run the final stage as {user}: USER {user} {where}" + (f"; {'; '.join(details)}" if details else "")
        yield Fix(self.code, message, stage.from_.line, tuple(edits), self.default_applicability, tuple(notes))

    @staticmethod
    def _needs_root(doc: Document, stage, ctx: Context, user: str) -> str | None:
        """Why the image must keep starting as root (class 7 of issue 12), or None."""
        where = node_user_removed(doc, stage)
        if where is not None and user == "node":
            return (f"USER node not added: the file removes or changes the node user ({where}); create the user "
                    "the app should run as and add USER by hand")
        where = root_workdir(doc, stage)
        if where is not None:
            return (f"USER {user} not added: the app lives under /root ({where}), which is mode 0700, so {user} "
                    f"cannot even enter it; move the app to /app (or /home/node/app), then run as {user}")
        where = privileged_port(doc, stage, ctx)
        if where is not None:
            return (f"USER {user} not added: the app binds a port below 1024 ({where}), which a non-root user "
                    "cannot bind without CAP_NET_BIND_SERVICE (Docker 20.10+ allows it by default, Kubernetes and "
                    "--network host do not); bind a port >= 1024 and map it (`docker run -p 80:8080`), or grant "
                    f"CAP_NET_BIND_SERVICE, then run as {user}")
        where, unknown = step_down(doc, stage, ctx)
        if where is not None:
            return (f"USER {user} not added: the entrypoint steps down to another user itself ({where}), so it "
                    f"must start as root; keep it, or drop the step-down and run as {user} with USER")
        if unknown is not None:
            return f"USER {user} not added: {unknown}"
        return None

    def _ports(self, stage) -> Iterable[Skip]:
        for ins in stage.instructions:
            if ins.keyword == "EXPOSE":
                ports = _privileged_ports(ins)
                if ports:
                    yield Skip(self.code, f"EXPOSE {' '.join(ports)}: a non-root process cannot bind ports below 1024 "
                               "without CAP_NET_BIND_SERVICE (Docker 20.10+ allows it by default, Kubernetes and "
                               "--network host do not); listen on a port >= 1024 instead", ins.line)
