"""The digest resolver one run of dockerfix uses, and the network side of the run.

:class:`RunResolver` (one per configuration) wraps a
:class:`~dockerfix.fixer.registry.RegistryClient` (created lazily, so runs that pin nothing never
import httpx) with a per-run memo: every distinct reference is looked up once per run, failures
included.  Resolvers of the same run share a :class:`NetworkSession`:

* one registry client per distinct mirror/cache setting, so configurations with the same
  settings share connections, auth tokens and the memo (a look-up does not depend on the
  platforms a configuration asks for; those are checked on the shared answer);
* :meth:`NetworkSession.prefetch` resolves the references of all files and all configurations
  concurrently before the transforms run; anything a transform asks for later (a tag DFX003 just
  chose) is resolved on demand and remembered;
* one :class:`~dockerfix.fixer.registry.NetworkGuard`: a per-host circuit breaker (after a connect
  failure or a timeout, the rest of that host's look-ups are skipped at once) and a total
  deadline for the run's network work (``DOCKERFIX_NETWORK_DEADLINE`` seconds, default 20);
* what the user sees on stderr: one warning per failed host (not per file), one when the
  deadline passes, one hint per run (``--offline`` or a mirror), and on a terminal a progress
  line while look-ups take more than a second (nothing when stderr is not a terminal).

Settings are checked when a resolver is made, before any look-up: registry mirrors (config and
``DOCKERFIX_REGISTRY_MIRROR``), platforms, the deadline, ``DOCKERFIX_REGISTRY_AUTH`` and the
Docker config file.  A problem raises :class:`NetworkConfigError` (a
:class:`~dockerfix.fixer.config.ConfigError`: one line, exit 2).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO
from collections.abc import Iterable, Sequence

from .config import Config, ConfigError
from .imageref import ImageRef

DEADLINE_ENV = "DOCKERFIX_NETWORK_DEADLINE"
DEFAULT_DEADLINE = 20.0
PROGRESS_AFTER = 1.0  # seconds of look-ups before a terminal shows a progress line
HINT = ("dockerfix: hint: run with --offline to skip digest look-ups, or point the registry at a "
        "reachable mirror (DOCKERFIX_REGISTRY_MIRROR=docker.io=https://mirror.example, or "
        "registry-mirrors in .dockerfix.toml)")


class NetworkConfigError(ConfigError):
    """A network setting that cannot work (mirror URL, credentials file, deadline, platforms)."""


def deadline_from_env(env=None) -> float:
    env = os.environ if env is None else env
    raw = env.get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_DEADLINE
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise NetworkConfigError(f"{DEADLINE_ENV}={raw!r}: must be a positive number of seconds")
    return value


class _Shared:
    """One registry client and the memo of its answers (platform-independent)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.memo: dict[str, Any] = {}
        self.lock = threading.Lock()


