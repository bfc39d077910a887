"""``dockerfix pr [PATH]``: open or update one pull request with dockerfix's fixes.

Run it in a clone of the repository, checked out at the tip of the branch the pull request should
target (a scheduled GitHub Actions job does exactly that)::

    GITHUB_TOKEN=... dockerfix pr [PATH] [--repo OWNER/REPO] [--branch dockerfix/fixes]
                     [--base BRANCH] [--remote origin] [--unsafe-fixes] [--offline]
                     [--upgrade-node] [--upgrade-branch dockerfix/node-upgrade]
                     [--select CODE] [--ignore CODE] [--dry-run]
                     [--verify [--probe PORT[/PATH]]]

What it does, in order:

1. Finds the Dockerfiles under PATH (default ``.``; same discovery as ``dockerfix``), runs the
   fixer with each file's configuration (``[tool.dockerfix]`` / ``.dockerfix.toml``), in memory:
   the work tree, the index and HEAD are never touched.  A file that cannot be processed is
   reported on stderr and left out; the others still make the pull request.
   This hardening run never makes a Node.js major upgrade, even with ``upgrade-node = true`` in the
   configuration.  With ``--upgrade-node`` (or that key) a second run makes only the upgrade
   (DFX003 with ``upgrade_node``, unsafe on, and DFX002 to pin the new tag; see
   :mod:`dockerfix.fixer.upgrade_pr`), proposed apart on ``dockerfix/node-upgrade``
   (``--upgrade-branch``) with its own fingerprint, under the same rules (steps 2-6) as the
   hardening pull request: a major upgrade needs the app's tests, the hardening does not.
2. Nothing changes → exit 0.  Otherwise the change gets a **fingerprint**: sha256 of the sorted
   (repository path, new content) pairs, written into the PR body as
   ``<!-- dockerfix-fingerprint: <hex> -->`` and into the commit as a
   ``Dockerfix-Fingerprint: <hex>`` trailer.
3. ``--dry-run`` prints the title, the body and the diff on stdout and stops: no git write, no API
   call, no token needed.
4. Looks up the pull requests of the head branch (``GET /pulls?head=owner:branch&state=all``):

   * an open one whose body carries the same fingerprint → nothing to do (exit 0);
   * none open, but one the maintainers **closed without merging** with the same fingerprint →
     not reopened, not recreated (exit 0).  Different changes (a new fingerprint) do get a new PR;
   * otherwise the branch is (re)built and pushed, and the PR opened or its title/body updated.

   Pins follow the base images (``--update-pins`` is the bot's default; ``--no-update-pins`` to
   keep them): every run asks the registry what each tag points to now (a cached answer may
   predate a move), so a tag that moved under an open PR changes the fingerprint and the PR is
   updated, never duplicated.  The body then starts with a **Base images moved** note: each
   ``name:tag`` whose digest differs from the bot's previous commit on the branch (or, without
   one, from the base branch's pin), with both digests and when each image was built.

5. The branch (``dockerfix/fixes``, ``--branch``) always holds **exactly one commit** on top of the
   base: the whole current set of fixes, rebuilt from the base tip on every change (the Renovate
   model), by ``dockerfix[bot] <dockerfix[bot]@users.noreply.github.com>`` as author and
   committer.  One commit keeps the branch reproducible from the fingerprint and makes "someone
   else pushed here" trivial to detect.  The commit is made with git plumbing and a temporary
   index, so the clone's own state is untouched.
6. Before overwriting an existing remote branch it fetches it and checks every commit not on the
   base: a commit is the bot's when its committer email is the bot's and its author email is the
   bot's or its message has the ``Dockerfix-Fingerprint:`` trailer (an amend, a rebase or an edit
   in the web UI changes the committer).  All the bot's → ``git push --force-with-lease``.  Any
   other commit → **no push**: a comment on the open PR (once per fingerprint, marked
   ``<!-- dockerfix-blocked: <hex> -->``) and exit 3.

7. ``--verify`` (``--probe PORT[/PATH]``): when a push is due (and with ``--dry-run``), every
   changed Dockerfile is verified first (:mod:`dockerfix.fixer.verify`: the original and the
   fixed text of this very run are built in the working copy's build context, run briefly and
   compared) and the markdown table goes into the body under "Verified by building both images".
   When verify reports a regression (its exit 1) or an image that cannot be built or run (exit 2),
   the pull request is **not opened as ready for review**: it is opened as a **draft** with the
   reason at the top of the body; where the repository allows no drafts (GitHub Free/Pro private
   repositories answer 422) no pull request is opened, the pushed branch stays for inspection and
   the exit code is 4.  An open pull request is updated with the new fixes and the reason at the
   top (GitHub's REST API cannot turn it back into a draft).  No container engine → exit 2
   before anything is pushed.

Exit codes (with two pull requests, the higher of the two): **0** nothing to do, PR opened
(a draft when ``--verify`` found a problem), updated, already up to date, or closed by the
maintainers with these very changes; **2** error (not a git repository, uncommitted changes to
tracked files, no ``GITHUB_TOKEN``, token rejected: "GitHub rejected the token (401): check
GITHUB_TOKEN", API or push failure, no container engine for ``--verify``); **3** blocked: the
branch has commits that are not the bot's; **4** ``--verify`` found a problem and the repository
allows no draft pull requests: nothing opened.

Forge and credentials: the GitHub REST client is :mod:`dockerfix.fixer.forge`; ``GITHUB_TOKEN``
(a PAT, the Actions token or a GitHub App installation token), ``GITHUB_API_URL`` (default
``https://api.github.com``), owner/repo from ``--repo``, else ``GITHUB_REPOSITORY``, else the
remote's URL.  Git talks to the remote as configured (``git remote get-url``); for an http(s)
remote the token is handed to git through ``GIT_ASKPASS`` (a throw-away script that reads it from
the environment of that one git process; the script holds no secret).  Nothing is written to git
config, the token is never on a command line, and every message is scrubbed of it.
"""

