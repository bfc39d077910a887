"""A local stand-in for the GitHub REST API endpoints ``dockerfix pr`` uses.

``http.server`` on 127.0.0.1 in a thread.  It answers with GitHub's status codes and JSON shapes
(docs.github.com REST "Pulls" and "Issue comments"; error bodies as GitHub sends them):

* ``GET /repos/{o}/{r}/pulls`` with ``state`` (open|closed|all, default open), ``head`` (``owner:branch``),
  ``per_page`` (default 30) and ``page``; ``Link`` header with ``rel="next"``/``rel="last"``.
* ``POST /repos/{o}/{r}/pulls``: 201; ``draft`` (boolean, default false) opens it as a draft
  (``"draft": true`` in every later answer); a repository without drafts (GitHub Free/Pro private
  ones; ``drafts_supported=False``) answers 422 ``{"message": "Draft pull requests are not supported
  in this repository."}``; a ``draft`` that is not a boolean: 422 ``Invalid request``; 422 ``Validation Failed`` with
  ``{"resource":"PullRequest","code":"custom","message":"A pull request already exists for o:b."}``
  when an open PR has that head; 422 ``field: head, code: invalid`` when the branch does not exist
  in the bare repository that plays the remote (checked with ``git``).
* ``PATCH /repos/{o}/{r}/pulls/{n}``: 200, 404 for an unknown number; like GitHub's, it changes
  ``title``, ``body`` and ``state`` but never ``draft`` (GitHub does that only through
  GraphQL's convertPullRequestToDraft / markPullRequestReadyForReview).
* ``GET``/``POST /repos/{o}/{r}/issues/{n}/comments`` (201 on create).
* Anything without ``Authorization: Bearer <token>`` / ``token <token>`` matching: 401
  ``{"message": "Bad credentials", ...}``; an unknown repository: 404 ``{"message": "Not Found"}``.

Every request is recorded (method, path, query, headers, body) for the tests to inspect.
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

DOCS = "https://docs.github.com/rest"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: str


@dataclass
class FakeGitHub:
    owner: str
    repo: str
    token: str
    bare: str | None = None  # path of the bare repository whose branches "exist"
    drafts_supported: bool = True  # False: a private repository on GitHub Free/Pro
    pulls: list[dict] = field(default_factory=list)
    comments: dict[int, list[dict]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1
    url: str = ""

    # -- helpers for tests ---------------------------------------------------------------------
    def close_pull(self, number: int, merged: bool = False) -> None:
        pr = self._pull(number)
        pr["state"] = "closed"
        pr["closed_at"] = "2026-01-01T00:00:00Z"
        pr["merged_at"] = "2026-01-01T00:00:00Z" if merged else None
        pr["merged"] = merged

    def add_pulls(self, n: int, head: str) -> None:
        """Unrelated closed PRs from other branches (exercise pagination)."""
        for _ in range(n):
            self._new_pull(title="unrelated", body="", head=head, base="main", state="closed")

    def calls(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and contains in r.path]

    # -- state -----------------------------------------------------------------------------------
    def _pull(self, number: int) -> dict:
        for p in self.pulls:
            if p["number"] == number:
                return p
        raise KeyError(number)

    def _new_pull(self, *, title, body, head, base, state="open", draft=False) -> dict:
        n = self.next_id
        self.next_id += 1
        base_url = f"{self.url}/repos/{self.owner}/{self.repo}"
        pr = {
            "id": 1000 + n, "number": n, "state": state, "locked": False, "title": title, "body": body,
            "url": f"{base_url}/pulls/{n}", "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{n}",
            "user": {"login": "dockerfix[bot]", "type": "Bot"},
            "head": {"label": f"{self.owner}:{head}", "ref": head, "sha": self._branch_sha(head) or "0" * 40,
                     "repo": {"full_name": f"{self.owner}/{self.repo}"}},
            "base": {"label": f"{self.owner}:{base}", "ref": base, "repo": {"full_name": f"{self.owner}/{self.repo}"}},
            "merged_at": None, "closed_at": None, "created_at": "2026-01-01T00:00:00Z", "draft": draft,
        }
        self.pulls.append(pr)
        return pr

    def _branch_sha(self, branch: str) -> str | None:
        if not self.bare:
            return None
        p = subprocess.run(["git", "--git-dir", self.bare, "rev-parse", "--verify", "-q", f"refs/heads/{branch}"],
                           capture_output=True, text=True)
        return p.stdout.strip() or None


def _handler(gh: FakeGitHub):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet
            pass

        def _send(self, status: int, data, headers: dict | None = None):
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self, method: str):
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            with gh.lock:
                gh.requests.append(Recorded(method, parts.path, query, dict(self.headers.items()), body))
                auth = self.headers.get("Authorization", "")
                if auth not in (f"Bearer {gh.token}", f"token {gh.token}"):
                    return self._send(401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})
                seg = parts.path.strip("/").split("/")
                if len(seg) < 3 or seg[0] != "repos" or seg[1] != gh.owner or seg[2] != gh.repo:
                    return self._send(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
                rest = seg[3:]
                try:
                    data = json.loads(body) if body else {}
                except ValueError:
                    return self._send(400, {"message": "Problems parsing JSON", "documentation_url": DOCS})
                try:
                    return self._route(method, rest, query, data, parts.path)
                except KeyError:
                    return self._send(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

        def _route(self, method, rest, query, data, path):
            if rest == ["pulls"] and method == "GET":
                state = query.get("state", "open")
                items = [p for p in reversed(gh.pulls) if state == "all" or p["state"] == state]
                if "head" in query:
                    items = [p for p in items if p["head"]["label"] == query["head"]]
                per = min(int(query.get("per_page", 30)), 100)
                page = int(query.get("page", 1))
                chunk = items[(page - 1) * per: page * per]
                headers = {}
                last = max(1, -(-len(items) // per))
                if page < last:
                    q = dict(query, page=str(page + 1))
                    ql = dict(query, page=str(last))
                    headers["Link"] = (f'<{gh.url}{path}?{urlencode(q)}>; rel="next", '
                                       f'<{gh.url}{path}?{urlencode(ql)}>; rel="last"')
                return self._send(200, chunk, headers)
            if rest == ["pulls"] and method == "POST":
                missing = [k for k in ("head", "base") if not data.get(k)]
                if missing or not data.get("title"):
                    return self._send(422, {"message": "Validation Failed", "documentation_url": DOCS, "status": "422",
                                            "errors": [{"resource": "PullRequest", "field": k, "code": "missing_field"}
                                                       for k in missing or ["title"]]})
                draft = data.get("draft", False)
                if not isinstance(draft, bool):
                    return self._send(422, {"message": f"Invalid request.\n\nFor 'properties/draft', "
                                                       f"{json.dumps(draft)} is not a boolean.",
                                            "documentation_url": DOCS, "status": "422"})
                if draft and not gh.drafts_supported:
                    return self._send(422, {"message": "Draft pull requests are not supported in this repository.",
                                            "documentation_url": DOCS, "status": "422"})
                head = data["head"].split(":")[-1]
                if any(p["state"] == "open" and p["head"]["ref"] == head for p in gh.pulls):
                    return self._send(422, {"message": "Validation Failed", "documentation_url": DOCS, "status": "422",
                                            "errors": [{"resource": "PullRequest", "code": "custom",
                                                        "message": f"A pull request already exists for {gh.owner}:{head}."}]})
                if gh.bare and (gh._branch_sha(head) is None or gh._branch_sha(data["base"]) is None):
                    field_ = "head" if gh._branch_sha(head) is None else "base"
                    return self._send(422, {"message": "Validation Failed", "documentation_url": DOCS, "status": "422",
                                            "errors": [{"resource": "PullRequest", "field": field_, "code": "invalid"}]})
                pr = gh._new_pull(title=data["title"], body=data.get("body") or "", head=head, base=data["base"],
                                  draft=draft)
                return self._send(201, pr)
            if len(rest) == 2 and rest[0] == "pulls" and method == "PATCH":
                pr = gh._pull(int(rest[1]))
                for k in ("title", "body", "state"):  # never "draft": GitHub ignores it here
                    if k in data:
                        pr[k] = data[k]
                return self._send(200, pr)
            if len(rest) == 3 and rest[0] == "issues" and rest[2] == "comments":
                n = int(rest[1])
                gh._pull(n)
                items = gh.comments.setdefault(n, [])
                if method == "GET":
                    per = min(int(query.get("per_page", 30)), 100)
                    page = int(query.get("page", 1))
                    headers = {}
                    if page * per < len(items):
                        headers["Link"] = f'<{gh.url}{path}?{urlencode(dict(query, page=str(page + 1)))}>; rel="next"'
                    return self._send(200, items[(page - 1) * per: page * per], headers)
                if method == "POST":
                    c = {"id": 5000 + len(items), "body": data.get("body", ""), "user": {"login": "dockerfix[bot]"},
                         "html_url": f"https://github.com/{gh.owner}/{gh.repo}/pull/{n}#issuecomment-{5000 + len(items)}"}
                    items.append(c)
                    return self._send(201, c)
            return self._send(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def do_PATCH(self):
            self._handle("PATCH")

    return H


class Server:
    """Context manager: ``with Server(gh) as url: ...``."""

    def __init__(self, gh: FakeGitHub):
        self.gh = gh
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gh))
        self.httpd.daemon_threads = True
        gh.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return self.gh.url

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
