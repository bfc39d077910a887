"""On-disk cache of registry look-ups.

Three kinds of entries, all keyed by the registry base URL so that a mirror and the real registry
never share answers:

* **tags** (``<base>|<path>:<tag>`` → digest, media type, time): what a tag pointed at. These
  expire after ``ttl`` seconds (default 24 h), because tags move.
* **content** (``<base>|<path>@<digest>`` → kind, platforms, per-platform child digests): what
  a digest contains. Content is addressed by its sha256, so it never goes stale; it only ages
  out after ``content_ttl`` (default 30 days) to keep the file small.

* **lists** (``<base>|<path>`` → every tag of a repository, e.g. ``library/node``'s, which tells
  DFX003 what tags exist): expire after ``ttl`` like tag entries.  A failed listing (no network,
  a mirror without ``tags/list``) is remembered for ``LIST_FAILURE_TTL`` (10 minutes), so runs
  made while the registry is unreachable do not each wait for it again.

``refresh=True`` ignores every stored entry on read (and still writes fresh ones).
``recheck_tags=True`` (``--update-pins``, whose point is to notice a tag that moved since the last
run) ignores the stored tag entries only: every tag is asked again, what a digest contains still
comes from the cache. Writes are
atomic (temporary file in the same directory, then ``os.replace``) and merge with what another
process may have written meanwhile. A corrupt or unreadable file is ignored with a warning.

Default location: ``$XDG_CACHE_HOME/dockerfix/digests.json`` (``~/.cache/...`` when unset).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from .files import replace_file

__all__ = ["DEFAULT_TTL", "LIST_FAILURE_TTL", "DigestCache", "default_cache_path"]

log = logging.getLogger("dockerfix.cache")

DEFAULT_TTL = 24 * 3600.0
DEFAULT_CONTENT_TTL = 30 * 24 * 3600.0
LIST_FAILURE_TTL = 600.0
SECTIONS = ("tags", "content", "lists")
FORMAT_VERSION = 1


def default_cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dockerfix" / "digests.json"


class DigestCache:
    """A small JSON cache, safe to share between threads of one process."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        ttl: float = DEFAULT_TTL,
        refresh: bool = False,
        content_ttl: float = DEFAULT_CONTENT_TTL,
        clock=time.time,
        recheck_tags: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.ttl = ttl
        self.content_ttl = content_ttl
        self.refresh = refresh
        self.recheck_tags = recheck_tags
        self._clock = clock
        self._lock = threading.Lock()
        self._data = self._read_file()
        self._dirty: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}

    # -- keys --------------------------------------------------------------------------------

    @staticmethod
    def tag_key(base_url: str, path: str, tag: str) -> str:
        return f"{base_url.rstrip('/')}|{path}:{tag}"

    @staticmethod
    def content_key(base_url: str, path: str, digest: str) -> str:
        return f"{base_url.rstrip('/')}|{path}@{digest}"

    # -- access ------------------------------------------------------------------------------

    def get_tag(self, base_url: str, path: str, tag: str) -> dict[str, Any] | None:
        """``{"digest", "media_type"}`` if a fresh entry exists (and ``refresh`` and
        ``recheck_tags`` are off)."""
        if self.recheck_tags:
            return None
        return self._get("tags", self.tag_key(base_url, path, tag), self.ttl)

    def put_tag(self, base_url: str, path: str, tag: str, digest: str, media_type: str) -> None:
        self._put("tags", self.tag_key(base_url, path, tag), {"digest": digest, "media_type": media_type})

    def get_content(self, base_url: str, path: str, digest: str) -> dict[str, Any] | None:
        """``{"media_type", "kind", "platforms", "children"}`` for a digest, if known."""
        return self._get("content", self.content_key(base_url, path, digest), self.content_ttl)

    def put_content(self, base_url: str, path: str, digest: str, info: dict[str, Any]) -> None:
        self._put("content", self.content_key(base_url, path, digest), dict(info))

    @staticmethod
    def list_key(base_url: str, path: str) -> str:
        return f"{base_url.rstrip('/')}|{path}"

    def get_list(self, base_url: str, path: str) -> dict[str, Any] | None:
        """``{"tags": [...]}``, or ``{"error": message, "age": seconds}`` for a failed listing, if a
        fresh entry exists (and ``refresh`` is off): a listing expires after ``ttl``, a failure
        after ``LIST_FAILURE_TTL``."""
        if self.refresh:
            return None
        with self._lock:
            entry = self._data["lists"].get(self.list_key(base_url, path))
        if not isinstance(entry, dict) or not isinstance(entry.get("at"), (int, float)):
            return None
        age = self._clock() - entry["at"]
        if isinstance(entry.get("error"), str):
            return {"error": entry["error"], "age": age} if age <= LIST_FAILURE_TTL else None
        tags = entry.get("tags")
        if age > self.ttl or not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return None
        return {"tags": list(tags)}

    def put_list(self, base_url: str, path: str, tags: list[str] | None = None, *, error: str | None = None) -> None:
        """Store a repository's tag list, or (``error``) why it could not be read."""
        value = {"error": error} if error is not None else {"tags": list(tags or [])}
        self._put("lists", self.list_key(base_url, path), value)

    def _get(self, section: str, key: str, ttl: float) -> dict[str, Any] | None:
        if self.refresh:
            return None
        with self._lock:
            entry = self._data[section].get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("at"), (int, float)):
            return None
        if self._clock() - entry["at"] > ttl:
            return None
        return {k: v for k, v in entry.items() if k != "at"}

    def _put(self, section: str, key: str, value: dict[str, Any]) -> None:
        value["at"] = self._clock()
        with self._lock:
            self._data[section][key] = value
            self._dirty[section][key] = value

    # -- file --------------------------------------------------------------------------------

    def _read_file(self) -> dict[str, dict[str, Any]]:
        empty: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty
        except OSError as exc:
            log.warning("digest cache %s unreadable (%s); ignoring it", self.path, exc.strerror)
            return empty
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
                raise ValueError("unexpected layout")
            return {s: dict(data.get(s) or {}) for s in SECTIONS}
        except (ValueError, TypeError, AttributeError):
            log.warning("digest cache %s is corrupt; ignoring it (it will be rewritten)", self.path)
            return empty

    def save(self) -> None:
        """Write new entries to disk atomically, merged over the file's current content."""
        with self._lock:
            if not any(self._dirty.values()):
                return
            on_disk = self._read_file()
            for section, entries in self._dirty.items():
                on_disk[section].update(entries)
            now = self._clock()
            for section, ttl in (("tags", self.ttl), ("content", self.content_ttl), ("lists", self.ttl)):
                on_disk[section] = {
                    k: v for k, v in on_disk[section].items()
                    if isinstance(v, dict) and now - v.get("at", 0) <= ttl
                }
            payload = json.dumps({"version": FORMAT_VERSION, **on_disk}, indent=1, sort_keys=True)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            replace_file(self.path, payload.encode("utf-8"), mode=0o600)
            self._data = {s: {**self._data[s], **on_disk[s]} for s in SECTIONS}
            self._dirty = {s: {} for s in SECTIONS}
