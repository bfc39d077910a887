"""Report an app entry file that does not handle SIGTERM (never edits).

## What it does
Finds the app's entry file and reports, without changing anything, when it registers no
``SIGTERM``/``SIGINT`` handler.  The entry file is, in order:

1. the script of the final command: ``CMD ["node", "server.js"]`` (also behind an init such as
   ``dumb-init --`` or ``tini --``, and in shell form);
2. for ``npm start``/``yarn start``/``pnpm start``: the file of ``scripts.start`` when it is a
   plain ``node <file>``;
3. ``main`` from package.json (e.g. behind a custom entrypoint script).

The file is read from the build context, assuming the context root is copied to the ``WORKDIR``
(``COPY . .``): a relative path is taken relative to the context root, an absolute path under the
last ``WORKDIR`` is made relative to it.  A compiled entry (``dist/main.js``) that is not in the
context is looked up as its TypeScript source (``src/main.ts``).  Files it ``require``s or
``import``s by relative path are checked too (one level).

A handler is ``process.on('SIGTERM', ...)`` and its variants (``once``, ``addListener``,
``prependListener``, any quote style, ``SIGINT`` too, or a loop over a list of signal names
passed to ``process.on``), or one of the shutdown libraries and hooks: ``stoppable``,
``http-terminator``, ``@godaddy/terminus`` (``createTerminus``), ``lightship``, NestJS
``enableShutdownHooks``, ``fastify-graceful-shutdown``, ``close-with-grace``.

## Why
``docker stop`` (and Kubernetes) send ``SIGTERM`` and wait, by default 10 s (30 s on
Kubernetes), before ``SIGKILL``.  Node.js has no default ``SIGTERM`` behaviour when it runs as
PID 1; under an init it exits at once, dropping in-flight requests and open connections.  A
handler that stops accepting connections, finishes the running ones and closes pools lets
deploys and scale-downs happen without errors.

## Example
```text
DFX008 server.js registers no SIGTERM/SIGINT handler: in-flight requests are cut off on
docker stop; add process.on('SIGTERM', () => server.close(() => process.exit(0)))
```

## Fix safety
Display only: it needs a code change in the app, which dockerfix does not make.  Skipped, with a
reason, when the entry file cannot be told or is not in the build context.

## Related codes
Node.js Docker best practices ("Shut down gracefully"); none in hadolint or BuildKit.
"""

from __future__ import annotations

import posixpath
import re
from typing import Iterable

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Instruction
from dockerfix.fixer.edits import Applicability, Fix, Skip
from dockerfix.fixer.transform import Transform

from ._startcmd import (
    argv_of,
    final_command,
    node_entry_file,
    script_invocation,
    start_script_command,
    strip_init,
)

_HANDLER_RE = re.compile(
    r"""process\s*\.\s*(?:on|once|addListener|prependListener|prependOnceListener)\s*\(\s*(['"`])SIG(?:TERM|INT)\1""")
_SIGNAL_LITERAL_RE = re.compile(r"""(['"`])SIG(?:TERM|INT)\1""")
_PROCESS_ON_RE = re.compile(r"process\s*\.\s*(?:on|once|addListener|prependListener|prependOnceListener)\s*\(")
_LIBRARY_RE = re.compile(
    r"""(['"])(?:stoppable|http-terminator|@godaddy/terminus|lightship|fastify-graceful-shutdown|close-with-grace)\1"""
    r"""|\b(?:createTerminus|enableShutdownHooks|createHttpTerminator|closeWithGrace)\b""")
_LOCAL_IMPORT_RE = re.compile(
    r"""(?:require\s*\(\s*|import\s*\(\s*|\bfrom\s+|\bimport\s+)(['"])(\.{1,2}/[^'"]+)\1""")