from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .secrets import Redactor

EXIT_OK, EXIT_ERROR, EXIT_BLOCKED, EXIT_UNVERIFIED = 0, 2, 3, 4

BOT_NAME = "dockerfix[bot]"
BOT_EMAIL = "dockerfix[bot]@users.noreply.github.com"
TRAILER = "Dockerfix-Fingerprint"
BLOCKED_MARK = "dockerfix-blocked"
DEFAULT_BRANCH = "dockerfix/fixes"
DEFAULT_UPGRADE_BRANCH = "dockerfix/node-upgrade"


class BotError(Exception):
    """A failure that ends the run with exit 2; the message is shown as is (already scrubbed)."""


# ---------------------------------------------------------------------------------------------
# secrets

def token_redactor(token: str | None) -> Redactor:
    """Removes the token (and its base64 forms, as git and the API may echo them) from any text
    shown to the user."""
    import base64

    if not token:
        return Redactor()
    return Redactor([token, base64.b64encode(token.encode()).decode(),
                     base64.b64encode(f"x-access-token:{token}".encode()).decode()])


# ---------------------------------------------------------------------------------------------
# git

_ASKPASS = """#!/bin/sh
case "$1" in
  Username*|username*) printf '%s\\n' x-access-token ;;
  *) printf '%s\\n' "$DOCKERFIX_GIT_TOKEN" ;;
esac
"""


class Git:
    """``git`` subprocesses in one repository; the token only ever reaches the remote commands."""

    def __init__(self, root: Path, scrub: Redactor, token: str | None = None):
        self.root, self.scrub, self.token = root, scrub, token
        self._askpass_dir: tempfile.TemporaryDirectory | None = None

    def _env(self, extra: dict[str, str] | None = None, remote: bool = False) -> dict[str, str]:
        env = dict(os.environ)
        env["GIT_TERMINAL_PROMPT"] = "0"
        env.pop("DOCKERFIX_GIT_TOKEN", None)
        if remote and self.token:
            if self._askpass_dir is None:
                self._askpass_dir = tempfile.TemporaryDirectory(prefix="dockerfix-askpass-")
                p = Path(self._askpass_dir.name) / "askpass.sh"
                p.write_text(_ASKPASS)
                p.chmod(stat.S_IRWXU)
            env["GIT_ASKPASS"] = str(Path(self._askpass_dir.name) / "askpass.sh")
            env["DOCKERFIX_GIT_TOKEN"] = self.token
        env.update(extra or {})
        return env

    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
            remote: bool = False, check: bool = True) -> str:
        try:
            p = subprocess.run(["git", *args], cwd=self.root, input=input, capture_output=True,
                               env=self._env(env, remote))
        except OSError as e:
            raise BotError(f"cannot run git: {e}") from None
        if check and p.returncode != 0:
            err = self.scrub(p.stderr.decode("utf-8", "replace").strip())
            raise BotError(f"git {args[0]} failed: {err or 'exit ' + str(p.returncode)}")
        return p.stdout.decode("utf-8", "replace")

    def close(self) -> None:
        if self._askpass_dir is not None:
            self._askpass_dir.cleanup()
            self._askpass_dir = None


@dataclass
class Commit:
    sha: str
    author_name: str
    author_email: str
    committer_email: str
    message: str

    @property
    def is_bots(self) -> bool:
        mine = BOT_EMAIL.lower()
        return self.committer_email.lower() == mine and (
            self.author_email.lower() == mine or any(line.startswith(f"{TRAILER}:") for line in self.message.splitlines()))

    @property
    def subject(self) -> str:
        return self.message.splitlines()[0] if self.message else ""


