"""``dockerfix pr --verify``: the real command against the real dockerd of the e2e stack
(tests/verify/conftest.py starts or attaches it), a real bare git ``origin`` and the fake GitHub
server.  The apps are the small ones of the verify and e2e suites, on the seeded node images.

The engine tests skip with the stack's reason where it cannot run (``DOCKERFIX_REQUIRE_REAL=1``
makes that a failure); the tests of the decisions alone (no draft support, bad flags) need no
engine: they replace the measurement, not the bot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from pathlib import Path

import pytest

from dockerfix.fixer import bot
from dockerfix.fixer.verify_compare import FileReport, Measurement
from tests.verify.conftest import E2E_APPS, leftovers

from .github_server import FakeGitHub, Server
from .test_bot import HUMAN, TOKEN, World, git

VERIFY_APPS = Path(__file__).resolve().parents[1] / "verify" / "apps"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_world(tmp_path: Path, app: Path, monkeypatch, capsys, *, drafts: bool = True,
               edit=None) -> tuple[World, Server]:
    bare, work = tmp_path / "origin.git", tmp_path / "work"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(tmp_path, "clone", "-q", str(bare), str(work))
    git(work, "checkout", "-q", "-b", "main")
    shutil.copytree(app, work, dirs_exist_ok=True, ignore=shutil.ignore_patterns("Dockerfile.expected-shape"))
    if edit is not None:
        edit(work)
    git(work, "add", ".")
    git(work, *HUMAN, "commit", "-q", "-m", "app")
    git(work, "push", "-q", "-u", "origin", "main")
    gh = FakeGitHub("acme", "app", TOKEN, bare=str(bare), drafts_supported=drafts)
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    server = Server(gh)
    monkeypatch.setenv("GITHUB_API_URL", server.__enter__())
    return World(tmp_path, bare, work, gh, capsys, []), server


@pytest.fixture
def engine_env(verify_env, monkeypatch):
    """This process talks to the test daemon (the bot runs in-process)."""
    for key in ("DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "PATH"):
        if key in verify_env:
            monkeypatch.setenv(key, verify_env[key])
        else:
            monkeypatch.delenv(key, raising=False)
    yield verify_env
    containers, images = leftovers(verify_env)
    assert containers == [] and images == [], f"left behind: containers {containers}, images {images}"


@pytest.fixture
def worlds(tmp_path, monkeypatch, capsys):
    made: list[Server] = []

    def make(app: Path, **kw) -> World:
        w, server = make_world(tmp_path, app, monkeypatch, capsys, **kw)
        made.append(server)
        return w

    yield make
    for server in made:
        server.__exit__(None, None, None)


def section(body: str) -> str:
    assert bot.VERIFY_HEADING in body, body
    return body.split(bot.VERIFY_HEADING, 1)[1]


@pytest.mark.engine
def test_verify_passes_the_table_goes_into_the_body(engine_env, worlds):
    """npm-nosignal: root, node as PID 1 without SIGTERM handling, no NODE_ENV.  The fixes improve
    every point; the pull request is opened ready for review with verify's table in its body,
    the --probe row included."""
    port = free_port()

    def listen_on(work: Path) -> None:
        js = work / "server.js"
        js.write_text(js.read_text().replace("process.env.PORT || 3000", f"process.env.PORT || {port}"))

    w = worlds(E2E_APPS / "npm-nosignal", edit=listen_on)
    code, out, err = w.pr("--unsafe-fixes", "--verify", "--probe", f"{port}/")
    assert code == 0, err
    assert "opened pull request #1" in err and "draft" not in err.split("opened", 1)[1].split("\n")[0], err
    assert re.search(r"verify \(dockerfix/fixes\): no regression \(exit 0\)", err), err
    pr = w.gh.pulls[0]
    assert pr["draft"] is False
    body = pr["body"]
    assert not body.startswith("> [!CAUTION]"), body
    table = section(body)
    assert "#### `Dockerfile`: no regression" in table, table
    assert "| check | original | fixed | verdict |" in table
    rows = {ln.split(" | ")[0].lstrip("| "): ln for ln in table.splitlines() if ln.startswith("| ")}
    for check in ("user", "PID 1", "NODE_ENV"):
        assert rows[check].endswith("| better |"), table
    assert "0 (root)" in rows["user"] and "1000 (node)" in rows["user"], table
    assert "docker-init" in rows["PID 1"], table  # DFX007 reports `docker run --init`; verify runs it so
    stop = next(v for k, v in rows.items() if k.startswith("stop -t"))
    assert "SIGKILL" in stop and stop.endswith("| better |"), table
    assert rows[f"HTTP {port}/"] == f"| HTTP {port}/ | HTTP 200 | HTTP 200 | same |", table
    assert "**verify: no regression (exit 0)** — engine: docker" in table
    # the table sits above the footer and the fingerprint, which still identify the change
    assert body.index(bot.VERIFY_HEADING) < body.index("<sub>Opened by") < body.index("dockerfix-fingerprint")
    assert w.branch_sha() is not None


@pytest.mark.engine
def test_fixed_image_cannot_build_opens_a_draft(engine_env, worlds):
    """stale-lock: package.json has a dependency the lockfile lacks; the fix's `npm ci` refuses it.
    The pull request is opened as a draft, the reason at the top of its body."""
    w = worlds(VERIFY_APPS / "stale-lock")
    code, out, err = w.pr("--unsafe-fixes", "--verify")
    assert code == 0, err
    assert "opened draft pull request #1" in err, err
    assert "cannot build or run (exit 2)" in err and "the fixed image does not build" in err, err
    posts = w.gh.calls("POST", "/pulls")
    assert len(posts) == 1 and json.loads(posts[0].body)["draft"] is True
    pr = w.gh.pulls[0]
    assert pr["draft"] is True and pr["state"] == "open"
    body = pr["body"]
    first = body.split("\n\n", 1)[0]
    assert first.startswith("> [!CAUTION]\n> **`dockerfix verify` could not build or run an image of this change** "
                            "(exit 2), so this pull request was opened as a **draft**."), body
    assert "opened as a **draft**" in first, first
    assert "> - `Dockerfile`: the fixed image does not build:" in first, first
    table = section(body)
    assert "| builds | yes | no | worse |" in table, table
    assert "<details><summary>fixed build output (last lines)</summary>" in table, table
    assert "npm ci" in table or "in sync" in table, table
    assert "**verify: cannot build or run (exit 2)**" in table
    # the change itself is still there to review, on the bot's one commit
    assert "npm ci --omit=dev" in git(w.root, "--git-dir", str(w.bare), "show", "dockerfix/fixes:Dockerfile")


@pytest.mark.engine
def test_open_pull_request_is_updated_and_says_why(engine_env, worlds):
    """A pull request is open (an earlier run, without --verify).  New fixes fail verification:
    it is updated with them (its draft state cannot change through REST) and its body says why."""
    w = worlds(VERIFY_APPS / "stale-lock")
    code, _out, err = w.pr("--unsafe-fixes", "--select", "DFX005")
    assert code == 0 and "opened pull request #1" in err, err
    code, _out, err = w.pr("--unsafe-fixes", "--verify")
    assert code == 0, err
    assert "updated pull request #1" in err and "its body says that verify found a problem" in err, err
    assert len(w.gh.calls("POST", "/pulls")) == 1
    pr = w.gh.pulls[0]
    assert pr["draft"] is False
    first = pr["body"].split("\n\n", 1)[0]
    assert "This pull request was updated with these fixes so that they can be reviewed: **do not merge it**" in first
    assert "the fixed image does not build" in first


def _failed_verification(prop, args, out):
    m = Measurement(dockerfile="Dockerfile", built=True)
    report = FileReport("Dockerfile", m, Measurement(dockerfile="Dockerfile (fixed)", built=False,
                                                     build_error="npm error `npm ci` can only install ..."),
                        status="error", reasons=["the fixed image does not build: npm error `npm ci` ..."])
    return bot.Verification([report], "docker (stand-in)", 2)


def test_no_draft_support_means_no_pull_request(worlds, monkeypatch):
    """A private repository on GitHub Free answers 422 to a draft: nothing is opened, exit 4, and
    the branch stays for inspection.  (The verification is a stand-in here: the decision is under
    test, the engine runs are above.)"""
    monkeypatch.setattr(bot, "_verify", _failed_verification)
    w = worlds(VERIFY_APPS / "stale-lock", drafts=False)
    code, _out, err = w.pr("--unsafe-fixes", "--verify")
    assert code == bot.EXIT_UNVERIFIED == 4, err
    assert "GitHub allows no draft pull requests in this repository" in err, err
    assert w.gh.pulls == [] and len(w.gh.calls("POST", "/pulls")) == 1
    assert w.branch_sha() is not None


def test_verify_runs_only_when_something_is_pushed(worlds, monkeypatch):
    """Up to date (same fingerprint): no images are built again."""
    calls = []
    monkeypatch.setattr(bot, "_verify", lambda *a: calls.append(a) or bot.Verification([], "stand-in", 0))
    w = worlds(VERIFY_APPS / "stale-lock")
    assert w.pr("--unsafe-fixes", "--verify")[0] == 0
    assert len(calls) == 1 and "### Verified by building both images" in w.gh.pulls[0]["body"]
    code, _out, err = w.pr("--unsafe-fixes", "--verify")
    assert code == 0 and "is up to date" in err and len(calls) == 1, err


@pytest.mark.parametrize("args, message", [
    (("--probe", "3000"), "--probe needs --verify"),
    (("--verify", "--probe", "x/health"), "expected PORT[/PATH]"),
])
def test_bad_verify_flags(worlds, args, message):
    w = worlds(VERIFY_APPS / "stale-lock")
    code, _out, err = w.pr("--unsafe-fixes", *args)
    assert code == 2 and message in err, err
    assert w.gh.requests == [] and w.branch_sha() is None


def test_no_engine_is_an_error_before_any_push(worlds, monkeypatch, tmp_path):
    empty = tmp_path / "no-engines"
    empty.mkdir()
    os.symlink(shutil.which("git"), empty / "git")
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("DOCKERFIX_DOCKER", raising=False)
    w = worlds(VERIFY_APPS / "stale-lock")
    code, _out, err = w.pr("--unsafe-fixes", "--verify")
    assert code == 2 and "--verify: no container engine" in err, err
    assert w.branch_sha() is None and w.gh.calls("POST") == []


def test_help_documents_the_choice():
    text = " ".join(bot.build_parser().format_help().split())
    assert "--verify" in text and "--probe PORT[/PATH]" in text
    assert "opened as a draft with the reason at the top" in text
    assert "not opened at all, exit 4, where the repository allows no drafts" in text
    assert "an open PR is updated and says why" in text


def test_draft_whose_new_fixes_pass_asks_to_be_marked_ready(worlds, monkeypatch):
    """A draft opened because verify failed stays a draft when new fixes pass (REST cannot change
    it): the body and the log say to mark it ready for review.  (Stand-in verifications.)"""
    monkeypatch.setattr(bot, "_verify", _failed_verification)
    w = worlds(VERIFY_APPS / "stale-lock")
    code, _out, err = w.pr("--unsafe-fixes", "--select", "DFX005", "--verify")
    assert code == 0 and "opened draft pull request #1" in err, err
    monkeypatch.setattr(bot, "_verify", lambda *a: bot.Verification([], "stand-in", 0))
    code, _out, err = w.pr("--unsafe-fixes", "--verify")
    assert code == 0 and "updated pull request #1" in err and "mark it ready for review" in err, err
    pr = w.gh.pulls[0]
    assert pr["draft"] is True  # PATCH never changes it, on GitHub as in the fake server
    assert not pr["body"].startswith("> [!CAUTION]")
    assert "these pass: mark it ready for review" in section(pr["body"])


def test_dry_run_prints_the_verified_body(worlds, monkeypatch):
    monkeypatch.setattr(bot, "_verify", _failed_verification)
    w = worlds(VERIFY_APPS / "stale-lock")
    code, out, err = w.pr("--unsafe-fixes", "--verify", "--dry-run", token=None)
    assert code == 0, err
    body = out.split("\n\n", 1)[1]
    assert body.startswith("> [!CAUTION]\n> **`dockerfix verify` could not build or run an image of this change** "
                           "(exit 2), so this pull request would be opened as a **draft**"), out
    assert "#### `Dockerfile`: ERROR" in section(body) and "- the fixed image does not build" in section(body)
    assert w.gh.requests == [] and w.branch_sha() is None
