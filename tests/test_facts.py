"""The build-context snapshot and lockfile facts handed to transforms (no I/O inside fix())."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dockerfix.fixer import facts
from dockerfix.fixer.facts import lock_facts, npm_lock_facts, snapshot


def test_snapshot_lists_and_keeps_small_texts(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/index.js").write_text("require('./a')\r\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\x00")
    (tmp_path / ".npmrc").write_text("@acme:registry=https://npm.example\n")
    (tmp_path / "node_modules/x").mkdir(parents=True)
    (tmp_path / "node_modules/x/index.js").write_text("x")
    (tmp_path / "package-lock.json").write_text("{}")
    snap = snapshot(tmp_path)
    assert snap.complete
    assert snap.listing == {"src/index.js", "logo.png", ".npmrc", "package-lock.json"}
    assert snap.text("./src/index.js") == "require('./a')\r\n"  # CRLF kept
    assert snap.text("logo.png") is None and snap.exists("logo.png")
    assert snap.text("package-lock.json") is None  # summarised by lock_facts, not kept
    assert snap.exists("src") and snap.exists("src/") and not snap.exists("node_modules")


def test_snapshot_never_reads_through_a_symlink_out(tmp_path: Path) -> None:
    secret = tmp_path / "outside.json"
    secret.write_text('{"token": "x"}')
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    os.symlink(secret, ctx / "config.json")
    snap = snapshot(ctx)
    assert snap.exists("config.json") and snap.text("config.json") is None


def test_snapshot_bounds(tmp_path: Path, monkeypatch) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.js").write_text("x" * 10)
    monkeypatch.setattr(facts, "MAX_ENTRIES", 3)
    snap = snapshot(tmp_path)
    assert not snap.complete and len(snap.listing) == 3
    monkeypatch.setattr(facts, "MAX_ENTRIES", 100)
    monkeypatch.setattr(facts, "MAX_TEXT_TOTAL", 25)
    snap = snapshot(tmp_path)
    assert not snap.complete and len(snap.texts) == 2 and len(snap.listing) == 5


def test_npm_lock_v3_facts() -> None:
    data = {"lockfileVersion": 3, "packages": {
        "": {"name": "app"},
        "node_modules/bcrypt": {"hasInstallScript": True, "engines": {"node": ">= 10.0.0"}},
        "node_modules/husky": {"dev": True, "hasInstallScript": True},
        "node_modules/a/node_modules/@scope/b": {"engines": {"node": ">=18"}},
        "packages/web": {"name": "web"},
        "node_modules/web": {"link": True, "resolved": "packages/web"},
    }}
    f = npm_lock_facts(data)
    assert f.version == 3
    assert f.install_scripts == ("bcrypt",) and f.dev_install_scripts == ("husky",)
    assert dict(f.engines) == {"@scope/b": ">=18", "bcrypt": ">= 10.0.0"}
    assert f.production == {"bcrypt", "@scope/b"} and "husky" in f.names


def test_npm_lock_v1_and_unreadable(tmp_path: Path) -> None:
    f = npm_lock_facts({"lockfileVersion": 1, "dependencies": {"a": {"dependencies": {"b": {"dev": True}}}}})
    assert f.production == {"a"} and f.names == {"a", "b"}
    (tmp_path / "package-lock.json").write_text("{not json")
    assert lock_facts(tmp_path, "package-lock.json") is None
    assert lock_facts(tmp_path, "yarn.lock") is None
    (tmp_path / "package-lock.json").write_text(json.dumps({"lockfileVersion": 2, "packages": {}}))
    assert lock_facts(tmp_path, "package-lock.json").version == 2


def test_package_json_json_refuses_without_a_decode_error(tmp_path: Path) -> None:
    """json.loads raises a plain ValueError (no .msg) for an integer over Python's digit limit;
    that used to escape as an AttributeError traceback instead of a package.json error."""
    from dockerfix.fixer.config import Config
    from dockerfix.fixer.context import load_context

    (tmp_path / "package.json").write_text('{"n": ' + "1" * 5000 + "}")
    (tmp_path / "Dockerfile").write_text("FROM node:22\n")
    ctx = load_context(tmp_path / "Dockerfile", None, Config(), offline=True)
    assert ctx.package is None
    assert ctx.package_error is not None and ctx.package_error.startswith("package.json is not valid JSON (")