def _commits(git: Git, tip: str, exclude: list[str]) -> list[Commit]:
    out = git.run("log", "--format=%H%x00%an%x00%ae%x00%ce%x00%B%x1e", tip, "--not", *exclude)
    commits = []
    for rec in out.split("\x1e"):
        rec = rec.strip("\n")
        if not rec:
            continue
        sha, an, ae, ce, msg = rec.split("\x00", 4)
        commits.append(Commit(sha, an, ae, ce, msg.strip()))
    return commits


# ---------------------------------------------------------------------------------------------
# the fixer, in memory

def _fix_repo(root: Path, path: str, *, unsafe: bool | None, offline: bool, select: list[str], ignore: list[str],
              update_pins: bool = True, upgrade_node: bool | None = False, **options):
    """Run the fixer on the Dockerfiles under ``path``; returns outcomes whose ``result.path`` is
    repository-relative (POSIX), the error lines of files that failed, and the session.
    ``upgrade_node``: False for the hardening run (never a major upgrade, whatever the
    configuration says); True or None (the configuration decides) for the upgrade run.
    ``options``: more :class:`~.session.Session` keywords (config_path, context_dir, refresh)."""
    from .session import Mode, Session, UsageError, discover, split_codes

    try:
        session = Session(mode=Mode.check, select=split_codes(select) or None, ignore=split_codes(ignore),
                          unsafe_fixes=unsafe, offline=offline, stderr=sys.stderr, quiet=True,
                          update_pins=update_pins, upgrade_node=upgrade_node, **options)
    except UsageError as e:
        raise BotError(str(e)) from None
    targets, _notes = discover([path])
    targets = [t for t in targets if not t.is_stdin]
    outcomes, errors = [], []
    for t, (outcome, _src) in zip(targets, session.run(targets)):  # never raises for one file
        if isinstance(outcome, Exception):  # a broken configuration: the whole run stops
            raise BotError(str(outcome))
        assert t.path is not None  # stdin targets were left out above
        try:
            rel = t.path.resolve().relative_to(root).as_posix()
        except ValueError:
            errors.append(f"{t.display}: outside the repository, skipped")
            continue
        outcome.result.path = rel
        outcome.target = t  # type: ignore[attr-defined]  # on disk: --verify builds it in its context
        if outcome.status == "error":
            errors.append(f"{rel}: {' '.join(str(outcome.error).splitlines())}")
            continue
        outcomes.append(outcome)
    return outcomes, errors, session


def _upgrade_codes(session) -> list[str]:
    """The codes of the upgrade run: DFX003 and the pin of its new tag (DFX002); none when
    ``--select`` leaves DFX003 out.  ``--ignore`` applies as usual."""
    from .upgrade_pr import UPGRADE_CODES

    chosen = session.cli_select
    return [] if chosen is not None and "DFX003" not in chosen else list(UPGRADE_CODES)


def _upgrade_asked(args, root: Path, path: str) -> bool:
    """``--upgrade-node``, else the ``--config`` file's or any configuration under ``path`` with
    ``upgrade-node = true``."""
    asked = getattr(args, "upgrade_node", None)
    if asked is not None:
        return asked
    from .config import load_config
    from .session import discover

    config_path = getattr(args, "config_path", None)
    if config_path is not None:
        try:
            return load_config(path=config_path).upgrade_node
        except Exception:  # reported by the hardening run
            return False

    targets, _notes = discover([path])
    for folder in {t.path.parent.resolve() for t in targets if t.path is not None}:
        try:
            if load_config(start=folder).upgrade_node:
                return True
        except Exception:  # reported by the hardening run
            continue
    return False


@dataclass
class Proposal:
    """One pull request to open or update: its branch, changes, fingerprint, title, body, commit message."""

    kind: str  # "fixes" | "upgrade"
    branch: str
    outcomes: list
    changes: dict
    fp: str
    title: str
    body: str
    message: str
    created: Callable[[Any], str | None] | None = None  # when a pinned image was built (for "moved" notes)
    session: Any = None  # the Session that made the outcomes (--verify finds build contexts with it)


