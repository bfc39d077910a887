"""``dockerfix pr`` end to end: a real bare git repository on disk is ``origin`` (branches, pushes,
force-pushes) and :mod:`.github_server` answers the GitHub REST calls, recording them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockerfix.fixer import bot
from dockerfix.fixer.formats import body_fingerprint

from .github_server import FakeGitHub, Server

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed"
TOKEN = "ghs_TestSecretToken_9f8e7d6c5b4a"
HUMAN = ["-c", "user.name=Alice Maintainer", "-c", "user.email=alice@example.com"]

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str, check: bool = True) -> str:
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0")
    p = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and p.returncode:
        raise AssertionError(f"git {args}: {p.stderr}")
    return p.stdout


@dataclass
class World:
    root: Path
    bare: Path
    work: Path
    gh: FakeGitHub
    capsys: object
    outputs: list

    def pr(self, *args: str, token: str | None = TOKEN) -> tuple[int, str, str]:
        old = os.environ.get("GITHUB_TOKEN")
        if token is None:
            os.environ.pop("GITHUB_TOKEN", None)
        else:
            os.environ["GITHUB_TOKEN"] = token
        try:
            code = bot.main(["--repo", "acme/app", "--offline", *args, str(self.work)])
        finally:
            if old is None:
                os.environ.pop("GITHUB_TOKEN", None)
            else:
                os.environ["GITHUB_TOKEN"] = old
        out, err = self.capsys.readouterr()
        self.outputs.append(out + err)
        return code, out, err

    def branch_sha(self, name: str = "dockerfix/fixes") -> str | None:
        out = git(self.root, "--git-dir", str(self.bare), "rev-parse", "--verify", "-q", f"refs/heads/{name}",
                  check=False).strip()
        return out or None

    def commit_on_main(self, rel: str, text: str, message: str) -> None:
        p = self.work / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        git(self.work, "add", rel)
        git(self.work, *HUMAN, "commit", "-q", "-m", message)
        git(self.work, "push", "-q", "origin", "main")


@pytest.fixture
def world(tmp_path, monkeypatch, capsys):
    bare = tmp_path / "origin.git"
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(tmp_path, "clone", "-q", str(bare), str(work))
    git(work, "checkout", "-q", "-b", "main")
    for name in ("Dockerfile", "package.json", "package-lock.json", "server.js"):
        shutil.copy(SEED / name, work / name)
    git(work, "add", ".")
    git(work, *HUMAN, "commit", "-q", "-m", "app")
    git(work, "push", "-q", "-u", "origin", "main")
    gh = FakeGitHub("acme", "app", TOKEN, bare=str(bare))
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with Server(gh) as url:
        monkeypatch.setenv("GITHUB_API_URL", url)
        w = World(tmp_path, bare, work, gh, capsys, [])
        yield w
    # the token never appears anywhere a person or a log could see it
    for text in w.outputs:
        assert TOKEN not in text
    for r in gh.requests:
        assert TOKEN not in r.body and TOKEN not in r.path
    for pr in gh.pulls:
        assert TOKEN not in (pr["body"] or "") and TOKEN not in pr["title"]
    for cs in gh.comments.values():
        assert all(TOKEN not in c["body"] for c in cs)
    for cfg in (work / ".git" / "config", bare / "config"):
        assert TOKEN not in cfg.read_text()
    assert TOKEN not in git(tmp_path, "--git-dir", str(bare), "log", "--all", "--format=%B%an%ae%cn%ce")


def test_first_run_opens_a_pull_request(world: World):
    code, out, err = world.pr()
    assert code == 0, err
    assert "opened pull request #1" in err
    posts = world.gh.calls("POST", "/pulls")
    assert len(posts) == 1
    pr = world.gh.pulls[0]
    assert pr["state"] == "open" and pr["head"]["ref"] == "dockerfix/fixes" and pr["base"]["ref"] == "main"
    assert pr["title"] == "dockerfix: 1 fix for production-ready Node images"
    body = pr["body"]
    assert "| DFX001 `exec-form` | use exec form for CMD so the process gets signals directly (line 5) |" in body
    assert "In shell form Docker starts `/bin/sh -c" in body  # the first sentence of "Why"
    assert "| safe |" in body
    assert "**Skipped**" in body and "DFX002" in body  # offline: digest pinning skipped, with the reason
    assert "# dockerfix: ignore=DFX001" in body and "[tool.dockerfix]" in body
    fp = body_fingerprint(body)
    assert fp and len(fp) == 64
    # exactly one commit on top of main, made by the bot, with the trailer; the clone is untouched
    sha = world.branch_sha()
    main = git(world.work, "rev-parse", "HEAD").strip()
    log = git(world.root, "--git-dir", str(world.bare), "log", "--format=%an <%ae>|%cn <%ce>|%P", f"{main}..{sha}")
    assert log.strip().splitlines() == [f"{bot.BOT_NAME} <{bot.BOT_EMAIL}>|{bot.BOT_NAME} <{bot.BOT_EMAIL}>|{main}"]
    msg = git(world.root, "--git-dir", str(world.bare), "log", "-1", "--format=%B", sha)
    assert f"Dockerfix-Fingerprint: {fp}" in msg and "Dockerfile: DFX001 line 5" in msg
    new = git(world.root, "--git-dir", str(world.bare), "show", f"{sha}:Dockerfile")
    assert 'CMD ["npm", "start"]' in new
    assert git(world.work, "status", "--porcelain") == ""
    assert (world.work / "Dockerfile").read_text() == (SEED / "Dockerfile").read_text()
    # the API saw the documented headers
    first = world.gh.requests[0]
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.headers["Accept"] == "application/vnd.github+json"
    assert first.query["head"] == "acme:dockerfix/fixes" and first.query["state"] == "all"


def test_second_run_changes_nothing(world: World):
    assert world.pr()[0] == 0
    sha = world.branch_sha()
    n_requests = len(world.gh.requests)
    code, _out, err = world.pr()
    assert code == 0 and "up to date" in err
    assert world.branch_sha() == sha
    new = world.gh.requests[n_requests:]
    assert [r.method for r in new] == ["GET"]  # one look-up, no write
    assert len(world.gh.pulls) == 1


def test_changed_input_updates_the_same_pull_request(world: World):
    assert world.pr()[0] == 0
    old_fp = body_fingerprint(world.gh.pulls[0]["body"])
    old_sha = world.branch_sha()
    world.commit_on_main("worker/Dockerfile", "FROM node:22\nCMD node worker.js\n", "add a worker")
    code, _out, err = world.pr()
    assert code == 0, err
    assert "updated pull request #1" in err
    assert len(world.gh.pulls) == 1 and len(world.gh.calls("POST", "/pulls")) == 1
    pr = world.gh.pulls[0]
    assert body_fingerprint(pr["body"]) not in (None, old_fp)
    assert "### `worker/Dockerfile`" in pr["body"]
    assert pr["title"] == "dockerfix: 2 fixes for production-ready Node images"
    sha = world.branch_sha()
    assert sha != old_sha
    main = git(world.work, "rev-parse", "HEAD").strip()
    # still exactly one commit, now on the new main (the old one was replaced by a force-push)
    assert git(world.root, "--git-dir", str(world.bare), "rev-list", f"{main}..{sha}").split() == [sha]
    assert git(world.root, "--git-dir", str(world.bare), "rev-parse", f"{sha}^").strip() == main


def test_human_commit_on_the_branch_stops_the_force_push(world: World, tmp_path):
    assert world.pr()[0] == 0
    other = tmp_path / "alice"
    git(tmp_path, "clone", "-q", "-b", "dockerfix/fixes", str(world.bare), str(other))
    (other / "NOTES.md").write_text("reviewed\n")
    git(other, "add", "NOTES.md")
    git(other, *HUMAN, "commit", "-q", "-m", "note from the reviewer")
    git(other, "push", "-q", "origin", "dockerfix/fixes")
    human_sha = world.branch_sha()

    world.commit_on_main("worker/Dockerfile", "FROM node:22\nCMD node worker.js\n", "add a worker")
    code, _out, err = world.pr()
    assert code == bot.EXIT_BLOCKED == 3
    assert "blocked" in err and "not force-pushing" in err and human_sha[:12] in err
    assert world.branch_sha() == human_sha  # nothing overwritten
    comments = world.gh.comments[1]
    assert len(comments) == 1
    assert "never force-pushes" in comments[0]["body"] and "note from the reviewer" in comments[0]["body"]
    assert not world.gh.calls("PATCH")

    # once per fingerprint: a second blocked run does not comment again
    assert world.pr()[0] == 3
    assert len(world.gh.comments[1]) == 1
    assert world.branch_sha() == human_sha


def test_amended_bot_commit_counts_as_human(world: World, tmp_path):
    """An amend keeps the bot as author and the trailer, but the committer is a person."""
    assert world.pr()[0] == 0
    other = tmp_path / "bob"
    git(tmp_path, "clone", "-q", "-b", "dockerfix/fixes", str(world.bare), str(other))
    git(other, *HUMAN, "commit", "-q", "--amend", "--no-edit", "--allow-empty")
    git(other, "push", "-q", "-f", "origin", "dockerfix/fixes")
    world.commit_on_main("worker/Dockerfile", "FROM node:22\nCMD node worker.js\n", "add a worker")
    assert world.pr()[0] == 3


def test_closed_pull_request_is_not_reopened(world: World):
    assert world.pr()[0] == 0
    world.gh.close_pull(1)
    sha = world.branch_sha()
    # many later closed PRs of the same branch push #1 to the second page (Link: rel="next")
    for i in range(120):
        world.gh._new_pull(title="old", body=f"<!-- dockerfix-fingerprint: {i:064x} -->",
                           head="dockerfix/fixes", base="main", state="closed")
    code, _out, err = world.pr()
    assert code == 0
    assert "closed without merging" in err and "#1" in err
    assert len(world.gh.calls("POST", "/pulls")) == 1
    assert not world.gh.calls("PATCH")
    assert world.gh.pulls[0]["state"] == "closed"
    assert world.branch_sha() == sha
    assert any(r.query.get("page") == "2" for r in world.gh.calls("GET", "/pulls"))

    # different changes are a different proposal: a new pull request
    world.commit_on_main("worker/Dockerfile", "FROM node:22\nCMD node worker.js\n", "add a worker")
    code, _out, err = world.pr()
    assert code == 0 and "opened pull request" in err
    assert world.gh.pulls[-1]["state"] == "open"


def test_auth_failure_is_clear(world: World):
    code, out, err = world.pr(token="ghp_wrong_token_123")
    assert code == 2
    assert "GitHub rejected the token (401): check GITHUB_TOKEN" in err
    assert "Bad credentials" in err
    assert "ghp_wrong_token_123" not in out + err
    assert world.branch_sha() is None  # nothing pushed before the API said yes


def test_missing_token(world: World):
    code, _out, err = world.pr(token=None)
    assert code == 2 and "GITHUB_TOKEN is not set" in err
    assert not world.gh.requests


def test_dry_run_touches_nothing(world: World):
    refs = git(world.work, "for-each-ref")
    code, out, err = world.pr("--dry-run", token=None)
    assert code == 0
    assert out.startswith("Title: dockerfix: 1 fix for production-ready Node images\n")
    assert "<!-- dockerfix-fingerprint: " in out
    assert '+CMD ["npm", "start"]' in out and "--- a/Dockerfile" in out
    assert not world.gh.requests
    assert world.branch_sha() is None
    assert git(world.work, "for-each-ref") == refs
    assert not (world.work / ".git" / "FETCH_HEAD").exists()
    assert git(world.work, "status", "--porcelain") == ""


def test_nothing_to_fix(world: World):
    world.commit_on_main("Dockerfile", (SEED / "Dockerfile").read_text().replace('CMD "npm" "start"',
                                                                                   'CMD ["npm", "start"]'), "fix")
    code, _out, err = world.pr()
    assert code == 0 and "nothing to fix" in err
    assert not world.gh.requests


def test_uncommitted_changes_refused(world: World):
    (world.work / "Dockerfile").write_text("FROM node:22\nCMD node x.js\n")
    code, _out, err = world.pr()
    assert code == 2 and "uncommitted changes" in err
    assert not world.gh.requests


def test_race_already_exists_updates_instead(world: World, monkeypatch):
    """Another run opened the PR between our look-up and our POST: 422 "already exists"."""
    world.gh._new_pull(title="raced", body="", head="dockerfix/fixes", base="main")
    from dockerfix.fixer import forge

    orig = forge.GitHubForge.find_pulls
    calls = []

    def first_empty(self, branch):
        calls.append(branch)
        return [] if len(calls) == 1 else orig(self, branch)

    monkeypatch.setattr(forge.GitHubForge, "find_pulls", first_empty)
    code, _out, err = world.pr()
    assert code == 0, err
    assert "updated pull request #1" in err
    assert len(world.gh.pulls) == 1 and body_fingerprint(world.gh.pulls[0]["body"])


def test_cli_dispatch_and_askpass(world: World, tmp_path):
    """``dockerfix pr`` through the real entry point; exit code and message on a bad token."""
    env = dict(os.environ, GITHUB_TOKEN="bad-token-xyz")
    p = subprocess.run([sys.executable, "-c", "from dockerfix.fixer.cli import main; main()", "pr", "--repo",
                        "acme/app", "--offline", str(world.work)], capture_output=True, text=True, env=env)
    assert p.returncode == 2
    assert "GitHub rejected the token (401): check GITHUB_TOKEN" in p.stderr
    assert "bad-token-xyz" not in p.stdout + p.stderr
    # the askpass helper answers git's prompts from the environment only
    g = bot.Git(world.work, bot.token_redactor(TOKEN), TOKEN)
    env = g._env(remote=True)
    script = Path(env["GIT_ASKPASS"])
    assert TOKEN not in script.read_text()
    user = subprocess.run([str(script), "Username for 'https://github.com': "], capture_output=True, text=True, env=env)
    pw = subprocess.run([str(script), "Password for 'https://x-access-token@github.com': "], capture_output=True,
                        text=True, env=env)
    assert user.stdout.strip() == "x-access-token" and pw.stdout.strip() == TOKEN
    assert "DOCKERFIX_GIT_TOKEN" not in g._env(remote=False)
    g.close()
    assert not script.exists()


def test_parse_remote():
    from dockerfix.fixer.forge import parse_remote

    assert parse_remote("https://github.com/acme/app.git") == "acme/app"
    assert parse_remote("https://x-access-token:abc@github.com/acme/app") == "acme/app"
    assert parse_remote("git@github.com:acme/app.git") == "acme/app"
    assert parse_remote("ssh://git@github.com/acme/app.git") == "acme/app"
    assert parse_remote("/tmp/origin.git") is None
