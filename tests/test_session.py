"""The public run API (fixer/session.py): files in, results out, with no printing; and the
module rules of the engine (no import of another module's private names, no cli <-> bot circle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dockerfix.fixer.config import ConfigError
from dockerfix.fixer.session import Mode, Session, UsageError, discover, run, split_codes

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nCMD node server.js\n"


def test_run_diff_reports_without_writing(tmp_path, capsys):
    f = tmp_path / "Dockerfile"
    f.write_text(BEFORE)
    [outcome] = run([str(f)], mode=Mode.diff, offline=True)
    assert outcome.status == "changed"
    assert '+CMD ["node", "server.js"]' in outcome.diff
    assert f.read_text() == BEFORE  # diff mode writes nothing
    assert capsys.readouterr() == ("", "")  # the session never prints


def test_write_mode_replaces_the_file(tmp_path):
    f = tmp_path / "Dockerfile"
    f.write_text(BEFORE)
    session = Session(mode="write", offline=True, select=["DFX001"])
    targets, _notes = discover([str(tmp_path)])
    [(outcome, src)] = list(session.run(targets))
    assert outcome.written and src is not None and src.text == BEFORE
    assert f.read_text() == BEFORE.replace("CMD node server.js", 'CMD ["node", "server.js"]')


def test_keep_text_false_drops_file_contents(tmp_path):
    f = tmp_path / "Dockerfile"
    f.write_text(BEFORE)
    [(outcome, _src)] = list(Session(offline=True, keep_text=False).run(discover([str(f)])[0]))
    assert outcome.status == "changed" and outcome.result.before == outcome.result.after == ""


def test_unknown_codes_and_broken_config(tmp_path):
    assert split_codes(["DFX001,DFX002", " DFX003 "]) == ["DFX001", "DFX002", "DFX003"]
    with pytest.raises(UsageError):
        Session(select=["DFX999"])
    bad = tmp_path / ".dockerfix.toml"
    bad.write_text("select = [")
    f = tmp_path / "Dockerfile"
    f.write_text(BEFORE)
    with pytest.raises(ConfigError):
        run([str(f)], offline=True, config_path=bad)


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            yield node.module or "", [a.name for a in node.names]


def test_no_module_imports_private_names_of_another():
    offenders = [f"{p.name}: from .{mod} import {name}"
                 for p in sorted((ROOT / "fixer").glob("*.py"))
                 for mod, names in _imports(p) for name in names
                 if name.startswith("_") and not name.startswith("__")]
    assert offenders == []


def test_cli_and_bot_do_not_import_each_other_for_the_run():
    bot_imports = {mod for mod, _ in _imports(ROOT / "fixer" / "bot.py")}
    assert "cli" not in bot_imports and "session" in bot_imports
