"""``repin_blocker`` (transforms/_images.py): a pinned FROM may move to another tag only when
digest pinning (DFX002) pins the new tag in the same run -- selected by the command line or by
the configuration, both of which reach transforms through the frozen Context (``Context.codes``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockerfix.fixer.config import Config
from dockerfix.fixer.context import Context
from dockerfix.fixer.session import run
from dockerfix.transforms._images import repin_blocker

NOT_SELECTED = "digest pinning (DFX002) is not selected to pin the new tag"
DIGEST = "sha256:" + "ab" * 32


def _lookup(_ref, _platforms):
    return None


def test_the_runs_codes_decide():
    ctx = Context(digests=_lookup, codes=frozenset({"DFX002", "DFX003"}))
    assert repin_blocker(ctx) is None
    assert repin_blocker(Context(digests=_lookup, codes=frozenset({"DFX003"}))) == NOT_SELECTED
    # the run's codes win over the configuration (the command line's --select/--ignore are in them)
    assert repin_blocker(Context(digests=_lookup, config=Config(ignore=("DFX002",)),
                                 codes=frozenset({"DFX002", "DFX003"}))) is None


def test_without_a_run_the_configuration_decides():
    assert repin_blocker(Context(digests=_lookup)) is None
    assert repin_blocker(Context(digests=_lookup, config=Config(ignore=("DFX002",)))) == NOT_SELECTED
    assert repin_blocker(Context(digests=_lookup, config=Config(select=("DFX003",)))) == NOT_SELECTED
    assert repin_blocker(Context(offline=True, digests=_lookup)) == "digest look-up skipped: --offline"
    assert repin_blocker(Context()) == "digest look-up skipped: no registry client"


@pytest.fixture
def pinned_app(tmp_path: Path, monkeypatch) -> Path:
    """An app on a pinned end-of-life node image; the registry and the release schedule are
    unreachable loopback ports (the bundled tables decide, nothing leaves the machine)."""
    (tmp_path / "package.json").write_text(json.dumps({"name": "app", "dependencies": {"express": "^4.19.2"}}))
    (tmp_path / "package-lock.json").write_text(json.dumps({
        "name": "app", "lockfileVersion": 3, "requires": True,
        "packages": {"": {"name": "app", "dependencies": {"express": "^4.19.2"}},
                     "node_modules/express": {"version": "4.19.2", "engines": {"node": ">= 0.10.0"}}}}))
    (tmp_path / "Dockerfile").write_text(f"FROM node:20@{DIGEST}\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
                                         "CMD [\"node\", \"server.js\"]\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / ".cache"))
    monkeypatch.setenv("DOCKERFIX_REGISTRY_MIRROR", "docker.io=http://127.0.0.1:9")
    monkeypatch.setenv("DOCKERFIX_NODE_SCHEDULE_URL", "http://127.0.0.1:9/schedule.json")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker"))
    monkeypatch.delenv("DOCKERFIX_REGISTRY_AUTH", raising=False)
    return tmp_path


def _upgrade(folder: Path, **options):
    (outcome,) = run([str(folder / "Dockerfile")], unsafe_fixes=True, upgrade_node=True, **options)
    return outcome.result


@pytest.mark.parametrize("options", [dict(select=["DFX003"]), dict(ignore=["DFX002"]),
                                     dict(select=["node-lts-tag"])], ids=["select", "ignore", "select-by-name"])
def test_command_line_leaving_dfx002_out_keeps_the_pin(pinned_app, options):
    """--select/--ignore without DFX002: the upgrade would drop the digest and nothing would pin
    the new tag, so the pinned line is left as it is and the upgrade only reported."""
    r = _upgrade(pinned_app, **options)
    assert r.after.startswith(f"FROM node:20@{DIGEST}\n"), r.after
    (fix,) = [f for f in r.pending if f.code == "DFX003"]
    assert NOT_SELECTED in fix.message and "is pinned and the new tag cannot be pinned" in fix.message


def test_configuration_select_all_counts_dfx002(pinned_app):
    """``select = ["ALL"]`` (or names) in the configuration are resolved like the command line's."""
    (pinned_app / ".dockerfix.toml").write_text('select = ["ALL"]\n')
    r = _upgrade(pinned_app, select=["DFX003"])  # the command line narrows it: DFX002 is out
    assert NOT_SELECTED in next(f.message for f in r.pending if f.code == "DFX003")
    r = _upgrade(pinned_app)
    assert not any(NOT_SELECTED in f.message for f in [*r.pending, *r.applied])


def test_new_tag_whose_look_up_failed_keeps_the_pin(pinned_app):
    """DFX002 is selected, but the registry cannot be reached: the new tag could not be pinned, so
    the pinned line stays (the digest is never dropped for an unpinned tag)."""
    r = _upgrade(pinned_app)
    assert r.after.startswith(f"FROM node:20@{DIGEST}\n"), r.after
    (fix,) = [f for f in r.pending if f.code == "DFX003"]
    assert "the new tag cannot be pinned in this run (the digest of node:26-bookworm could not be looked up: " \
        in fix.message, fix.message
    assert not any(f.code == "DFX003" for f in r.applied)


def test_repin_blocker_reads_the_new_tags_answer():
    from dockerfix.fixer.oci import ResolveError

    answers = {"node:26": ResolveError("registry down"), "node:24": object()}

    def lookup(ref, _platforms):
        return answers.get(ref.format())

    ctx = Context(digests=lookup)
    assert repin_blocker(ctx, "node:26") == "the digest of node:26 could not be looked up: registry down"
    assert repin_blocker(ctx, "node:24") is None  # looked up: DFX002 pins it
    assert repin_blocker(ctx, "node:22") is None  # not looked up yet: DFX002 asks, the run is repeated


@pytest.mark.registry
def test_upgrade_of_a_pinned_image_is_pinned_again(tmp_path, pinned_app, monkeypatch):
    """With the new tag in a real loopback registry, the upgrade happens and DFX002 pins the new tag."""
    from registry.conftest import _need_registry
    from registry.seed import Seeder
    from registry.servers import start_registry

    _need_registry()
    reg = start_registry(tmp_path / "reg")
    try:
        seeder = Seeder(reg.base_url)
        try:
            images = [seeder.push_image("library/node", p, salt="26") for p in ("linux/amd64", "linux/arm64")]
            new = seeder.push_index("library/node", "26-bookworm", images)
        finally:
            seeder.close()
        monkeypatch.setenv("DOCKERFIX_REGISTRY_MIRROR", f"docker.io={reg.base_url}")
        r = _upgrade(pinned_app, select=["DFX002", "DFX003"])
    finally:
        reg.stop()
    assert r.after.startswith(f"FROM node:26-bookworm@{new.digest}\n"), r.after
    assert {f.code for f in r.applied} == {"DFX002", "DFX003"}