class NetworkSession:
    """The network side of one run (see the module docstring).  ``stream``: where warnings,
    the hint and the progress line go (stderr); ``quiet``: no hint and no progress line
    (warnings still show); ``deadline``: seconds (default from ``DOCKERFIX_NETWORK_DEADLINE``)."""

    def __init__(self, *, stream: TextIO | None = None, quiet: bool = False, deadline: float | None = None,
                 env=None) -> None:
        self.env = os.environ if env is None else env
        self.deadline = deadline_from_env(self.env) if deadline is None else deadline
        self.stream = stream
        self.quiet = quiet
        self.warnings: list[str] = []  # every warning line printed, for callers and tests
        self._guard: Any = None
        self._shared: dict[tuple, _Shared] = {}
        self._credentials_checked = False
        self._lock = threading.RLock()
        self._out_lock = threading.Lock()
        self._hinted = False
        self._prefetching = False
        self._hint_pending = False
        self._progress_shown = False

    # -- output --------------------------------------------------------------------------------
    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stderr

    def _is_tty(self) -> bool:
        try:
            return bool(self._out().isatty())
        except (AttributeError, ValueError):
            return False

    def _write(self, text: str) -> None:
        out = self._out()
        try:
            out.write(text)
            out.flush()
        except (OSError, ValueError):
            pass

    def say(self, line: str) -> None:
        """Print a warning line (clearing a progress line first)."""
        with self._out_lock:
            self.warnings.append(line)
            self._write(("\r\033[K" if self._progress_shown else "") + line + "\n")
            self._progress_shown = False

    def _hint(self) -> None:
        with self._out_lock:
            if self._hinted or self.quiet:
                return
            if self._prefetching:  # after the warnings of the prefetch, not among them
                self._hint_pending = True
                return
            self._hinted = True
        self.say(HINT)

    def _on_trip(self, host: str, reason: str) -> None:
        self.say(f"dockerfix: warning: registry {host} {reason}; its other image look-ups in this run are "
                 "skipped (those FROM lines stay unpinned)")
        self._hint()

    def _on_deadline(self, seconds: float) -> None:
        self.say(f"dockerfix: warning: the network deadline of {seconds:g}s passed; the remaining image "
                 f"look-ups are skipped (set {DEADLINE_ENV} to allow more)")
        self._hint()

    # -- clients -------------------------------------------------------------------------------
    @property
    def guard(self):
        with self._lock:
            if self._guard is None:
                from .registry import NetworkGuard

                self._guard = NetworkGuard(self.deadline, on_trip=self._on_trip, on_deadline=self._on_deadline)
            return self._guard

    def check_credentials(self) -> None:
        with self._lock:
            if self._credentials_checked:
                return
            from .credentials import CredentialError, CredentialStore

            try:
                CredentialStore(env=self.env).check()
            except CredentialError as e:
                raise NetworkConfigError(f"registry credentials: {e} (fix it, or run with --offline)") from None
            self._credentials_checked = True

    def _key(self, mirrors: dict[str, str], cache_path: Path | None, ttl: int, refresh: bool, created: bool) -> tuple:
        return (tuple(sorted(mirrors.items())), cache_path, ttl, refresh, created,
                self.env.get("DOCKERFIX_NO_CACHE") == "1")

    def existing(self, mirrors: dict[str, str], cache_path: Path | None, ttl: int, refresh: bool,
                 created: bool = False) -> _Shared | None:
        """The client and memo for these settings if a look-up has made them, else None."""
        with self._lock:
            return self._shared.get(self._key(mirrors, cache_path, ttl, refresh, created))

    def shared(self, mirrors: dict[str, str], cache_path: Path | None, ttl: int, refresh: bool,
               created: bool = False) -> _Shared:
        """The client and memo for these settings (one per distinct setting in a run); ``created``:
        the client also learns when each image was built and asks every tag again instead of
        trusting the digest cache's tag entries (``--update-pins``: a tag may have moved since)."""
        key = self._key(mirrors, cache_path, ttl, refresh, created)
        no_cache = key[-1]
        with self._lock:
            if key not in self._shared:
                from .cache import DigestCache
                from .registry import RegistryClient

                # refreshing pins asks every tag again: a cached answer may predate the tag's move
                cache = None if no_cache else DigestCache(cache_path, ttl=ttl, refresh=refresh, recheck_tags=created)
                self._shared[key] = _Shared(RegistryClient(mirrors=mirrors, cache=cache, guard=self.guard,
                                                           want_created=created))
            return self._shared[key]

    def close(self) -> None:
        with self._lock:
            for shared in self._shared.values():
                shared.client.close()

    # -- prefetch ------------------------------------------------------------------------------
    def prefetch(self, jobs: Iterable[tuple[RunResolver, Iterable[ImageRef]]]) -> None:
        """Resolve the references of every (resolver, references) job concurrently: one look-up
        per distinct reference and client, all clients at once, under the run's deadline."""
        work: dict[int, tuple[_Shared, dict[str, ImageRef]]] = {}
        for resolver, refs in jobs:
            shared = resolver.shared
            todo = work.setdefault(id(shared), (shared, {}))[1]
            with shared.lock:
                for r in refs:
                    if r.canonical not in shared.memo:
                        todo.setdefault(r.canonical, r)
        work = {k: v for k, v in work.items() if v[1]}
        if not work:
            return
        total = sum(len(todo) for _s, todo in work.values())
        done = [0]
        done_lock = threading.Lock()

        def tick(_n: int, _of: int) -> None:
            with done_lock:
                done[0] += 1

        def run(item: tuple[_Shared, dict[str, ImageRef]]) -> None:
            shared, todo = item
            results = shared.client.resolve_many(list(todo.values()), (), on_done=tick)
            with shared.lock:
                shared.memo.update(results)

        stop = threading.Event()
        progress = threading.Thread(target=self._progress, args=(stop, done, total), daemon=True,
                                    name="dockerfix-progress")
        progress.start()
        self._prefetching = True
        try:
            if len(work) == 1:
                run(next(iter(work.values())))
            else:
                with ThreadPoolExecutor(max_workers=min(8, len(work)), thread_name_prefix="dockerfix-prefetch") as pool:
                    list(pool.map(run, work.values()))
        finally:
            stop.set()
            progress.join()
            self._prefetching = False
            if self._hint_pending:
                self._hint_pending = False
                self._hint()

    def _progress(self, stop: threading.Event, done: list[int], total: int) -> None:
        if self.quiet or not self._is_tty() or self.env.get("TERM") == "dumb" or stop.wait(PROGRESS_AFTER):
            return
        t0 = time.monotonic() - PROGRESS_AFTER
        last = ""
        while True:
            line = f"dockerfix: looking up image digests {done[0]}/{total} ({time.monotonic() - t0:.0f}s)"
            with self._out_lock:
                if line != last or not self._progress_shown:  # redraw only what changed
                    self._write("\r\033[K" + line)
                    self._progress_shown, last = True, line
            if stop.wait(0.25):
                break
        with self._out_lock:
            if self._progress_shown:
                self._write("\r\033[K")
                self._progress_shown = False


