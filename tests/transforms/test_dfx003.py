"""Focused tests for DFX003 node-lts-tag: a moving tag made explicit must not lose the package
manager the Dockerfile runs (issue 12, class 2; fixtures under fixtures/node-lts-tag/ cover files)."""

from __future__ import annotations

from dataclasses import replace

from dockerfix.fixer.edits import Applicability
from dockerfix.fixer.node_images import images
from dockerfix.fixer.pipeline import Pipeline
from dockerfix.transforms import ALL

from fixture_cases import FIXTURES, Case


def _case(name: str) -> Case:
    return Case("node-lts-tag", name, FIXTURES / "node-lts-tag" / name)


def _dfx003() -> Pipeline:
    return Pipeline([t() for t in ALL if t.code == "DFX003"], required=Applicability.UNSAFE)


def test_lts_with_yarn_moves_to_24_unsafe_and_says_why():
    result = _case("lts-yarn-stays-on-24").run()
    (fix,) = [f for f in result.applied if f.code == "DFX003"]
    assert fix.applicability == Applicability.UNSAFE
    msg = fix.message
    assert "`lts` is Node.js 26 today" in msg
    assert "yarn (line 4)" in msg and "docker-node PR #2422" in msg
    assert "already resolves to a line without yarn" in msg
    assert "use 24, the newest LTS line whose image still ships yarn" in msg
    assert "keeps Debian 13 (trixie)" in msg
    assert "changes the image from Node.js 26 to 24" in msg


def test_lts_with_yarn_is_not_a_safe_fix():
    result = _case("lts-yarn-not-in-safe-mode").run()
    (pending,) = [f for f in result.pending if f.code == "DFX003"]
    assert pending.applicability == Applicability.UNSAFE and "yarn" in pending.message


def test_corepack_is_named():
    result = _case("alpine-corepack-stays-on-24").run()
    (fix,) = [f for f in result.applied if f.code == "DFX003"]
    assert "corepack (line 3), which Node.js 26 does not ship" in fix.message
    assert "keeps Alpine" in fix.message


def test_a_stage_without_the_tool_follows_the_one_that_runs_it():
    result = _case("lts-slim-yarn-stages-stay-on-one-major").run()
    messages = [f.message for f in result.applied if f.code == "DFX003"]
    assert len(messages) == 2
    assert "this stage does not run yarn itself" in messages[1]
    assert "this stage does not run yarn itself" not in messages[0]


def test_no_tag_for_the_yarn_line_means_no_change():
    """Online, the registry decides: when 24 has no tag for the variant, nothing is written."""
    case = _case("lts-yarn-stays-on-24")
    ctx = replace(case.context(), node_images=images().with_registry_tags(["lts", "26", "26-trixie"]))
    result = _dfx003().run(case.before, ctx, path="x")
    assert result.after == case.before
    (skip,) = [s for s in result.skips if s.code == "DFX003"]
    assert "24, the newest LTS line that ships yarn, has no tag" in skip.reason
    assert "no published node:24 tag" in skip.reason


def test_a_release_change_is_named():
    """Without ``24-trixie`` the default ``24`` (bookworm) is written, and the message says so."""
    case = _case("lts-yarn-stays-on-24")
    ctx = replace(case.context(), node_images=images().with_registry_tags(["lts", "26", "24", "24-bookworm"]))
    result = _dfx003().run(case.before, ctx, path="x")
    assert result.after.startswith("FROM node:24\n")
    (fix,) = [f for f in result.applied if f.code == "DFX003"]
    assert "the distribution changes from Debian 13 (trixie) to Debian 12 (bookworm)" in fix.message


def test_a_named_release_that_24_does_not_publish_is_skipped():
    before = "FROM node:lts-trixie-slim\nRUN yarn install\nCMD [\"node\", \"a.js\"]\n"
    ctx = replace(_case("lts-yarn-stays-on-24").context(),
                  node_images=images().with_registry_tags(["lts-trixie-slim", "26-trixie-slim"]))
    result = _dfx003().run(before, ctx, path="x")
    assert result.after == before
    assert any("`node:24-trixie-slim` is not a published tag" in s.reason for s in result.skips)
