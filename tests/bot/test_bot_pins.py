"""``dockerfix pr`` keeps the pins of its open pull request fresh (issue 16): against a real loopback
``docker-registry`` (the docker.io mirror) and the fake GitHub server with a real bare git remote
(the ``world`` of test_bot), a base image's tag moves under the open pull request; the next run
updates that pull request (same branch, one force-pushed commit, new fingerprint), never opens a
second one, and a run with nothing moved changes nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from dockerfix.fixer import bot
from dockerfix.fixer.formats import body_fingerprint
from registry.conftest import _need_registry
from registry.seed import Pushed, Seeder
from registry.servers import start_registry

from .test_bot import SEED, TOKEN, World, git

pytestmark = pytest.mark.registry

BRANCH = "dockerfix/fixes"
OLD_BUILT, NEW_BUILT = "2026-09-01T06:00:00Z", "2026-11-20T06:00:00Z"


@dataclass
class Registry:
    base_url: str

    def push(self, created: str, salt: str) -> Pushed:
        """(Re)push ``node:22-alpine`` as a two-platform OCI index built at ``created``: pushing
        under the same tag again is how a tag moves in a registry."""
        seeder = Seeder(self.base_url)
        try:
            amd = seeder.push_image("library/node", "linux/amd64", salt=salt, created=created)
            arm = seeder.push_image("library/node", "linux/arm64", salt=salt, created=created)
            return seeder.push_index("library/node", "22-alpine", [amd, arm])
        finally:
            seeder.close()


@pytest.fixture
def registry(world: World, tmp_path, monkeypatch):
    """A loopback registry as the docker.io mirror, with ``node:22-alpine`` pushed once; the
    clone's Dockerfile uses that tag (unpinned)."""
    _need_registry()
    reg = start_registry(tmp_path / "reg")
    monkeypatch.setenv("DOCKERFIX_REGISTRY_MIRROR", f"docker.io={reg.base_url}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker"))  # never a real ~/.docker
    monkeypatch.delenv("DOCKERFIX_REGISTRY_AUTH", raising=False)
    world.commit_on_main("Dockerfile", (SEED / "Dockerfile").read_text().replace("FROM node\n", "FROM node:22-alpine\n"),
                         "app on node 22 alpine")
    try:
        yield Registry(reg.base_url)
    finally:
        reg.stop()


def _pr(w: World, *args: str) -> tuple[int, str]:
    """``dockerfix pr`` online (the registry is the mirror), hardening fixes only."""
    old = os.environ.get("GITHUB_TOKEN")
    os.environ["GITHUB_TOKEN"] = TOKEN
    try:
        code = bot.main(["--repo", "acme/app", "--no-upgrade-node", *args, str(w.work)])
    finally:
        if old is None:
            os.environ.pop("GITHUB_TOKEN", None)
        else:
            os.environ["GITHUB_TOKEN"] = old
    out, err = w.capsys.readouterr()
    w.outputs.append(out + err)
    return code, err


def _show(w: World, rev: str) -> str:
    return git(w.root, "--git-dir", str(w.bare), "show", f"{rev}:Dockerfile")


def _bot_commits(w: World) -> list[str]:
    main = git(w.work, "rev-parse", "HEAD").strip()
    return git(w.root, "--git-dir", str(w.bare), "rev-list", f"{main}..{BRANCH}").split()