_EXTS = ("", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", "/index.js", "/index.ts")


def handles_signals(text: str) -> bool:
    """Does this source register a SIGTERM/SIGINT handler (directly or via a known library)?"""
    if _HANDLER_RE.search(text) or _LIBRARY_RE.search(text):
        return True
    return bool(_SIGNAL_LITERAL_RE.search(text) and _PROCESS_ON_RE.search(text))


class GracefulShutdown(Transform):
    code = "DFX008"
    name = "graceful-shutdown"
    summary = "Report an app entry file without a SIGTERM handler"
    default_applicability = Applicability.DISPLAY_ONLY
    related = ()
    after = (
        "DFX001",  # report-only: looks at the final command, after every rewrite of it
        "DFX007",  # (same)
        "DFX010",  # (same)
    )

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        stage = doc.final_stage
        if stage is None:
            return
        chain = doc.stage_chain(stage)
        instrs = sorted((i for st in chain for i in st.instructions), key=lambda i: i.index)
        ep, cmd = final_command(doc)
        line = (cmd or ep or stage.from_).line
        workdir = next((i.words[0].value for i in reversed(instrs) if i.keyword == "WORKDIR" and len(i.words) == 1), None)

        entry, how = self._entry(ep, cmd, ctx)
        if entry is None:
            yield Skip(self.code, f"cannot tell the app's entry file to look for a SIGTERM handler: {how}", line)
            return
        rel = self._relative(entry, workdir)
        if rel is None:
            yield Skip(self.code, f"the entry file {entry} is outside the WORKDIR, so its place in the build "
                       "context is unknown", line)
            return
        found = self._read(ctx, rel)
        if found is None:
            yield Skip(self.code, f"the entry file {rel} ({how}) is not in the build context (built during the "
                       "image build, or copied from elsewhere?): cannot check it for a SIGTERM handler", line)
            return
        path, text = found
        if handles_signals(text) or any(handles_signals(t) for t in self._imports(ctx, path, text)):
            return
        yield Fix(self.code, f"{path} ({how}) registers no SIGTERM/SIGINT handler: in-flight requests are cut "
                  "off on docker stop; close the server on SIGTERM, e.g. process.on('SIGTERM', () => "
                  "server.close(() => process.exit(0)))", line, (), Applicability.DISPLAY_ONLY)

    def _entry(self, ep: Instruction | None, cmd: Instruction | None, ctx: Context) -> tuple[str | None, str]:
        ep_argv = argv_of(ep) if ep is not None else []
        cmd_argv = argv_of(cmd) if cmd is not None else []
        if ep is not None and ep_argv is not None and not ep.is_json:
            cmd_argv = []  # a shell-form ENTRYPOINT ignores CMD
        argv = None if ep_argv is None or cmd_argv is None else strip_init(ep_argv + cmd_argv)
        if argv:
            file = node_entry_file(argv)
            if file is not None:
                return file, "the final command"
            run = script_invocation(argv)
            if run is not None:
                resolved, why = start_script_command(ctx, run.runner, run.script)
                if resolved is not None:
                    return node_entry_file(resolved), f"scripts.{run.script}"
                return None, why
        main = ctx.package.main if ctx.package is not None else None
        if main:
            return main, "package.json main"
        if argv is None:
            return None, "the command needs a shell and package.json has no main"
        return None, f"the command `{' '.join(argv)}` is not `node <file>` and package.json has no main"

    @staticmethod
    def _relative(entry: str, workdir: str | None) -> str | None:
        if entry.startswith("/"):
            if not workdir or "$" in workdir:
                return None
            base = workdir.rstrip("/") + "/"
            if not entry.startswith(base):
                return None
            entry = entry[len(base):]
        rel = posixpath.normpath(entry)
        return None if rel.startswith("..") else rel

    @staticmethod
    def _read(ctx: Context, rel: str) -> tuple[str, str] | None:
        candidates = [rel + ext for ext in _EXTS]
        stem, ext = posixpath.splitext(rel)
        if ext in (".js", ".mjs", ".cjs"):
            ts = stem + {".js": ".ts", ".mjs": ".mts", ".cjs": ".cts"}[ext]
            parts = ts.split("/", 1)
            candidates.append(ts)
            if len(parts) == 2 and parts[0] in ("dist", "build", "lib", "out"):
                candidates.append("src/" + parts[1])
        for c in candidates:
            text = ctx.read_file(c)
            if text is not None:
                return c, text
        return None

    def _imports(self, ctx: Context, path: str, text: str) -> Iterable[str]:
        folder = posixpath.dirname(path)
        for m in _LOCAL_IMPORT_RE.finditer(text):
            rel = posixpath.normpath(posixpath.join(folder, m.group(2)))
            if rel.startswith(".."):
                continue
            found = self._read(ctx, rel)
            if found is not None:
                yield found[1]
