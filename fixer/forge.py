"""The forge interface of the bot and its GitHub REST implementation.

:class:`Forge` is the small protocol ``dockerfix pr`` needs: find the pull requests of one head
branch (open, closed, merged), create one, update its title and body, and read and add issue
comments.  :class:`GitHubForge` implements it on httpx against the GitHub REST API:

=========================================  ======================================================
``GET  /repos/{o}/{r}/pulls?head=o:b&state=all``  find the bot's PRs (paginated by ``Link: rel="next"``)
``POST /repos/{o}/{r}/pulls``                    open, also as a draft (``422 A pull request already exists``
                                                 → found again; ``422 Draft pull requests are not
                                                 supported in this repository.`` → :class:`DraftsUnsupported`)
``PATCH /repos/{o}/{r}/pulls/{n}``               new title and body
``GET  /repos/{o}/{r}/issues/{n}/comments``      was this blocked-notice already posted?
``POST /repos/{o}/{r}/issues/{n}/comments``      the blocked-notice
=========================================  ======================================================

Authentication: ``Authorization: Bearer <token>`` (a personal access token, the Actions
``GITHUB_TOKEN`` or a GitHub App installation token work alike).  The base URL comes from
``GITHUB_API_URL`` (default ``https://api.github.com``; GitHub Enterprise and the tests set it).
The token is never part of an exception message, a log line or a returned value.

A GitLab (merge requests, ``PRIVATE-TOKEN``) or Gitea/Forgejo adapter implements the same
protocol; the differences that matter are listed in the project's protocol notes (§7.4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"


class ForgeError(Exception):
    """An API call failed; ``status`` is the HTTP status (0: no response)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class AuthError(ForgeError):
    """The forge rejected the token (401) or it lacks a permission (403)."""


class AlreadyExists(ForgeError):
    """422: a pull request for this head branch is already open."""


class DraftsUnsupported(ForgeError):
    """422: the repository does not allow draft pull requests (GitHub Free/Pro private repositories)."""


@dataclass
class PullRequest:
    number: int
    state: str  # "open" | "closed"
    merged: bool
    title: str
    body: str
    url: str
    head: str  # branch name
    draft: bool = False


class Forge(Protocol):
    """What the bot needs from a forge.  ``branch`` is a plain branch name."""

    name: str

    def find_pulls(self, branch: str) -> list[PullRequest]:
        """All pull requests (open, closed and merged) whose head is ``branch`` of this repository,
        newest first."""

    def create_pull(self, *, title: str, body: str, head: str, base: str, draft: bool = False) -> PullRequest:
        """Open a pull request; ``draft``: as a draft (:class:`DraftsUnsupported` when the
        repository does not allow drafts)."""

    def update_pull(self, number: int, *, title: str, body: str) -> PullRequest: ...

    def list_comments(self, number: int) -> list[str]:
        """The bodies of the comments on a pull request."""

    def add_comment(self, number: int, body: str) -> None: ...


def _next_link(link: str | None) -> str | None:
    for part in (link or "").split(","):
        m = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', part)
        if m:
            return m.group(1)
    return None


