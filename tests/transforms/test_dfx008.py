"""DFX008 graceful-shutdown: handler detection and entry-file discovery."""

from __future__ import annotations

from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.facts import ContextFiles
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Applicability, Fix, Skip
from dockerfix.transforms.dfx008_graceful_shutdown import (
    GracefulShutdown,
    handles_signals,
)


def run(text, files, package=None):
    ctx = Context(package=PackageJson(package) if package else None, files=ContextFiles.of(files))
    return list(GracefulShutdown().fix(parse(text), ctx))


def test_handles_signals():
    assert handles_signals("process.on('SIGTERM', f)")
    assert handles_signals('process . once ( "SIGINT" , f)')
    assert handles_signals("process.addListener(`SIGTERM`, f)")
    assert handles_signals("const stoppable = require('stoppable')")
    assert handles_signals("import { createHttpTerminator } from 'http-terminator'")
    assert handles_signals("['SIGINT', 'SIGTERM'].forEach((s) => process.on(s, stop))")
    assert not handles_signals("process.on('exit', f)")
    assert not handles_signals("// SIGTERM is not handled here\nserver.listen(3000)")


def test_report_is_display_only_without_edits():
    out = run('FROM node:22\nCMD ["dumb-init", "--", "node", "./server.js"]\n', {"server.js": "listen()"})
    assert len(out) == 1 and isinstance(out[0], Fix)
    assert out[0].applicability == Applicability.DISPLAY_ONLY and not out[0].edits
    assert out[0].message.startswith("server.js (the final command)")


def test_compiled_entry_falls_back_to_typescript_source():
    out = run('FROM node:22\nCMD ["node", "dist/index.js"]\n', {"src/index.ts": "process.on('SIGTERM', f)"})
    assert out == []


def test_entry_outside_workdir_is_skipped():
    out = run('FROM node:22\nWORKDIR /app\nCMD ["node", "/opt/x.js"]\n', {})
    assert isinstance(out[0], Skip) and "outside the WORKDIR" in out[0].reason


def test_shell_form_entrypoint_ignores_cmd_and_uses_main():
    out = run('FROM node:22\nENTRYPOINT ./run.sh\nCMD ["node", "a.js"]\n', {"m.js": "x"}, {"main": "m.js"})
    assert isinstance(out[0], Fix) and out[0].message.startswith("m.js (package.json main)")