class RunResolver:
    """The resolver of one configuration in a run (``Context.resolver``).  Checks the network
    settings at once (:class:`NetworkConfigError`); the client is made on the first look-up."""

    def __init__(self, config: Config, *, refresh: bool = False, cache_path: Path | None = None,
                 network: NetworkSession | None = None):
        self.config = config
        self.refresh = refresh
        self.cache_path = cache_path
        self.network = network if network is not None else NetworkSession()
        self.mirrors = self._check_settings()
        self.network.check_credentials()
        self._shared: _Shared | None = None

    def _check_settings(self) -> dict[str, str]:
        from .mirrors import check_mirrors, mirrors_from_env

        where = f"config {self.config.source}" if self.config.source else "config"
        try:
            mirrors = check_mirrors(dict(self.config.registry_mirrors), where)
            mirrors.update(mirrors_from_env(self.network.env))  # the environment wins over the config file
        except ValueError as e:
            raise NetworkConfigError(str(e)) from None
        for p in self.config.platforms:
            parts = str(p).strip().split("/")
            if len(parts) not in (2, 3) or not all(parts):
                raise NetworkConfigError(f"{where}: platform {p!r} is not os/arch[/variant]")
        return mirrors

    @property
    def shared(self) -> _Shared:
        if self._shared is None:
            self._shared = self.network.shared(self.mirrors, self.cache_path, self.config.cache_ttl, self.refresh,
                                               self.config.update_pins)
        return self._shared

    @property
    def client(self):
        return self.shared.client

    def tags(self, path: str = "library/node") -> list[str]:
        """The tags of the Docker Hub repository ``path`` (through the configured mirror), one
        paginated ``tags/list``; raises :class:`~.oci.ResolveError`."""
        return self.client.list_tags(path)

    @property
    def request_count(self) -> int:
        return self._shared.client.request_count if self._shared is not None else 0

    def prefetch(self, refs: Iterable[ImageRef], platforms: Sequence[str] = ()) -> None:
        """Resolve ``refs`` concurrently now (see :meth:`NetworkSession.prefetch`, which does
        this for all resolvers of a run at once)."""
        self.network.prefetch([(self, list(refs))])

    def resolve(self, ref: ImageRef, platforms: Sequence[str]):
        shared = self.shared
        with shared.lock:
            hit = shared.memo.get(ref.canonical)
        if hit is None:
            from .registry import ResolveError

            try:
                hit = shared.client.resolve(ref, ())
            except ResolveError as e:
                hit = e
            with shared.lock:
                hit = shared.memo.setdefault(ref.canonical, hit)
        if isinstance(hit, Exception):
            raise hit
        return hit.for_platforms(platforms)

    def lookup(self, ref: ImageRef, platforms: Sequence[str]) -> Any:
        """What :meth:`prefetch` found for ``ref`` (a resolution for ``platforms`` or the error),
        or None when it was not looked up.  Never reaches the network (nor makes a client): this
        is what transforms get."""
        shared = self._shared
        if shared is None:
            shared = self.network.existing(self.mirrors, self.cache_path, self.config.cache_ttl, self.refresh,
                                           self.config.update_pins)
            if shared is None:
                return None
        with shared.lock:
            hit = shared.memo.get(ref.canonical)
        if hit is None or isinstance(hit, Exception):
            return hit
        return hit.for_platforms(platforms)

    def close(self) -> None:
        if self._shared is not None:
            self._shared.client.close()


def prefetch_all(jobs: Iterable[tuple[RunResolver, Iterable[ImageRef]]]) -> None:
    """Prefetch for the resolvers of a run, grouped by their sessions (normally one)."""
    by_session: dict[int, tuple[NetworkSession, list]] = {}
    for resolver, refs in jobs:
        by_session.setdefault(id(resolver.network), (resolver.network, []))[1].append((resolver, refs))
    for session, session_jobs in by_session.values():
        session.prefetch(session_jobs)


def references_in(texts: Iterable[str], pinned: bool = False) -> list[ImageRef]:
    """The unpinned image references of many Dockerfile texts (for :meth:`RunResolver.prefetch`);
    with ``pinned`` (``--update-pins``) also, for each ``name:tag@digest``, the tag and the pinned
    image, which DFX002 compares to refresh the pin."""
    from dockerfix.transforms.dfx002_pin_digest import Target, image_targets

    from .document import ParseError, parse
    from .imageref import ImageRefError, parse as parse_ref

    out: dict[str, ImageRef] = {}
    for text in texts:
        try:
            doc = parse(text)
            targets = list(image_targets(doc))
        except (ParseError, ValueError):
            continue  # the file's own run reports the problem; prefetching is only an optimisation
        for t in targets:
            if not isinstance(t, Target) or t.text.lower() == "scratch":
                continue
            try:
                ref = parse_ref(t.text)
            except ImageRefError:
                continue
            if ref.digest is None:
                out.setdefault(ref.canonical, ref)
            elif pinned and ref.tag:
                for r in (ref.without_digest(), ref.without_tag()):
                    out.setdefault(r.canonical, r)
    return list(out.values())
