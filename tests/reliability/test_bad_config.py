"""Bad configuration under --write: a clear one-line message, exit 2, and nothing written
(tests/test_cli.py checks the messages and exit codes in --check mode; here every case runs
with --write on two folders and the bytes of every file are compared before and after).  An
invalid package.json is not a configuration error: the transforms that need it skip with the
reason, and the report carries it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dockerfix.fixer import cli

from .conftest import STATS

REPO = Path(__file__).resolve().parents[2]
SEED = (REPO / "examples/seed/Dockerfile").read_text()


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _run(args, capsys):
    try:
        cli.main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def tree(tmp_path, monkeypatch):
    for name in ("a", "b"):
        shutil.copytree(REPO / "examples/seed", tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    return tmp_path


@pytest.mark.parametrize("where,body,message", [
    (".dockerfix.toml", "select = [\n", "invalid TOML"),
    (".dockerfix.toml", 'select = ["DFX001", "DFX999"]\n', "unknown rule code DFX999"),
    (".dockerfix.toml", 'ignore = ["nope"]\n', "unknown rule code nope"),
    (".dockerfix.toml", "unsafe-fixes = \"yes\"\n", "unsafe-fixes"),
    (".dockerfix.toml", "colour = true\n", "unknown key(s) colour"),
    ("pyproject.toml", "[tool.dockerfix]\nselect = 3\n", "select"),
    ("pyproject.toml", "[tool.dockerfix\n", "invalid TOML"),
])
def test_broken_config_in_the_tree_writes_nothing(tree, capsys, where, body, message):
    (tree / where).write_text(body)
    before = _snapshot(tree)
    code, out, err = _run(["--write", "--offline", "."], capsys)
    STATS["config: bad configurations tried"] += 1
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.startswith("dockerfix: ")]
    assert lines and all(message.lower() in ln.lower() for ln in lines[:2]), err
    assert all("\n" not in ln and "Traceback" not in ln for ln in lines)
    assert _snapshot(tree) == before


@pytest.mark.parametrize("args,message", [
    (["--select", "DFX001,DFX999"], "unknown rule code DFX999 in --select"),
    (["--ignore", "bogus"], "unknown rule code bogus in --ignore"),
    (["--config", "missing.toml"], "no such config file"),
    (["--config", "broken.toml"], "invalid TOML"),
    (["--format", "yaml"], "yaml"),
])
def test_bad_options_write_nothing(tree, capsys, args, message):
    (tree / "broken.toml").write_text("select = [\n")
    before = _snapshot(tree)
    code, out, err = _run(["--write", "--offline", *args, "."], capsys)
    STATS["config: bad configurations tried"] += 1
    assert code == 2 and message in err, err
    assert "Traceback" not in err
    assert _snapshot(tree) == before


@pytest.mark.parametrize("body,reason", [
    ("{not json", "package.json is not valid JSON"),
    ("[1, 2]", "package.json does not hold a JSON object"),
    (b"\xff\xfe{}", "package.json is not a readable UTF-8 file"),
])
def test_unreadable_package_json_is_a_skip_with_its_reason(tree, capsys, body, reason):
    pj = tree / "a" / "package.json"
    if isinstance(body, bytes):
        pj.write_bytes(body)
    else:
        pj.write_text(body)
    code, out, err = _run(["--check", "--offline", "--unsafe-fixes", "--format", "json", "a"], capsys)
    STATS["config: bad configurations tried"] += 1
    assert code in (0, 1), err
    entry = json.loads(out)["files"][0]
    assert entry["error"] is None
    reasons = [s["reason"] for s in entry["skips"]]
    assert any(reason in r for r in reasons), reasons
    # --write then applies what does not need package.json, and never touches package.json
    raw = pj.read_bytes()
    code, out, err = _run(["--write", "--offline", "--unsafe-fixes", "--show-skips", "a"], capsys)
    assert code == 0, err
    assert pj.read_bytes() == raw
    assert reason in err  # the text report lists the skip too (with --show-skips)
