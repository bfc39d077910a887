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


def test_lookup_reads_the_run_memo_for_each_configurations_platforms(tmp_path):
    """Transforms get ``RunResolver.lookup``: the memo of the run's network session (shared by
    configurations with the same registry settings), never the network, never a new client."""
    import io

    from dockerfix.fixer.config import Config
    from dockerfix.fixer.imageref import parse
    from dockerfix.fixer.oci import Resolution
    from dockerfix.fixer.resolving import NetworkSession, RunResolver

    net = NetworkSession(stream=io.StringIO(), env={"DOCKERFIX_NO_CACHE": "1", "DOCKER_CONFIG": str(tmp_path)})
    two = RunResolver(Config(platforms=("linux/amd64", "linux/s390x")), network=net)
    ref = parse("node:22-alpine")
    assert two.lookup(ref, ("linux/amd64",)) is None  # nothing looked up yet ...
    assert net.existing(two.mirrors, None, two.config.cache_ttl, False) is None  # ... and no client made
    one = RunResolver(Config(platforms=("linux/amd64",)), network=net)
    one.shared.memo[ref.canonical] = Resolution(
        reference="library/node:22-alpine", registry="docker.io", digest="sha256:" + "a" * 64,
        media_type="application/vnd.oci.image.index.v1+json", kind="index",
        platforms=("linux/amd64", "linux/arm64"), missing_platforms=())
    assert one.lookup(ref, ("linux/amd64",)).missing_platforms == ()
    found = two.lookup(ref, two.config.platforms)  # same settings: the same memo
    assert found.digest == "sha256:" + "a" * 64 and found.missing_platforms == ("linux/s390x",)


def test_online_session_keeps_network_warnings_without_printing(tmp_path, monkeypatch, capsys):
    """A refused mirror trips the breaker: the warning is kept in ``session.network.warnings``;
    a session without ``stderr`` still prints nothing (the command line passes ``sys.stderr``)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    monkeypatch.setenv("DOCKERFIX_REGISTRY_MIRROR", f"docker.io=http://127.0.0.1:{port}")
    monkeypatch.setenv("DOCKERFIX_NO_CACHE", "1")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    monkeypatch.delenv("DOCKERFIX_REGISTRY_AUTH", raising=False)
    (tmp_path / "Dockerfile").write_text("FROM node:22-alpine\nCMD [\"node\", \"server.js\"]\n")
    session = Session(mode=Mode.check, select=["DFX002"])
    [(outcome, _src)] = list(session.run(discover([str(tmp_path / "Dockerfile")])[0]))
    assert outcome.status != "changed"  # no digest, no pin
    assert capsys.readouterr() == ("", "")
    assert session.network is not None
    assert [w for w in session.network.warnings if "refused the connection" in w], session.network.warnings


def test_prefetch_references_include_the_pins_update_pins_compares():
    """With --update-pins DFX002 compares a pin's tag and its pinned image: both are prefetched
    with the other references, so the file does not need a look-up of its own and a second run."""
    from dockerfix.fixer.resolving import references_in

    digest = "sha256:" + "a" * 64
    text = f"FROM node:22-alpine@{digest}\nFROM node:20 AS b\nFROM node@{digest}\n"
    plain = {r.canonical for r in references_in([text])}
    pinned = {r.canonical for r in references_in([text], pinned=True)}
    assert plain == {"docker.io/library/node:20"}
    assert pinned == plain | {"docker.io/library/node:22-alpine", f"docker.io/library/node@{digest}"}