def test_moved_tag_updates_the_open_pull_request(world: World, registry: Registry):
    old = registry.push(OLD_BUILT, "old")

    # run 1: a pull request pinning node:22-alpine to the digest of today
    code, err = _pr(world)
    assert code == 0, err
    assert "opened pull request #1" in err
    (pr,) = world.gh.pulls
    first_sha, first_fp = world.branch_sha(), body_fingerprint(pr["body"])
    assert first_fp
    assert _show(world, BRANCH).splitlines()[0] == f"FROM node:22-alpine@{old.digest}"
    assert "DFX002" in pr["body"] and "pin node:22-alpine to the index digest it points to today" in pr["body"]
    assert "Base images moved" not in pr["body"]  # nothing was pinned before

    # the tag moves: a rebuilt node:22-alpine is pushed under the same tag
    new = registry.push(NEW_BUILT, "new")
    assert new.digest != old.digest

    # run 2: the same pull request, its one commit replaced, the body says what moved and how old
    code, err = _pr(world)
    assert code == 0, err
    assert "updated pull request #1" in err and "replacing the bot's previous commit" in err
    assert len(world.gh.pulls) == 1 and len(world.gh.calls("POST", "/pulls")) == 1
    assert len(world.gh.calls("PATCH", "/pulls/1")) == 1
    pr = world.gh.pulls[0]
    assert pr["state"] == "open" and pr["head"]["ref"] == BRANCH
    second_sha, second_fp = world.branch_sha(), body_fingerprint(pr["body"])
    assert second_sha != first_sha and second_fp not in (None, first_fp)
    fixed = _show(world, BRANCH)
    assert fixed.splitlines()[0] == f"FROM node:22-alpine@{new.digest}"
    assert old.digest not in fixed
    assert _bot_commits(world) == [second_sha]  # still exactly one commit on the base, the bot's
    log = git(world.root, "--git-dir", str(world.bare), "log", "-1", "--format=%ae|%ce|%B", second_sha)
    assert log.startswith(f"{bot.BOT_EMAIL}|{bot.BOT_EMAIL}|") and f"Dockerfix-Fingerprint: {second_fp}" in log
    # the old commit is gone from the branch (force-pushed over), and the body names the new digest
    assert first_sha not in git(world.root, "--git-dir", str(world.bare), "rev-list", BRANCH).split()
    note = pr["body"].split("\n\n")[:2]
    assert note[0] == "**Base images moved** since dockerfix's previous commit on `dockerfix/fixes`:", pr["body"]
    assert note[1].startswith(f"- `Dockerfile`: `node:22-alpine` moved from `{old.digest[:19]}…` (built 2026-09-01, "), note
    assert f" to `{new.digest[:19]}…` (built 2026-11-20, " in note[1], note

    # run 3: nothing moved: one look-up, no push, no write
    n = len(world.gh.requests)
    code, err = _pr(world)
    assert code == 0, err
    assert "up to date" in err
    assert world.branch_sha() == second_sha
    assert [r.method for r in world.gh.requests[n:]] == ["GET"]
    assert len(world.gh.pulls) == 1 and world.gh.pulls[0]["body"] == pr["body"]


def test_pin_on_the_base_branch_is_refreshed_then_followed(world: World, registry: Registry):
    """The base branch already pins node:22-alpine (an earlier pull request was merged): the tag
    moves, the bot proposes the refresh with both build dates; it moves again, the same pull
    request follows it."""
    old = registry.push(OLD_BUILT, "old")
    world.commit_on_main("Dockerfile", f"FROM node:22-alpine@{old.digest}\nCMD [\"node\", \"server.js\"]\n",
                         "pin the base")
    code, err = _pr(world)
    assert code == 0 and "nothing to fix" in err, err  # the tag has not moved: no pull request
    assert not world.gh.pulls

    new = registry.push(NEW_BUILT, "new")
    code, err = _pr(world)
    assert code == 0 and "opened pull request #1" in err, err
    (pr,) = world.gh.pulls
    assert _show(world, BRANCH).splitlines()[0] == f"FROM node:22-alpine@{new.digest}"
    assert "refresh the pin of node:22-alpine: the tag has moved to a newer index (pinned image built 2026-09-01, " \
        in pr["body"] and "; new one built 2026-11-20)" in pr["body"], pr["body"]
    assert pr["body"].startswith("**Base images moved** since they were pinned on `main`:\n\n"
                                 f"- `Dockerfile`: `node:22-alpine` moved from `{old.digest[:19]}…` (built 2026-09-01, ")
    first_sha = world.branch_sha()

    newest = registry.push("2026-11-27T06:00:00Z", "newest")
    code, err = _pr(world)
    assert code == 0 and "updated pull request #1" in err, err
    assert len(world.gh.pulls) == 1 and len(world.gh.calls("POST", "/pulls")) == 1
    assert _show(world, BRANCH).splitlines()[0] == f"FROM node:22-alpine@{newest.digest}"
    assert _bot_commits(world) == [world.branch_sha()] != [first_sha]
    body = world.gh.pulls[0]["body"]
    # the rule's message compares with the base branch's pin; the note with the previous version
    assert "(pinned image built 2026-09-01, " in body and "; new one built 2026-11-27)" in body, body
    assert body.startswith("**Base images moved** since dockerfix's previous commit on `dockerfix/fixes`:\n\n"
                           f"- `Dockerfile`: `node:22-alpine` moved from `{new.digest[:19]}…` (built 2026-11-20, ")
    assert f" to `{newest.digest[:19]}…` (built 2026-11-27, " in body

    # --no-update-pins: the pins are left alone, so there is nothing to propose
    n = len(world.gh.requests)
    code, err = _pr(world, "--no-update-pins")
    assert code == 0 and "nothing to fix" in err, err
    assert len(world.gh.requests) == n
