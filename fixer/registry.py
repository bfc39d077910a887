"""Resolve image tags to digests against an OCI / Docker registry (HTTP API v2), on httpx.

What it does (``/work/shared/reference/protocols.md`` §2–§3, DESIGN.md §4):

* ``HEAD /v2/<path>/manifests/<tag>`` with the four manifest media types in ``Accept`` (never
  fewer: a registry then rewrites a Docker list into its amd64 child, or 404s an OCI index), and
  reads ``Docker-Content-Digest``. That digest is the tag's **top-level** digest (index, list or
  single manifest): the one to pin next to the tag.
* To list platforms it needs the manifest body: ``GET /v2/<path>/manifests/<digest>`` (by digest,
  so the body matches the HEAD answer even if the tag moves meanwhile), checked against the
  digest: sha256 of the exact bytes. A single-platform manifest names its platform only in its
  config blob, so that blob is fetched too (``GET /v2/<path>/blobs/<config digest>``).
* Without a ``Docker-Content-Digest`` header (old registries), or when HEAD is not allowed, it
  GETs the tag and uses sha256 of the body; if such a GET carries the header, the two must agree
  ("served digest does not match the manifest").
* Auth from the 401 challenge (``WWW-Authenticate``, several challenges per header allowed):
  Bearer (token from ``realm?service=…&scope=repository:<path>:pull``, ``token`` or
  ``access_token``, Basic credentials on the token request when there are any, anonymous
  otherwise) and Basic. Once a host's scheme is known, later requests authenticate up front.
  Credentials are never sent to another origin on a redirect, a 401 that comes from another
  origin after a redirect is not answered with credentials, and credentials only travel in
  clear text to loopback hosts.
* Retries with exponential backoff on 429, 5xx and connection resets, honouring
  ``Retry-After`` (capped); errors are :class:`ResolveError` with a clear message that never
  contains a credential or a token.
* A connect failure (DNS, refused, unreachable) or a timeout is never retried: it trips the
  per-host circuit breaker of the run's :class:`NetworkGuard`, and the rest of that host's
  look-ups fail at once (:class:`HostSkipped`).  The guard's optional total deadline cuts
  request timeouts to the time left and then skips the rest (:class:`DeadlineExceeded`).
* An optional :class:`~dockerfix.fixer.cache.DigestCache`: tag → digest entries expire (TTL);
  digest → contents entries are content-addressed and never stale.

HTTP requests per reference, cold cache (anonymous registry, first contact with the host)::

    tag → index / manifest list      2   HEAD tag, GET index by digest
    tag → single-platform manifest   3   HEAD tag, GET manifest by digest, GET config blob
    digest → index / list            1   GET by digest
    digest → single manifest         2   GET by digest, GET config blob
    no Docker-Content-Digest header  same counts: the HEAD is followed by a GET of the *tag*
                                     whose body then serves as the content
    Basic auth                       +1 once per host (the first 401); later requests send
                                     credentials up front
    Bearer auth                      +1 once per host (the first 401) and +1 token request per
                                     repository (tokens are cached per scope until they expire)
    warm cache                       0
    tag entry expired, digest known  1   (HEAD only: the contents of a digest never change)

Retries add one request per retry (never after a connect failure or a timeout: a host that
fails that way costs one attempt per run). ``RegistryClient.request_count`` counts every request sent
(token requests, redirects and retries included). HEAD requests do not count towards Docker
Hub's pull limit; each GET of a manifest does.

Concurrency: :meth:`RegistryClient.resolve_many` runs one look-up per distinct
(registry, repository, tag-or-digest) on a bounded thread pool sharing one ``httpx.Client``
(connection pool of ``concurrency`` connections). The first request to a host goes alone so
that its auth scheme is learnt once; the rest then authenticate up front.

Layout: what needs no network (media types, :class:`Resolution`, :class:`ResolveError`, manifest
classification, challenges, platforms) lives in :mod:`.oci`, the mirror settings in :mod:`.mirrors`
(checked up front without importing httpx); both are re-exported here.  This module keeps the
:class:`NetworkGuard` (breaker and deadline, which act on httpx requests), the client and its httpx
auth flow together on purpose: the flow reads
the client's credentials, token cache and secret redactor under one lock, and splitting them would
turn that shared state into a cross-module protocol of private attributes.
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from collections.abc import Generator, Iterable, Mapping, Sequence

import httpx

from .cache import LIST_FAILURE_TTL, DigestCache
from .credentials import CredentialError, Credentials, CredentialsLookup, CredentialStore, canonical_host
from .imageref import ImageRef, is_valid_digest
from .oci import (
    ACCEPT,
    DEFAULT_PLATFORMS,
    MIRROR_ENV,
    ManifestContent,
    Resolution,
    ResolveError,
    describe_manifest,
    is_loopback,
    mirrors_from_env,
    normalise_base_url,
    normalise_platform,
    parse_challenges,
    parse_mirrors,
    platform_matches,
    platform_string,
    registry_error_detail,
    sha256_digest,
)
from .secrets import Redactor

__all__ = [
    "ACCEPT",
    "DEFAULT_PLATFORMS",
    "MIRROR_ENV",
    "DeadlineExceeded",
    "HostSkipped",
    "NetworkGuard",
    "RegistryClient",
    "Resolution",
    "ResolveError",
    "mirrors_from_env",
    "parse_challenges",
    "parse_mirrors",
]

log = logging.getLogger("dockerfix.registry")


DOCKER_HUB_API = "https://registry-1.docker.io"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution's own limit for manifests
MAX_CONFIG_BYTES = 8 * 1024 * 1024
MAX_TOKEN_BYTES = 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REPO_IN_PATH = re.compile(r"/v2/(?P<repo>.+)/(?:manifests|blobs)/[^/]+$")


# ---------------------------------------------------------------------------------------------
# Network guard: circuit breaker and deadline
# ---------------------------------------------------------------------------------------------


class HostSkipped(ResolveError):
    """A look-up not sent because its host failed earlier in the run (circuit breaker)."""


class DeadlineExceeded(ResolveError):
    """A look-up not sent (or cut short) because the run's network deadline passed."""


