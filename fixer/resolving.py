"""The digest resolver one run of dockerfix uses.

It wraps :class:`~dockerfix.fixer.registry.RegistryClient` (created lazily, so runs that pin
nothing never import httpx) with a per-run memo: every distinct reference is looked up once per
run, failures included.  ``prefetch`` resolves all references of all files concurrently before
the transforms run; anything a transform asks for later (e.g. a tag DFX003 just chose) is
resolved on demand and remembered.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Iterable, Sequence

from .config import Config
from .imageref import ImageRef


class RunResolver:
    def __init__(self, config: Config, *, refresh: bool = False, cache_path: Path | None = None):
        self.config = config
        self.refresh = refresh
        self.cache_path = cache_path
        self._client: Any = None
        self._memo: dict[tuple[str, tuple[str, ...]], Any] = {}
        self._lock = threading.Lock()

    @property
    def client(self):
        if self._client is None:
            from .cache import DigestCache
            from .registry import RegistryClient, mirrors_from_env

            mirrors = dict(self.config.registry_mirrors)
            mirrors.update(mirrors_from_env())  # the environment wins over the config file
            cache = None
            if os.environ.get("DOCKERFIX_NO_CACHE") != "1":
                cache = DigestCache(self.cache_path, ttl=self.config.cache_ttl, refresh=self.refresh)
            self._client = RegistryClient(mirrors=mirrors, cache=cache)
        return self._client

    def tags(self, path: str = "library/node") -> list[str]:
        """The tags of the Docker Hub repository ``path`` (through the configured mirror), one
        paginated ``tags/list``; raises :class:`~.oci.ResolveError`."""
        return self.client.list_tags(path)

    @property
    def request_count(self) -> int:
        return self._client.request_count if self._client is not None else 0

    def prefetch(self, refs: Iterable[ImageRef], platforms: Sequence[str]) -> None:
        key_p = tuple(platforms)
        todo = {r.canonical: r for r in refs if (r.canonical, key_p) not in self._memo}
        if not todo:
            return
        results = self.client.resolve_many(list(todo.values()), key_p)
        with self._lock:
            for canonical, outcome in results.items():
                self._memo[(canonical, key_p)] = outcome

    def resolve(self, ref: ImageRef, platforms: Sequence[str]):
        key = (ref.canonical, tuple(platforms))
        with self._lock:
            hit = self._memo.get(key)
        if hit is None:
            from .registry import ResolveError

            try:
                hit = self.client.resolve(ref, tuple(platforms))
            except ResolveError as e:
                hit = e
            with self._lock:
                self._memo[key] = hit
        if isinstance(hit, Exception):
            raise hit
        return hit

    def lookup(self, ref: ImageRef, platforms: Sequence[str]) -> Any:
        """What :meth:`prefetch` found for ``ref`` (a resolution or the error), or None when it
        was not looked up.  Never reaches the network: this is what transforms get."""
        with self._lock:
            return self._memo.get((ref.canonical, tuple(platforms)))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def references_in(texts: Iterable[str]) -> list[ImageRef]:
    """The unpinned image references of many Dockerfile texts (for :meth:`RunResolver.prefetch`)."""
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
    return list(out.values())