class GitHubForge:
    """GitHub REST client for one repository (``owner/repo``)."""

    name = "GitHub"

    def __init__(self, repo: str, token: str, *, api_url: str | None = None, timeout: float = 30.0,
                 transport=None):
        import httpx

        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
            raise ForgeError(f"not an owner/repo name: {repo!r}")
        self.repo = repo
        self.owner = repo.split("/")[0]
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self._client = httpx.Client(
            base_url=self.api_url, timeout=timeout, transport=transport, follow_redirects=True,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": API_VERSION, "User-Agent": "dockerfix-bot"})

    def close(self) -> None:
        self._client.close()

    # -- plumbing --------------------------------------------------------------------------
    def _request(self, method: str, url: str, **kw):
        import httpx

        try:
            resp = self._client.request(method, url, **kw)
        except httpx.HTTPError as e:
            raise ForgeError(f"{method} {self._path(url)}: {type(e).__name__}: {e}") from None
        if resp.status_code < 400:
            return resp
        message = self._message(resp)
        where = f"{method} {self._path(url)}"
        if resp.status_code == 401:
            raise AuthError(f"GitHub rejected the token (401): check GITHUB_TOKEN ({message or 'no message'})", 401)
        if resp.status_code == 403:
            raise AuthError(f"{where}: forbidden (403 {message}): the token needs the 'contents' and "
                            "'pull requests' write permissions", 403)
        if resp.status_code == 404:
            raise ForgeError(f"{where}: not found (404 {message}): check --repo {self.repo} and that the "
                             "token can see it", 404)
        if resp.status_code == 422 and "already exists" in message:
            raise AlreadyExists(f"{where}: {message}", 422)
        if resp.status_code == 422 and "draft pull requests are not supported" in message.lower():
            raise DraftsUnsupported(f"{where}: {message}", 422)
        raise ForgeError(f"{where}: HTTP {resp.status_code} {message}", resp.status_code)

    def _path(self, url: str) -> str:
        return url.removeprefix(self.api_url)

    @staticmethod
    def _message(resp) -> str:
        try:
            data = resp.json()
        except ValueError:
            return resp.reason_phrase or ""
        if not isinstance(data, dict):
            return ""
        msg = str(data.get("message", ""))
        details = [e.get("message", "") if isinstance(e, dict) else str(e) for e in data.get("errors") or []]
        details = [d for d in details if d]
        return msg + (": " + "; ".join(details) if details else "")

    def _paginate(self, url: str, params: dict) -> list:
        out: list = []
        next_url: str | None = url
        first = True
        while next_url:
            resp = self._request("GET", next_url, params=params if first else None)
            first = False
            data = resp.json()
            if not isinstance(data, list):
                raise ForgeError(f"GET {self._path(url)}: expected a list")
            out.extend(data)
            next_url = _next_link(resp.headers.get("link"))
        return out

    @staticmethod
    def _pull(d: dict) -> PullRequest:
        return PullRequest(number=int(d["number"]), state=d.get("state", ""),
                           merged=bool(d.get("merged_at") or d.get("merged")),
                           title=d.get("title") or "", body=d.get("body") or "",
                           url=d.get("html_url") or "", head=(d.get("head") or {}).get("ref", ""),
                           draft=bool(d.get("draft")))

    # -- the protocol ------------------------------------------------------------------------
    def find_pulls(self, branch: str) -> list[PullRequest]:
        data = self._paginate(f"/repos/{self.repo}/pulls",
                              {"head": f"{self.owner}:{branch}", "state": "all", "per_page": 100,
                               "sort": "created", "direction": "desc"})
        pulls = [self._pull(d) for d in data]
        return [p for p in pulls if p.head == branch or not p.head]

    def create_pull(self, *, title: str, body: str, head: str, base: str, draft: bool = False) -> PullRequest:
        payload = {"title": title, "body": body, "head": head, "base": base, "maintainer_can_modify": True}
        if draft:
            payload["draft"] = True
        resp = self._request("POST", f"/repos/{self.repo}/pulls", json=payload)
        return self._pull(resp.json())

    def update_pull(self, number: int, *, title: str, body: str) -> PullRequest:
        resp = self._request("PATCH", f"/repos/{self.repo}/pulls/{number}", json={"title": title, "body": body})
        return self._pull(resp.json())

    def list_comments(self, number: int) -> list[str]:
        data = self._paginate(f"/repos/{self.repo}/issues/{number}/comments", {"per_page": 100})
        return [d.get("body") or "" for d in data]

    def add_comment(self, number: int, body: str) -> None:
        self._request("POST", f"/repos/{self.repo}/issues/{number}/comments", json={"body": body})


def parse_remote(url: str) -> str | None:
    """``owner/repo`` from a GitHub-style remote URL (https, ssh, scp-like), else None."""
    url = url.strip()
    m = re.match(r"^(?:https?|ssh|git)://(?:[^@/]+@)?[^/]+(?::\d+)?/(.+?)(?:\.git)?/?$", url) \
        or re.match(r"^[^@/:]+@[^:/]+:(.+?)(?:\.git)?/?$", url)
    if not m:
        return None
    path = m.group(1).strip("/")
    parts = path.split("/")
    if len(parts) != 2 or not all(parts):
        return None
    return path