def _host_of(url: httpx.URL) -> str:
    return url.netloc.decode("ascii")


def _connect_reason(exc: Exception) -> tuple[str, str]:
    """(what the host did, in the past tense, for the breaker; the detail for the first error)."""
    text = str(exc)
    low = text.lower()
    if any(s in low for s in ("name or service not known", "name resolution", "nodename nor servname",
                              "no address associated", "getaddrinfo failed", "errno -2", "errno -3", "errno -5")):
        return "did not resolve (DNS)", "its name does not resolve (DNS)"
    if "refused" in low:
        return "refused the connection", "connection refused"
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"could not be reached ({detail})", detail


class NetworkGuard:
    """What every registry client of one run shares: a per-host circuit breaker and a deadline.

    * **Circuit breaker**: after a connect failure (DNS, refused, unreachable) or a timeout on a
      host (``host[:port]``, a token server or redirect target included), that host is *down* for
      the rest of the run: every later request to it fails at once with :class:`HostSkipped`, and
      the failed request is not retried.  ``on_trip(host, reason)`` is called once per host.
    * **Deadline**: ``deadline`` seconds of network work for the run: the clock runs while at
      least one look-up is under way (not while the run does other work between look-ups).
      Each request's timeouts are cut to the time left; once it has passed, requests fail at
      once with :class:`DeadlineExceeded`; ``on_deadline(seconds)`` is called once.

    Thread-safe.  A client without an explicit guard gets its own (no deadline).
    """

    def __init__(self, deadline: float | None = None, *, on_trip=None, on_deadline=None, clock=time.monotonic) -> None:
        if deadline is not None and deadline <= 0:
            raise ValueError("the network deadline must be a positive number of seconds")
        self.deadline = deadline
        self.on_trip = on_trip
        self.on_deadline = on_deadline
        self._clock = clock
        self._spent = 0.0
        self._active = 0
        self._since = 0.0
        self._down: dict[str, str] = {}
        self._expired_reported = False
        self._lock = threading.Lock()

    # -- deadline ----------------------------------------------------------------------------

    def enter(self) -> None:
        """A look-up starts: the deadline clock runs while any look-up is under way."""
        with self._lock:
            if self._active == 0:
                self._since = self._clock()
            self._active += 1

    def leave(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                self._spent += self._clock() - self._since

    def spent(self) -> float:
        """Seconds of network work so far (time with at least one look-up under way)."""
        with self._lock:
            return self._spent + (self._clock() - self._since if self._active else 0.0)

    def remaining(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline)."""
        if self.deadline is None:
            return None
        return self.deadline - self.spent()

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def deadline_error(self, what: str) -> DeadlineExceeded:
        report = False
        with self._lock:
            if not self._expired_reported:
                self._expired_reported = report = True
        if report and self.on_deadline is not None:
            self.on_deadline(self.deadline)
        return DeadlineExceeded(f"{what}: the run's network deadline of {self.deadline:g}s passed")

    # -- breaker -----------------------------------------------------------------------------

    def down(self, host: str) -> str | None:
        """Why ``host`` is skipped for the rest of the run, or ``None`` while it is usable."""
        with self._lock:
            return self._down.get(host.lower())

    @property
    def hosts_down(self) -> dict[str, str]:
        with self._lock:
            return dict(self._down)

    def trip(self, host: str, reason: str) -> bool:
        """Mark ``host`` down (``reason``: "timed out after 10s"); True the first time."""
        with self._lock:
            if host.lower() in self._down:
                return False
            self._down[host.lower()] = reason
        if self.on_trip is not None:
            self.on_trip(host, reason)
        return True

    def check(self, request: httpx.Request) -> None:
        """Refuse a request to a host that is down or past the deadline; cut its timeouts."""
        host = _host_of(request.url)
        why = self.down(host)
        if why is not None:
            raise HostSkipped(f"{host} {why} earlier in this run, so its other look-ups are skipped")
        left = self.remaining()
        if left is None:
            return
        if left <= 0:
            raise self.deadline_error(f"{host} not contacted")
        timeouts = dict(request.extensions.get("timeout") or {})
        for key in ("connect", "read", "write", "pool"):
            value = timeouts.get(key)
            timeouts[key] = left if value is None else min(value, left)
        request.extensions["timeout"] = timeouts


# ---------------------------------------------------------------------------------------------
# Auth (an httpx.Auth flow)
# ---------------------------------------------------------------------------------------------


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


@dataclass
class _HostAuth:
    """What we learnt about a registry origin's auth scheme."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    known: bool = False
    scheme: str | None = None  # None (anonymous), "basic" or "bearer"
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class _Token:
    value: str
    expires: float


class _RegistryAuth(httpx.Auth):
    """Challenge-driven Basic / Bearer auth for the registry API, shared by all threads."""

    def __init__(self, owner: RegistryClient) -> None:
        self._owner = owner
        self._hosts: dict[tuple, _HostAuth] = {}
        self._tokens: dict[tuple, _Token] = {}
        self._token_locks: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    def _host(self, origin: tuple) -> _HostAuth:
        with self._lock:
            return self._hosts.setdefault(origin, _HostAuth())

    def _token_lock(self, key: tuple) -> threading.Lock:
        with self._lock:
            return self._token_locks.setdefault(key, threading.Lock())

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        origin = _origin(request.url)
        state = self._host(origin)
        m = _REPO_IN_PATH.search(request.url.path)
        repo = m.group("repo") if m else None
        host = request.url.netloc.decode("ascii")
        creds = self._owner._credentials_for(host)
        first = False
        if not state.known:
            state.lock.acquire()  # the first request to a host goes alone; the others wait
            first = not state.known
            if not first:
                state.lock.release()
        try:
            sent_scheme = None
            if state.known and state.scheme:
                header = yield from self._authorization(state, host, repo, creds, request.url)
                if header:
                    request.headers["Authorization"] = header
                    sent_scheme = state.scheme
            response = yield request
            if response.status_code != 401 or _origin(response.url) != origin:
                # Not a challenge, or a challenge from another origin after a redirect: never
                # answer that one with this host's credentials.
                if first:
                    state.known = True
                return
            challenges = parse_challenges(response.headers.get_list("www-authenticate"))
            usable = [c for c in challenges if c[0] in ("bearer", "basic")]
            if not usable:
                return
            scheme, params = next((c for c in usable if c[0] == "bearer"), usable[0])
            if sent_scheme == scheme and scheme == "basic":
                return  # our credentials were refused; the caller reports it
            state.scheme, state.params, state.known = scheme, params, True
            header = yield from self._authorization(state, host, repo, creds, request.url, fresh=sent_scheme == scheme)
            if not header:
                return
            request.headers["Authorization"] = header
            yield request
        finally:
            if first:
                state.known = True
                state.lock.release()

    def _authorization(
        self,
        state: _HostAuth,
        host: str,
        repo: str | None,
        creds: Credentials | None,
        url: httpx.URL,
        fresh: bool = False,
    ) -> Generator[httpx.Request, httpx.Response, str | None]:
        """Yield a token request if needed; return the Authorization header value (or None)."""
        if state.scheme == "basic":
            if creds is None or creds.is_identity_token or not (creds.username or creds.secret):
                return None
            self._owner._check_clear_text(url, "registry")
            return "Basic " + self._owner._basic(creds)
        if creds is not None and creds.registry_token:
            return "Bearer " + creds.registry_token
        realm = state.params.get("realm")
        if not realm:
            raise ResolveError(f"registry {host} sent a Bearer challenge without a realm")
        service = state.params.get("service")
        scope = f"repository:{repo}:pull" if repo else state.params.get("scope")
        key = (realm, service, scope, id(creds))
        with self._token_lock(key):
            token = self._tokens.get(key)
            if token is not None and not fresh and token.expires > time.monotonic():
                return "Bearer " + token.value
            token_request = self._token_request(realm, service, scope, creds, host)
            response = yield token_request
            value, lifetime = self._owner._read_token(response, host, repo, creds)
            self._tokens[key] = _Token(value, time.monotonic() + max(lifetime - 10, 1))
            return "Bearer " + value

    def _token_request(
        self, realm: str, service: str | None, scope: str | None, creds: Credentials | None, host: str
    ) -> httpx.Request:
        try:
            realm_url = httpx.URL(realm)
        except httpx.InvalidURL:
            raise ResolveError(f"registry {host} sent an invalid token realm") from None
        if realm_url.scheme not in ("http", "https"):
            raise ResolveError(f"registry {host} sent a token realm that is not http(s)")
        params = {k: v for k, v in (("service", service), ("scope", scope)) if v}
        headers = {"Accept": "application/json"}
        if creds is not None and creds.is_identity_token:
            self._owner._check_clear_text(realm_url, "token server")
            form = {"grant_type": "refresh_token", "refresh_token": creds.secret, "client_id": "dockerfix", **params}
            return httpx.Request("POST", realm_url, data=form, headers=headers)
        if creds is not None and (creds.username or creds.secret):
            self._owner._check_clear_text(realm_url, "token server")
            headers["Authorization"] = "Basic " + self._owner._basic(creds)
        return httpx.Request("GET", realm_url, params=params, headers=headers)


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


#: Largest page of a tag list read (1000 tags of up to ~100 bytes each, with room).
MAX_TAG_PAGE_BYTES = 1_000_000


class RegistryClient:
    """Resolve image references to digests. Create one per run; it is thread-safe.

    ``mirrors``: registry domain → base URL (``{"docker.io": "http://127.0.0.1:5000"}``);
    ``None`` reads ``DOCKERFIX_REGISTRY_MIRROR``; an explicit mapping replaces the variable.
    ``credentials``: a callable ``host -> Credentials | None`` (default: a
    :class:`~dockerfix.fixer.credentials.CredentialStore`); credentials are looked up for the host
    actually contacted (a mirror's own host, never Docker Hub's credentials for a mirror).
    ``timeout`` is per request (connect, read, write, pool), in seconds. ``retries`` is the
    number of extra attempts after a 429/5xx/connection error/timeout; the wait is
    ``backoff * 2**attempt`` (with jitter), or ``Retry-After`` capped at ``max_retry_after``.
    ``offline=True``: no network at all; every look-up fails with
    ``ResolveError("offline: digest look-up skipped")``.
    ``guard``: a :class:`NetworkGuard` shared with the other clients of the run (circuit breaker
    per host, total deadline); by default the client has its own, without a deadline.  A connect
    failure or a timeout is never retried: it marks the host down for the rest of the run.
    """

    def __init__(
        self,
        mirrors: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        concurrency: int = 8,
        cache: DigestCache | None = None,
        credentials: CredentialsLookup | None = None,
        offline: bool = False,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        guard: NetworkGuard | None = None,
        want_created: bool = False,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.mirrors = (
            mirrors_from_env()
            if mirrors is None
            else {canonical_host(k): normalise_base_url(v) for k, v in mirrors.items()}
        )
        self.timeout = timeout
        self.retries = max(0, retries)
        self.concurrency = concurrency
        self.cache = cache
        self.offline = offline
        self.want_created = want_created  # also learn when each image was built (2 requests more an index)
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._credentials = credentials if credentials is not None else CredentialStore()
        self._creds_cache: dict[str, Credentials | None] = {}
        self._redact = Redactor(min_length=3)  # every credential and token seen, hidden in errors
        self._lock = threading.Lock()
        self._request_count = 0
        self._request_log: list[str] = []
        self._auth = _RegistryAuth(self)
        self._http: httpx.Client | None = None
        self._transport = transport
        self.guard = guard if guard is not None else NetworkGuard()

    # -- lifecycle ---------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(
                    timeout=httpx.Timeout(self.timeout),
                    follow_redirects=True,
                    max_redirects=5,
                    limits=httpx.Limits(max_connections=self.concurrency * 2, max_keepalive_connections=self.concurrency * 2),
                    headers={"User-Agent": "dockerfix (+registry digest resolver)"},
                    event_hooks={"request": [self._on_request]},
                    transport=self._transport,
                )
            return self._http

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RegistryClient(mirrors={self.mirrors!r}, offline={self.offline}, requests={self.request_count})"

    # -- counters ----------------------------------------------------------------------------

    def _on_request(self, request: httpx.Request) -> None:
        self.guard.check(request)  # a host that is down, or the deadline: not sent, not counted
        line = f"{request.method} {request.url.copy_with(query=None)}"
        with self._lock:
            self._request_count += 1
            self._request_log.append(line)
        log.debug("request %s", line)

    @property
    def request_count(self) -> int:
        """HTTP requests sent by this client so far (token requests, redirects, retries included)."""
        with self._lock:
            return self._request_count

    @property
    def request_log(self) -> list[str]:
        """``"METHOD url"`` (query left out) for every request sent, in order."""
        with self._lock:
            return list(self._request_log)

    def reset_counters(self) -> None:
        with self._lock:
            self._request_count = 0
            self._request_log.clear()

    # -- registry addressing -----------------------------------------------------------------

    def base_url(self, domain: str) -> str:
        """Base URL for a registry domain: a mirror, Docker Hub's API host, ``http://`` for
        loopback hosts, ``https://`` otherwise."""
        key = canonical_host(domain)
        if key in self.mirrors:
            return self.mirrors[key]
        if key == "docker.io":
            return DOCKER_HUB_API
        host = domain.rsplit(":", 1)[0] if not domain.endswith("]") else domain
        scheme = "http" if is_loopback(host) else "https"
        return f"{scheme}://{domain}"

    def _display(self, base: str, domain: str) -> str:
        host = httpx.URL(base).netloc.decode("ascii")
        if canonical_host(domain) in self.mirrors:
            return f"{host} (mirror for {canonical_host(domain)})"
        return host

    # -- secrets -----------------------------------------------------------------------------

    def _credentials_for(self, host: str) -> Credentials | None:
        key = canonical_host(host)
        with self._lock:
            if key in self._creds_cache:
                return self._creds_cache[key]
        try:
            creds = self._credentials(key)
        except CredentialError as exc:
            raise ResolveError(f"credentials for {key}: {exc}") from None
        with self._lock:
            self._creds_cache[key] = creds
            if creds is not None:
                self._redact.update(creds.secrets())
                if creds.username or creds.secret:
                    self._redact.add(self._basic(creds))
        return creds

    @staticmethod
    def _basic(creds: Credentials) -> str:
        """The Basic credential (base64 of ``user:secret``); itself treated as a secret."""
        return base64.b64encode(f"{creds.username}:{creds.secret}".encode()).decode("ascii")

    @staticmethod
    def _check_clear_text(url: httpx.URL, what: str) -> None:
        if url.scheme != "https" and not is_loopback(url.host):
            raise ResolveError(f"refusing to send credentials in clear text to {what} {url.host}")

    def _read_token(
        self, response: httpx.Response, host: str, repo: str | None, creds: Credentials | None
    ) -> tuple[str, float]:
        where = f"token server {response.url.netloc.decode('ascii')}"
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_TOKEN_BYTES:
            raise ResolveError(f"{where} sent a token response of {int(length)} bytes; refusing it")
        body = response.read()  # httpx reads it again for the flow, so no streaming cap here
        if response.status_code in (401, 403):
            why = "bad credentials" if creds is not None else "anonymous access denied"
            raise ResolveError(
                f"registry {host} answered {response.status_code} for {repo or 'token'}: {why} ({where})",
                status=response.status_code,
            )
        if response.status_code != 200:
            raise ResolveError(f"{where} answered {response.status_code} for {repo or 'token'}", status=response.status_code)
        try:
            data = json.loads(body)
            value = data.get("token") or data.get("access_token")
            lifetime = float(data.get("expires_in") or 60)
        except (ValueError, AttributeError, TypeError):
            raise ResolveError(f"{where} returned a token response that is not valid JSON") from None
        if not isinstance(value, str) or not value:
            raise ResolveError(f"{where} returned no token")
        self._redact.add(value)
        return value, lifetime

    # -- HTTP with retries -------------------------------------------------------------------

    def _retry_delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and (value := response.headers.get("retry-after")):
            delay: float | None
            try:
                delay = float(value)
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(value)
                    delay = when.timestamp() - time.time()
                except (TypeError, ValueError):
                    delay = None
            if delay is not None:
                return min(max(delay, 0.0), self.max_retry_after)
        return self.backoff * (2**attempt) * (0.5 + random.random() / 2)

    def _fetch(
        self, method: str, url: str, *, limit: int, what: str, registry: str
    ) -> tuple[httpx.Response, bytes]:
        """Send with auth and retries; return the response and its (capped) body.

        429/5xx and connection resets are retried; a connect failure or a timeout is not: it
        trips the circuit breaker for its host (see :class:`NetworkGuard`)."""
        client = self._client()
        headers = {"Accept": ACCEPT} if "/manifests/" in url else {}
        attempt = 0
        while True:
            response = None
            try:
                request = client.build_request(method, url, headers=headers)
                response = client.send(request, auth=self._auth, stream=True)
                try:
                    if response.status_code in RETRY_STATUSES and attempt < self.retries:
                        delay = self._retry_delay(attempt, response)
                        log.info("registry %s answered %s for %s; retrying in %.1fs", registry, response.status_code, what, delay)
                        last = f"registry {registry} answered {response.status_code} for {what}"
                    else:
                        body = _read_capped(response, limit, f"registry {registry}")
                        return response, body
                finally:
                    response.close()
            except HostSkipped as exc:
                raise HostSkipped(f"registry {registry} not contacted for {what}: {exc}") from None
            except DeadlineExceeded:
                raise DeadlineExceeded(f"registry {registry} not contacted for {what}: the run's network "
                                       f"deadline of {self.guard.deadline:g}s passed") from None
            except ResolveError:
                raise
            except httpx.PoolTimeout:
                if self.guard.expired():
                    raise self.guard.deadline_error(f"registry {registry} did not answer for {what} in time") from None
                if attempt >= self.retries:
                    raise ResolveError(f"registry {registry}: no free connection within {self.timeout:g}s for {what}") from None
                delay = self._retry_delay(attempt, None)
                last = f"registry {registry}: no free connection for {what}"
            except (httpx.TimeoutException, httpx.ConnectError) as exc:
                if self.guard.expired():  # the timeout was cut short by the deadline: not the host's fault
                    raise self.guard.deadline_error(f"registry {registry} did not answer for {what} in time") from None
                host = _host_of(exc.request.url) if _has_request(exc) else _host_of(httpx.URL(url))
                if isinstance(exc, httpx.TimeoutException):
                    reason = f"timed out after {self.timeout:g}s"
                    message = f"registry {registry} timed out after {self.timeout:g}s for {what}"
                else:
                    reason, detail = _connect_reason(exc)
                    message = f"cannot reach registry {registry} for {what}: {detail}"
                if host != _host_of(httpx.URL(url)):
                    message += f" (at {host})"
                self.guard.trip(host, reason)
                raise ResolveError(message) from None
            except httpx.TooManyRedirects:
                raise ResolveError(f"registry {registry}: too many redirects for {what}") from None
            except httpx.TransportError as exc:  # reset, protocol error: worth another try
                if attempt >= self.retries:
                    raise ResolveError(
                        f"cannot reach registry {registry} for {what}: {type(exc).__name__}: {exc}"
                        + (f" ({attempt + 1} attempts)" if attempt else "")
                    ) from None
                delay = self._retry_delay(attempt, None)
                last = f"cannot reach registry {registry} for {what}: {type(exc).__name__}: {exc}"
            attempt += 1
            left = self.guard.remaining()
            if left is not None and delay >= left:
                self.guard.deadline_error(what)  # the warning, once per run
                raise DeadlineExceeded(f"{last}; no time left to retry before the run's network deadline of "
                                       f"{self.guard.deadline:g}s")
            time.sleep(delay)

    def _error_for(
        self, response: httpx.Response, body: bytes, registry: str, path: str, target: str, url: str
    ) -> ResolveError:
        status = response.status_code
        detail = registry_error_detail(body)
        host = registry
        asked = httpx.URL(url)
        redirected = _origin(response.url) != _origin(asked)
        if redirected:
            host = f"{registry} (redirected to {response.url.netloc.decode('ascii')})"
        if status == 401:
            creds = self._credentials_for(asked.netloc.decode("ascii"))
            if redirected:
                why = "authentication required by another host after a redirect; credentials are not forwarded"
            elif creds is None:
                why = f"authentication required and no credentials found for {canonical_host(asked.netloc.decode('ascii'))}"
            else:
                why = "bad credentials"
        elif status == 403:
            why = "access denied"
        elif status == 404:
            why = f"{target!r} not found"
        elif status == 429:
            why = "too many requests (rate limited)"
        else:
            why = "unexpected answer"
        if detail:
            why += f" ({detail})"
        return ResolveError(f"registry {host} answered {status} for {path}: {why}", status=status)

    # -- resolution --------------------------------------------------------------------------

    def resolve(self, ref: ImageRef, platforms: Sequence[str] = DEFAULT_PLATFORMS) -> Resolution:
        """Resolve one reference (its tag, or its digest when no tag is written).

        Raises :class:`ResolveError`. See the module docstring for the requests it sends.
        """
        try:
            return self._resolve(ref, tuple(normalise_platform(p) for p in platforms))
        finally:
            if self.cache is not None and not self.offline:
                self.cache.save()

    def resolve_many(
        self, refs: Iterable[ImageRef], platforms: Sequence[str] = DEFAULT_PLATFORMS, *, on_done=None
    ) -> dict[str, Resolution | ResolveError]:
        """Resolve many references concurrently (at most ``concurrency`` at a time).

        One look-up per distinct (registry, repository, tag-or-digest); the result for every
        input is stored under its ``ref.canonical``. Never raises for a failed reference: its
        value is the :class:`ResolveError`.  ``on_done(done, total)`` is called (from a worker
        thread) after each distinct look-up, for progress displays.
        """
        wanted = tuple(normalise_platform(p) for p in platforms)
        groups: dict[tuple[str, str, str], list[ImageRef]] = {}
        for ref in refs:
            groups.setdefault(self._lookup_key(ref), []).append(ref)
        results: dict[str, Resolution | ResolveError] = {}
        if not groups:
            return results
        try:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(groups)),
                                    thread_name_prefix="dockerfix-registry") as pool:
                futures = {pool.submit(self._resolve_safe, members[0], wanted): key for key, members in groups.items()}
                for done, future in enumerate(as_completed(futures), start=1):
                    outcome = future.result()
                    for ref in groups[futures[future]]:
                        results[ref.canonical] = outcome
                    if on_done is not None:
                        on_done(done, len(futures))
        finally:
            if self.cache is not None and not self.offline:
                self.cache.save()
        return results

    # -- tag lists ----------------------------------------------------------------------------

    def list_tags(self, path: str = "library/node", domain: str = "docker.io", *, page_size: int = 1000,
                  max_pages: int = 50) -> list[str]:
        """Every tag of the repository ``path`` on ``domain`` (a mirror when one is configured):
        ``GET /v2/<path>/tags/list?n=<page_size>``, following the ``Link: <...>; rel="next"`` pages.
        Raises :class:`ResolveError` (offline, an error answer, a malformed page, or more than
        ``max_pages`` pages).

        With a cache, the list is kept on disk for the cache's tag TTL and a failure for
        :data:`~.cache.LIST_FAILURE_TTL` (a look-up skipped by the circuit breaker or the
        deadline is not remembered: nothing was asked); ``--offline`` never reads or writes it."""
        if self.offline:
            raise ResolveError("offline: tag list skipped")
        base = self.base_url(domain)
        registry = self._display(base, domain)
        cached = self.cache.get_list(base, path) if self.cache is not None else None
        if cached is not None:
            if "tags" in cached:
                return list(cached["tags"])
            minutes = round(cached["age"] / 60)
            ago = f"{minutes} min ago" if minutes else "less than a minute ago"
            raise ResolveError(f"{cached['error']}; that was {ago}, asked again after "
                               f"{round(LIST_FAILURE_TTL / 60)} min or with --refresh")
        try:
            tags = self._list_tags(base, registry, path, page_size, max_pages)
        except (HostSkipped, DeadlineExceeded):
            raise
        except ResolveError as exc:
            if self.cache is not None:
                self.cache.put_list(base, path, error=exc.message)
                self.cache.save()
            raise
        if self.cache is not None:
            self.cache.put_list(base, path, tags)
            self.cache.save()
        return tags

    def _list_tags(self, base: str, registry: str, path: str, page_size: int, max_pages: int) -> list[str]:
        url = f"{base}/v2/{path}/tags/list?n={page_size}"
        tags: list[str] = []
        try:
            for _ in range(max_pages):
                response, body = self._fetch("GET", url, limit=MAX_TAG_PAGE_BYTES, what=f"the tags of {path}",
                                             registry=registry)
                if response.status_code != 200:
                    raise self._error_for(response, body, registry, path, "tags/list", url)
                try:
                    page = json.loads(body).get("tags")
                except (ValueError, AttributeError):
                    page = False
                if page is None:
                    page = []  # a repository without tags
                if not isinstance(page, list) or not all(isinstance(t, str) for t in page):
                    raise ResolveError(f"registry {registry} sent a malformed tag list for {path}")
                tags.extend(page)
                nxt = response.links.get("next", {}).get("url")
                if not nxt:
                    return tags
                url = str(response.url.join(nxt))
        except ResolveError as exc:
            raise type(exc)(self._redact(exc.message), status=exc.status) from None
        raise ResolveError(f"registry {registry}: the tag list of {path} has more than {max_pages} pages")

    def _lookup_key(self, ref: ImageRef) -> tuple[str, str, str]:
        return (self.base_url(ref.domain), ref.path, ref.lookup)

    def _resolve_safe(self, ref: ImageRef, platforms: tuple[str, ...]) -> Resolution | ResolveError:
        try:
            return self._resolve(ref, platforms)
        except ResolveError as exc:
            return exc
        except Exception as exc:  # a bug must not sink the other references
            log.exception("internal error resolving %s", ref.canonical)
            return ResolveError(self._redact(f"internal error resolving {ref.canonical}: {type(exc).__name__}: {exc}"),
                                reference=ref.canonical)

    def _resolve(self, ref: ImageRef, platforms: tuple[str, ...]) -> Resolution:
        reference = f"{ref.repository}{'@' if is_valid_digest(ref.lookup) else ':'}{ref.lookup}"
        if self.offline:
            raise ResolveError("offline: digest look-up skipped", reference=reference)
        if ref.is_scratch:
            raise ResolveError("scratch is not a registry image; nothing to resolve", reference=reference)
        self.guard.enter()
        try:
            return self._resolve_online(ref, platforms, reference)
        except ResolveError as exc:
            raise type(exc)(self._redact(exc.message), reference=reference, status=exc.status) from None
        finally:
            self.guard.leave()

    def _resolve_online(self, ref: ImageRef, platforms: tuple[str, ...], reference: str) -> Resolution:
        base = self.base_url(ref.domain)
        registry = self._display(base, ref.domain)
        path, target = ref.path, ref.lookup
        by_digest = is_valid_digest(target)
        manifest_url = f"{base}/v2/{path}/manifests/"
        content: ManifestContent | None = None
        from_cache = True

        if by_digest:
            digest = target
        else:
            cached = self.cache.get_tag(base, path, target) if self.cache else None
            if cached:
                digest = cached["digest"]
            else:
                from_cache = False
                response, body = self._fetch("HEAD", manifest_url + target, limit=0, what=f"{path}:{target}", registry=registry)
                header = response.headers.get("docker-content-digest", "")
                if response.status_code == 200 and is_valid_digest(header):
                    digest = header
                elif response.status_code in (200, 405, 501):
                    # No usable digest header (or HEAD unsupported): GET the tag, hash the body.
                    response, body = self._fetch("GET", manifest_url + target, limit=MAX_MANIFEST_BYTES,
                                                 what=f"{path}:{target}", registry=registry)
                    if response.status_code != 200:
                        raise self._error_for(response, body, registry, path, target, manifest_url + target)
                    digest = sha256_digest(body)
                    served = response.headers.get("docker-content-digest")
                    if served and served != digest:
                        raise ResolveError(
                            f"registry {registry} served digest does not match the manifest for {path}:{target} "
                            f"(header {served[:19]}…, body {digest[:19]}…)"
                        )
                    content = describe_manifest(body, response.headers.get("content-type"), registry, f"{path}:{target}")
                else:
                    raise self._error_for(response, body, registry, path, target, manifest_url + target)

        if content is None:
            cached_content = self.cache.get_content(base, path, digest) if self.cache else None
            try:
                content = ManifestContent(**cached_content) if cached_content else None
            except TypeError:  # an entry from another version of the cache: ignore it
                content = None
            if content is None:
                from_cache = False
                response, body = self._fetch("GET", manifest_url + digest, limit=MAX_MANIFEST_BYTES,
                                             what=f"{path}@{digest[:19]}…", registry=registry)
                if response.status_code != 200:
                    raise self._error_for(response, body, registry, path, digest, manifest_url + digest)
                if sha256_digest(body) != digest:
                    raise ResolveError(
                        f"registry {registry} served digest does not match the manifest for {path}"
                        f"{'@' if by_digest else ':'}{target} (expected {digest[:19]}…, body {sha256_digest(body)[:19]}…)"
                    )
                content = describe_manifest(body, response.headers.get("content-type"), registry, f"{path}@{digest[:19]}…")
        else:
            from_cache = False

        if content.kind == "manifest" and content.config is not None:
            platform, content.created = self._config_facts(base, registry, path, content.config)
            content.platforms = [platform]
            content.config = None
        if self.want_created and content.created is None and content.kind == "index" and content.children:
            child = next((d for p, d in content.children.items() if platform_matches("linux/amd64", p)),
                         next(iter(content.children.values())))
            try:
                content.created = self._resolve_online(ImageRef(ref.name, None, child, ref.domain, ref.path),
                                                       (), f"{ref.repository}@{child}").created
            except ResolveError:
                content.created = None  # the age is a nicety: its absence never fails a look-up
            if self.cache is not None and from_cache and content.created is not None:
                self.cache.put_content(base, path, digest, content.as_cache())
        if self.cache is not None and not from_cache:
            if not by_digest:
                self.cache.put_tag(base, path, target, digest, content.media_type)
            self.cache.put_content(base, path, digest, content.as_cache())

        missing = tuple(p for p in platforms if not any(platform_matches(p, have) for have in content.platforms))
        return Resolution(
            reference=reference,
            registry=base,
            digest=digest,
            media_type=content.media_type,
            kind=content.kind,
            platforms=tuple(content.platforms),
            missing_platforms=missing,
            children=dict(content.children),
            from_cache=from_cache,
            created=content.created,
        )

    def _config_facts(self, base: str, registry: str, path: str, config: dict[str, str]) -> tuple[str, str | None]:
        """(platform, created) from a manifest's config blob."""
        digest = config["digest"]
        url = f"{base}/v2/{path}/blobs/{digest}"
        response, body = self._fetch("GET", url, limit=MAX_CONFIG_BYTES, what=f"{path} config blob", registry=registry)
        if response.status_code != 200:
            raise self._error_for(response, body, registry, path, digest, url)
        if sha256_digest(body) != digest:
            raise ResolveError(f"registry {registry} served a config blob for {path} whose sha256 does not match its digest")
        try:
            data = json.loads(body)
            os_, arch = data["os"], data["architecture"]
            if not isinstance(os_, str) or not isinstance(arch, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise ResolveError(f"registry {registry} served a config blob for {path} without os/architecture") from None
        variant = data.get("variant") if isinstance(data.get("variant"), str) else None
        created = data.get("created") if isinstance(data.get("created"), str) else None
        return platform_string(os_, arch, variant), created


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _has_request(exc: httpx.RequestError) -> bool:
    try:
        _ = exc.request  # the property raises RuntimeError when no request is attached
    except RuntimeError:
        return False
    return True

def _read_capped(response: httpx.Response, limit: int, where: str) -> bytes:
    """Read a streamed body, refusing more than ``limit`` bytes (HEAD bodies are empty)."""
    if response.request.method == "HEAD":
        return b""
    length = response.headers.get("content-length")
    if length and length.isdigit() and int(length) > max(limit, 64 * 1024):
        raise ResolveError(f"{where} sent a response of {int(length)} bytes, more than the {limit} allowed")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max(limit, 64 * 1024):
            raise ResolveError(f"{where} sent a response larger than the {max(limit, 64 * 1024)} bytes allowed")
        chunks.append(chunk)
    return b"".join(chunks)
