"""Major upgrades are their own opt-in (--upgrade-node / upgrade-node = true), never implied by
--unsafe-fixes; and the build-context facts they rest on (locked packages, berry evidence)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dockerfix.fixer.config import ConfigError, parse_config
from dockerfix.fixer.context import load_context

LOCK = {"name": "app", "lockfileVersion": 3, "requires": True, "packages": {
    "": {"name": "app", "dependencies": {"express": "^4.19.2", "bcrypt": "^5.1.1"}},
    "node_modules/express": {"version": "4.19.2", "engines": {"node": ">= 0.10.0"}},
    "node_modules/bcrypt": {"version": "5.1.1", "hasInstallScript": True, "engines": {"node": ">= 10.0.0"}},
    "node_modules/@scope/tool": {"version": "1.0.0", "dev": True},
}}


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "package.json").write_text(json.dumps({"name": "app", "dependencies": {"express": "^4.19.2"}}))
    (tmp_path / "package-lock.json").write_text(json.dumps(LOCK))
    (tmp_path / "Dockerfile").write_text("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n")
    return tmp_path


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "XDG_CACHE_HOME": str(folder / ".cache")}
    return subprocess.run([sys.executable, "-m", "dockerfix", "--diff", "--offline", "--select", "DFX003", *args,
                           "Dockerfile"], cwd=folder, env=env, capture_output=True, text=True, timeout=60)


def test_unsafe_fixes_alone_only_reports_the_end_of_life(app):
    p = _run(app, "--unsafe-fixes")
    assert p.returncode == 0 and not p.stdout, p.stderr
    assert "Node.js 20 reached end-of-life on 2026-04-30" in p.stderr and "--upgrade-node" in p.stderr


def test_upgrade_node_flag_offers_the_upgrade(app):
    p = _run(app, "--unsafe-fixes", "--upgrade-node")
    assert p.returncode == 1, p.stderr
    assert "+FROM node:26-bookworm" in p.stdout and "keeps Debian 12 (bookworm)" in p.stderr


def test_upgrade_node_config_key(app):
    (app / ".dockerfix.toml").write_text("upgrade-node = true\nunsafe-fixes = true\n")
    assert "+FROM node:26-bookworm" in _run(app).stdout
    assert not _run(app, "--no-upgrade-node").stdout  # the flag overrides the configuration


def test_config_key_is_a_boolean(tmp_path):
    assert parse_config({"upgrade-node": True}, tmp_path / "x.toml").upgrade_node is True
    assert parse_config({}, tmp_path / "x.toml").upgrade_node is False
    with pytest.raises(ConfigError):
        parse_config({"upgrade-node": "yes"}, tmp_path / "x.toml")


def test_locked_packages_from_an_npm_lockfile(app):
    ctx = load_context(app / "Dockerfile", None, parse_config({}, app / "x.toml"))
    assert ctx.lockfile_version == 3
    by_name = {p.name: p for p in ctx.locked_packages}
    assert by_name["express"].engines_node == ">= 0.10.0"
    assert by_name["bcrypt"].has_install_script and not by_name["express"].has_install_script
    assert by_name["@scope/tool"].dev


def test_locked_packages_from_pnpm_and_berry_files(tmp_path):
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "pnpm-lock.yaml").write_text(
        "lockfileVersion: '9.0'\npackages:\n  '@types/node@20.1.0':\n    engines: {node: '>=18'}\n"
        "  express@4.19.2:\n    resolution: {integrity: sha512-x}\n")
    ctx = load_context(None, tmp_path, parse_config({}, tmp_path / "x.toml"))
    assert {(p.name, p.version, p.engines_node) for p in ctx.locked_packages} == {
        ("@types/node", "20.1.0", ">=18"), ("express", "4.19.2", None)}


def test_berry_facts(tmp_path):
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / ".yarnrc.yml").write_text("yarnPath: .yarn/releases/yarn-4.5.0.cjs\n")
    (tmp_path / ".yarn" / "releases").mkdir(parents=True)
    (tmp_path / ".yarn" / "releases" / "yarn-4.5.0.cjs").write_text("//\n")
    (tmp_path / ".yarn" / "plugins" / "@yarnpkg").mkdir(parents=True)
    (tmp_path / ".yarn" / "plugins" / "@yarnpkg" / "plugin-workspace-tools.cjs").write_text("//\n")
    ctx = load_context(None, tmp_path, parse_config({}, tmp_path / "x.toml"))
    assert ctx.yarnrc_yml.startswith("yarnPath")
    assert ctx.yarn_releases == ("yarn-4.5.0.cjs",)
    assert ctx.yarn_plugins == ("@yarnpkg/plugin-workspace-tools.cjs",)


def test_registry_tags_decide_which_tags_exist(tmp_path):
    """The facts are one object: online, the registry's tag list is laid over the table."""
    import sys as _sys

    _sys.path.insert(0, str(Path(__file__).parent))
    from fixture_cases import FIXTURES, Case
    from dockerfix.fixer.node_images import images

    case = Case("node-lts-tag", "lts-alpine-safe", FIXTURES / "node-lts-tag" / "lts-alpine-safe")
    from dataclasses import replace

    ctx = replace(case.context(), node_images=images().with_registry_tags(["lts-alpine", "24-alpine"]))  # no 26-alpine
    from dockerfix.fixer.pipeline import Pipeline
    from dockerfix.transforms import ALL

    result = Pipeline([t() for t in ALL if t.code == "DFX003"]).run(case.before, ctx, path="x")
    assert result.after == case.before
    assert any("`node:26-alpine` is not a published tag" in s.reason for s in result.skips)