def _commit_message(outcomes, title: str, fp: str) -> str:
    lines = [title, ""]
    for o in outcomes:
        r = o.result
        if r.status != "changed":
            continue
        codes = ", ".join(f"{f.code} line {f.line}" for f in sorted(r.applied, key=lambda f: (f.line, f.code)))
        lines.append(f"- {r.path}: {codes}")
        for extra in sorted(r.extra_files):
            lines.append(f"  (also {extra} in the build context)")
    lines += ["", "Why each change is made and how safe it is: see the pull request body.", "",
              f"{TRAILER}: {fp}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# --verify: build and run both images before pushing

VERIFY_HEADING = "### Verified by building both images"


@dataclass
class Verification:
    """What ``dockerfix verify`` said about one proposal: its reports, the engine and the exit code
    (0 no regression, 1 regression, 2 cannot build or run)."""

    reports: list
    engine: str
    code: int

    @property
    def failed(self) -> bool:
        return self.code != 0

    def reasons(self) -> list[str]:
        return [f"`{r.path}`: {reason}" for r in self.reports for reason in r.reasons]

    def table(self) -> str:
        """verify's markdown, its per-file headings one level below :data:`VERIFY_HEADING`."""
        from .verify_compare import render

        text = render(self.reports, "markdown", self.engine)
        return "\n".join("#" + ln if ln.startswith("### ") else ln for ln in text.splitlines())


def _verify(prop: Proposal, args, out: _Out) -> Verification:
    """Run ``dockerfix verify`` on the changed Dockerfiles of ``prop``: the texts this run computed,
    built in the working copy's build contexts (found as ``dockerfix verify`` finds them)."""
    from .verify import Options, engine_run, verify_outcome
    from .verify_compare import overall_exit
    from .verify_engine import EngineError

    opts = Options(probe=args.probe, quiet=args.quiet)
    reports: list = []

    def note(msg: str) -> None:
        out.info(f"verify: {msg}")

    try:
        with engine_run(opts, note) as (engine, workdir):
            for i, o in enumerate(prop.outcomes, 1):
                r = o.result
                if r.status != "changed" or getattr(o, "target", None) is None:
                    continue
                reports.append(verify_outcome(engine, i, prop.session, o.target, r, opts, workdir, note))
            engine_name = str(engine)
    except EngineError as e:
        raise BotError(f"--verify: {e}") from None
    v = Verification(reports, engine_name, overall_exit(reports))
    summary = {0: "no regression", 1: "REGRESSION", 2: "cannot build or run"}[v.code]
    out.info(f"verify ({prop.branch}): {summary} (exit {v.code})" + "".join(f"\n  {x}" for x in v.reasons()))
    return v


def _verified_body(body: str, v: Verification, *, kind: str, was_draft: bool = False) -> str:
    """``body`` with verify's table under :data:`VERIFY_HEADING` (before the footer) and, when
    verify found a problem, the reason at the top.  ``kind``: "new" (the pull request is being
    opened, as a draft when verify failed), "update" (an open one gets these changes) or
    "dry-run" (``--dry-run``: neither is known);
    ``was_draft``: the open pull request is a draft."""
    top: list[str] = []
    if v.failed:
        what = ("found a regression in these fixes" if v.code == 1
                else "could not build or run an image of this change")
        if kind == "new":
            then = "so this pull request was opened as a **draft**. Do not mark it ready for review until it is solved."
        elif kind == "dry-run":
            then = "so this pull request would be opened as a **draft** (or updated, saying so)."
        else:
            then = ("This pull request was updated with these fixes so that they can be reviewed: **do not merge "
                    "it** until the problem is solved.")
        top = ["> [!CAUTION]", f"> **`dockerfix verify` {what}** (exit {v.code}), {then}", ">"]
        top += [f"> - {' '.join(reason.split())}" for reason in v.reasons()]
        top += ["", ""]
    section = [VERIFY_HEADING, "",
               "`dockerfix verify` built the original and the fixed image of each changed Dockerfile in its build "
               "context, ran both briefly and compared them (the verdict is about the fixed image):", ""]
    if was_draft and not v.failed:
        section += ["This pull request is a draft because an earlier version of the fixes failed verification; "
                    "these pass: mark it ready for review.", ""]
    section += [v.table().rstrip(), ""]
    lines = body.rstrip("\n").split("\n")
    at = next((i for i, ln in enumerate(lines) if ln.startswith("<sub>Opened by")), None)
    if at is None:
        at = next((i for i, ln in enumerate(lines) if ln.startswith("<!-- ")), len(lines))
    lines[at:at] = section
    return "\n".join(top) + "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# the command

def build_parser() -> argparse.ArgumentParser:
    from .options import add_shared, parser

    ap = parser(
        "dockerfix pr",
        "Open or update one pull request with dockerfix's fixes (GitHub).",
        "Environment: GITHUB_TOKEN (required unless --dry-run), GITHUB_API_URL (default\n"
        "https://api.github.com), GITHUB_REPOSITORY (owner/repo when --repo is not given).\n\n"
        "Exit codes: 0 nothing to do / PR opened (a draft when --verify found a\n"
        "problem), updated or up to date / closed by maintainers; 2 error; 3 blocked:\n"
        "the branch has commits that are not dockerfix's; 4 --verify found a problem and\n"
        "the repository allows no draft PRs: the branch is pushed, no PR opened.\n\n"
        "The other options mean what they mean for dockerfix (dockerfix --help).",
        "Folder (or file) inside the git clone to fix (default: .).")
    ap.add_argument("--repo", metavar="OWNER/REPO", help="Repository on the forge (default: GITHUB_REPOSITORY, "
                                                        "else parsed from the remote URL).")
    ap.add_argument("--branch", default=DEFAULT_BRANCH, help=f"Head branch of the PR (default: {DEFAULT_BRANCH}).")
    ap.add_argument("--base", help="Branch the PR targets (default: the checked-out branch).")
    ap.add_argument("--remote", default="origin", help="Git remote to push to (default: origin).")
    ap.add_argument("--no-update-pins", dest="update_pins", action="store_false",
                    help="Leave digests pinned beside a tag alone (default: refresh them when the tag has moved, "
                         "so the open pull request follows the base images).")
    ap.add_argument("--upgrade-node", dest="upgrade_node", action="store_true", default=None,
                    help="Also propose Node.js major upgrades of end-of-life node images, in a pull request of "
                         "their own on --upgrade-branch (default: the configuration's upgrade-node).")
    ap.add_argument("--no-upgrade-node", dest="upgrade_node", action="store_false",
                    help="No major-upgrade pull request, whatever the configuration says.")
    ap.add_argument("--upgrade-branch", default=DEFAULT_UPGRADE_BRANCH, metavar="BRANCH",
                    help=f"Head branch of the major-upgrade PR (default: {DEFAULT_UPGRADE_BRANCH}).")
    ap.add_argument("--dry-run", action="store_true",
                    help="Print the title, body and diff; no git writes, no API calls.")
    ap.add_argument("--verify", action="store_true",
                    help="Before pushing, build and run the original and the fixed image of each changed "
                         "Dockerfile (dockerfix verify, same fixes) and put the before/after table in the "
                         "PR body. If the fixed image regresses or cannot be built or run, the PR is opened "
                         "as a draft with the reason at the top (not opened at all, exit 4, where the "
                         "repository allows no drafts); an open PR is updated and says why.")
    ap.add_argument("--probe", metavar="PORT[/PATH]",
                    help="With --verify: also check that the app answers HTTP on PORT (dockerfix verify --probe).")
    add_shared(ap, formats=("text", "json", "sarif", "github", "markdown"))
    return ap


class _Out:
    def __init__(self, scrub: Redactor, quiet: bool = False):
        self.scrub = scrub
        self.quiet = quiet

    def info(self, msg: str) -> None:
        if self.quiet and not msg.startswith(("error", "internal error", "warning")):
            return
        sys.stderr.write(self.scrub(f"dockerfix pr: {msg}") + "\n")
        sys.stderr.flush()

    def stdout(self, text: str) -> None:
        sys.stdout.write(self.scrub(text))
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN") or None
    scrub = token_redactor(token)
    out = _Out(scrub, quiet=getattr(args, "quiet", False))
    try:
        return run(args, token, out)
    except BotError as e:
        out.info(f"error: {e}")
        return EXIT_ERROR
    except Exception as e:  # a dockerfix bug: still never print the token
        from .forge import ForgeError

        if isinstance(e, ForgeError):
            out.info(f"error: {e}")
        else:
            out.info(f"internal error: {type(e).__name__}: {e}")
        return EXIT_ERROR


def run(args, token: str | None, out: _Out) -> int:
    start = Path(args.path)
    if not start.exists():
        raise BotError(f"{args.path}: no such file or folder")
    folder = start if start.is_dir() else start.parent
    git = Git(folder.resolve(), out.scrub, token)
    try:
        top = git.run("rev-parse", "--show-toplevel").strip()
    except BotError:
        raise BotError(f"{args.path}: not inside a git repository") from None
    root = Path(top).resolve()
    git.root = root
    try:
        head = git.run("rev-parse", "--verify", "HEAD^{commit}").strip()
    except BotError:
        raise BotError("the repository has no commit yet") from None
    base = args.base or git.run("symbolic-ref", "--short", "-q", "HEAD", check=False).strip()
    if not base:
        raise BotError("HEAD is detached: name the branch the pull request targets with --base")
    upgrade_branch = getattr(args, "upgrade_branch", DEFAULT_UPGRADE_BRANCH)
    for b in (args.branch, upgrade_branch):
        if base == b:
            raise BotError(f"the checked-out branch is the bot's branch {b}: check out the base branch")
    if args.branch == upgrade_branch:
        raise BotError("--branch and --upgrade-branch must differ: the major upgrade has a pull request of its own")

    proposals = _proposals(args, root, str(start.resolve()), out, upgrade_branch)
    if not proposals:
        out.info("nothing to fix: no pull request needed")
        git.close()
        return EXIT_OK

    if getattr(args, "probe", None) and not getattr(args, "verify", False):
        raise BotError("--probe needs --verify")
    if getattr(args, "probe", None):
        from .verify import parse_probe

        try:
            parse_probe(args.probe)
        except ValueError as e:
            raise BotError(str(e)) from None

    if args.dry_run:
        for p in proposals:
            if getattr(args, "verify", False):
                p.body = _verified_body(p.body, _verify(p, args, out), kind="dry-run")
            out.stdout(f"Title: {p.title}\nBranch: {p.branch} -> {base}\n\n{p.body}\n{_diff(p.outcomes)}")
            out.info(f"dry run: {len(p.changes)} file(s) would change on {p.branch} (fingerprint {p.fp[:12]}); "
                     "nothing pushed, no API call made")
        return EXIT_OK

    if git.run("status", "--porcelain", "--untracked-files=no").strip():
        raise BotError("the work tree has uncommitted changes to tracked files; dockerfix pr proposes "
                       "fixes to the committed state: commit or stash them first")
    if not token:
        raise BotError("GITHUB_TOKEN is not set (a token with contents and pull-requests write access)")
    repo = args.repo or os.environ.get("GITHUB_REPOSITORY")
    remote_url = git.run("remote", "get-url", args.remote, check=False).strip()
    if not remote_url:
        raise BotError(f"no git remote named {args.remote}")
    if not repo:
        from .forge import parse_remote

        repo = parse_remote(remote_url)
        if not repo:
            raise BotError(f"cannot tell owner/repo from the URL of remote {args.remote}: use --repo OWNER/REPO")

    from .forge import GitHubForge

    forge = GitHubForge(repo, token, api_url=os.environ.get("GITHUB_API_URL") or None)
    try:
        # each pull request on its own: one blocked by a person's commit does not hold up the other
        verify = (lambda p: _verify(p, args, out)) if getattr(args, "verify", False) else None
        return max(_sync(p, git, forge, out, remote=args.remote, head=head, base=base, verify=verify)
                   for p in proposals)
    finally:
        forge.close()
        git.close()


def _proposals(args, root: Path, path: str, out: _Out, upgrade_branch: str) -> list[Proposal]:
    """The hardening fixes (never a major upgrade) and, when asked, the major upgrade apart."""
    from .formats import changes_of, fingerprint, pr_title, render_markdown

    select, ignore = args.select or [], args.ignore or []
    shared = dict(config_path=getattr(args, "config_path", None), context_dir=getattr(args, "context_dir", None),
                  refresh=getattr(args, "refresh", False))
    outcomes, errors, session = _fix_repo(root, path, unsafe=args.unsafe_fixes, offline=args.offline,
                                          select=select, ignore=ignore,
                                          update_pins=getattr(args, "update_pins", True), upgrade_node=False,
                                          **shared)
    fmt = getattr(args, "output_format", "text")
    if fmt != "text":  # the report of the hardening fixes, as `dockerfix --format FMT` prints it
        if fmt == "json":
            import json

            from .report import to_json

            out.stdout(json.dumps(to_json(outcomes, mode="check", unsafe_fixes=session.any_unsafe), indent=2,
                                  ensure_ascii=False) + "\n")
        else:
            from .formats import render_format

            out.stdout(render_format(fmt, outcomes, mode="check", unsafe_fixes=session.any_unsafe))
    for e in errors:
        out.info(f"warning: {e} (left out of the pull request)")
    proposals = []
    changes = changes_of(outcomes)
    if changes:
        fp = fingerprint(changes)
        title = pr_title(outcomes)
        proposals.append(Proposal("fixes", args.branch, outcomes, changes, fp, title,
                                  render_markdown(outcomes, fingerprint_value=fp, unsafe_fixes=session.any_unsafe),
                                  _commit_message(outcomes, title, fp),
                                  created=_build_dates(session, root), session=session))
    codes = _upgrade_codes(session)
    if not codes or not _upgrade_asked(args, root, path):
        return proposals
    from .upgrade_pr import render_upgrade_body, upgrade_only, upgrade_title

    # the upgrade run: pins of the new tag only (refreshing other pins is the hardening PR's job)
    found, errors, upgrade_session = _fix_repo(root, path, unsafe=True, offline=args.offline, select=codes,
                                        ignore=ignore, update_pins=False,
                                        upgrade_node=True if getattr(args, "upgrade_node", None) else None,
                                        **shared)
    for e in errors:
        out.info(f"warning: {e} (left out of the upgrade pull request)")
    found = upgrade_only(found)
    changes = changes_of(found)
    if not changes:
        out.info("no Node.js major upgrade to propose (see `dockerfix --upgrade-node` for the reasons)")
        return proposals
    fp = fingerprint(changes)
    title = upgrade_title(found)
    proposals.append(Proposal("upgrade", upgrade_branch, found, changes, fp, title,
                              render_upgrade_body(found, fingerprint_value=fp, hardening_branch=args.branch),
                              _commit_message(found, title, fp), session=upgrade_session))
    return proposals


def _build_dates(session, root: Path) -> Callable[[Any], str | None] | None:
    """When an image (an ImageRef with a digest) was built, from the run's registry resolver
    (memo, digest cache, else one look-up); None offline.  Never raises: a date is a nicety."""
    if session.offline:
        return None

    def created(ref) -> str | None:
        try:
            config = session.config_for(root)
            resolver = None if isinstance(config, Exception) else session.resolver_for(config)
            value = resolver.resolve(ref, ()).created if resolver is not None else None
        except Exception:  # ResolveError, a network setting: no date then
            return None
        return value if isinstance(value, str) else None

    return created


def _pins(text: str) -> dict[str, set[str]]:
    """``name:tag`` → the digests pinned beside that tag in a Dockerfile text."""
    from dockerfix.transforms.dfx002_pin_digest import Target, image_targets

    from .document import ParseError, parse
    from .imageref import ImageRefError, parse as parse_ref

    out: dict[str, set[str]] = {}
    try:
        targets = list(image_targets(parse(text)))
    except (ParseError, ValueError):
        return out
    for t in targets:
        if not isinstance(t, Target):
            continue
        try:
            ref = parse_ref(t.text)
        except ImageRefError:
            continue
        if ref.tag and ref.digest:
            out.setdefault(ref.format(digest=False), set()).add(ref.digest)
    return out


def _moved_pins(git: Git, prior: str, prop: Proposal, since: str) -> str:
    """A note for the PR body naming every ``name:tag@digest`` whose digest differs between the
    ``prior`` commit (the bot's previous commit on the branch, else the base) and the proposal,
    with when each image was built: why an open pull request changed when the Dockerfiles did not."""
    from .imageref import parse as parse_ref

    lines = []
    for path, new_text in sorted(prop.changes.items()):
        try:
            before, after = _pins(git.run("show", f"{prior}:{path}", check=False)), _pins(new_text)
        except Exception:  # a note is a nicety: never a reason to fail the run
            continue
        for image in sorted(set(before) & set(after)):
            if before[image] == after[image] or len(before[image]) != 1 or len(after[image]) != 1:
                continue
            (old,), (new,) = before[image], after[image]
            ages = [_built(prop, parse_ref(f"{image}@{d}").without_tag()) for d in (old, new)]
            lines.append(f"- `{path}`: `{image}` moved from `{old[:19]}…`{ages[0]} to `{new[:19]}…`{ages[1]}")
    if not lines:
        return ""
    return f"**Base images moved** since {since}:\n\n" + "\n".join(lines) + "\n\n"


def _built(prop: Proposal, ref) -> str:
    created = prop.created(ref) if prop.created is not None else None
    try:
        day = date.fromisoformat(created[:10]) if created else None
    except ValueError:
        day = None
    if day is None:
        return ""
    return f" (built {day.isoformat()}, {(datetime.now(UTC).date() - day).days} days old)"


def _diff(outcomes) -> str:
    from .diffing import unified_diff
    from .formats import extra_uri

    diff = ""
    for o in outcomes:
        r = o.result
        if r.status == "changed":
            diff += unified_diff(r.before, r.after, r.path)
            for extra, (old, new) in sorted(r.extra_files.items()):
                diff += unified_diff(old, new, extra_uri(r.path, extra))
    return diff


def _sync(prop: Proposal, git: Git, forge, out: _Out, *, remote: str, head: str, base: str,
          verify=None) -> int:
    """Open, update or leave alone the pull request of one proposal.  ``verify(prop) ->
    Verification``: run before anything is pushed (``--verify``)."""
    from .forge import AlreadyExists, DraftsUnsupported
    from .formats import body_fingerprint

    branch, fp, title, body = prop.branch, prop.fp, prop.title, prop.body
    pulls = forge.find_pulls(branch)
    open_pr = next((p for p in pulls if p.state == "open"), None)
    if open_pr and body_fingerprint(open_pr.body) == fp:
        out.info(f"pull request #{open_pr.number} ({branch}) is up to date (fingerprint {fp[:12]}): nothing to do")
        return EXIT_OK
    if open_pr is None:
        closed = next((p for p in pulls if p.state == "closed" and not p.merged
                       and body_fingerprint(p.body) == fp), None)
        if closed is not None:
            out.info(f"pull request #{closed.number} ({branch}) with exactly these changes was closed without "
                     "merging: not reopening or recreating it (a different set of changes will open a new one)")
            return EXIT_OK

    # the remote branch: whose commits are on it?
    ls = git.run("ls-remote", "--heads", remote, f"refs/heads/{branch}", remote=True).split()
    remote_sha = ls[0] if ls else ""
    if remote_sha:
        git.run("fetch", "--no-tags", "--quiet", remote, f"refs/heads/{branch}", remote=True)
        fetched = git.run("rev-parse", "FETCH_HEAD").strip()
        exclude = [head]
        if git.run("ls-remote", "--heads", remote, f"refs/heads/{base}", remote=True).strip():
            git.run("fetch", "--no-tags", "--quiet", remote, f"refs/heads/{base}", remote=True)
            exclude.append(git.run("rev-parse", "FETCH_HEAD").strip())
        foreign = [c for c in _commits(git, fetched, exclude) if not c.is_bots]
        if foreign:
            return _blocked(forge, out, open_pr, branch, fp, foreign)
        remote_sha = fetched

    body = _moved_pins(git, remote_sha or head, prop, f"dockerfix's previous commit on `{branch}`" if remote_sha
                       else f"they were pinned on `{base}`") + body
    verification = verify(prop) if verify is not None else None
    if verification is not None:
        body = _verified_body(body, verification, kind="update" if open_pr is not None else "new",
                              was_draft=bool(open_pr is not None and open_pr.draft))

    # one commit on top of the base, built with a temporary index
    with tempfile.TemporaryDirectory(prefix="dockerfix-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git.run("read-tree", head, env=env)
        for path, content in sorted(prop.changes.items()):
            blob = git.run("hash-object", "-w", "--stdin", "--path", path,
                           input=content.encode("utf-8")).strip()
            ls_tree = git.run("ls-tree", head, "--", path).split()
            mode = ls_tree[0] if ls_tree and ls_tree[0] in ("100644", "100755") else "100644"
            git.run("update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=env)
        tree = git.run("write-tree", env=env).strip()
    if remote_sha and git.run("rev-parse", f"{remote_sha}^{{tree}}").strip() == tree \
            and git.run("rev-parse", f"{remote_sha}^").strip() == head:
        commit = remote_sha  # the branch already holds exactly this change
    else:
        ident = {"GIT_AUTHOR_NAME": BOT_NAME, "GIT_AUTHOR_EMAIL": BOT_EMAIL,
                 "GIT_COMMITTER_NAME": BOT_NAME, "GIT_COMMITTER_EMAIL": BOT_EMAIL}
        commit = git.run("commit-tree", tree, "-p", head, "-F", "-", input=prop.message.encode("utf-8"),
                         env=ident).strip()
        git.run("push", "--quiet", "--no-verify", f"--force-with-lease=refs/heads/{branch}:{remote_sha}",
                remote, f"{commit}:refs/heads/{branch}", remote=True)
        out.info(f"pushed {commit[:12]} to {branch}" + (" (replacing the bot's previous commit)" if remote_sha else ""))

    failed = verification is not None and verification.failed
    if open_pr is not None:
        pr = forge.update_pull(open_pr.number, title=title, body=body)
        out.info(f"updated pull request #{pr.number} {pr.url}".rstrip()
                 + (" (its body says that verify found a problem)" if failed else "")
                 + (": it is a draft, mark it ready for review" if open_pr.draft and verification is not None
                    and not failed else ""))
        return EXIT_OK
    try:
        pr = forge.create_pull(title=title, body=body, head=branch, base=base, draft=failed)
        out.info(f"opened {'draft ' if failed else ''}pull request #{pr.number} {pr.url}".rstrip())
    except DraftsUnsupported:
        out.info(f"not opening a pull request: verify found a problem and {forge.name} allows no draft pull "
                 f"requests in this repository; the fixes are on branch {branch} for inspection")
        return EXIT_UNVERIFIED
    except AlreadyExists:  # opened concurrently: update that one
        pr = next((p for p in forge.find_pulls(branch) if p.state == "open"), None)
        if pr is None:
            raise
        pr = forge.update_pull(pr.number, title=title, body=body)
        out.info(f"updated pull request #{pr.number} {pr.url}".rstrip())
    return EXIT_OK


def _blocked(forge, out: _Out, open_pr, branch: str, fp: str, foreign: list[Commit]) -> int:
    listing = "\n".join(f"- `{c.sha[:12]}` {c.author_name}: {c.subject}" for c in foreign[:20])
    if open_pr is not None:
        marker = f"<!-- {BLOCKED_MARK}: {fp} -->"
        if not any(marker in c for c in forge.list_comments(open_pr.number)):
            forge.add_comment(open_pr.number, (
                f"{marker}\n"
                f"dockerfix has a new set of fixes for this pull request (fingerprint `{fp[:12]}`), but the "
                f"branch `{branch}` has commits that dockerfix did not make:\n\n{listing}\n\n"
                "dockerfix never force-pushes over other people's work, so it has stopped updating this branch. "
                "To let it propose its current fixes, merge or close this pull request and delete the branch; "
                "dockerfix then opens a fresh one on its next run."))
            out.info(f"commented on pull request #{open_pr.number}")
    out.info(f"blocked: branch {branch} has {len(foreign)} commit(s) not made by dockerfix "
             f"({', '.join(c.sha[:12] for c in foreign[:5])}); not force-pushing. Merge or close the pull request "
             "and delete the branch to let dockerfix continue")
    return EXIT_BLOCKED
