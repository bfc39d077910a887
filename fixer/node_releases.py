"""Node.js release lines: which major is the newest Active LTS, which are end-of-life, and which
majors satisfy an ``engines.node`` range or an ``.nvmrc``.

The data is a dated table shipped with dockerfix (``data/node-releases.json``), refreshed when
online from the Node.js Release Working Group's ``schedule.json`` (:func:`live_table`; cached on
disk for a week, a failed refresh remembered for an hour so an air-gapped run does not wait on it
every time).  Every report names the date of the data it used and where it came from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Release:
    major: int
    start: date
    lts: date | None
    maintenance: date | None
    end: date

    def is_lts_on(self, day: date) -> bool:
        return self.lts is not None and self.lts <= day < self.end

    def is_active_lts_on(self, day: date) -> bool:
        return self.lts is not None and self.lts <= day and (self.maintenance is None or day < self.maintenance)

    def is_eol_on(self, day: date) -> bool:
        return day >= self.end


@dataclass(frozen=True)
class ReleaseTable:
    as_of: date
    releases: tuple[Release, ...]
    origin: str = "bundled"  # "bundled" or "live" (fetched from the Node.js release schedule)

    @property
    def label(self) -> str:
        """How reports name this data, e.g. "release data of 2026-11-26"."""
        return f"release data of {self.as_of}" + (" (live)" if self.origin == "live" else "")

    def get(self, major: int) -> Release | None:
        return next((r for r in self.releases if r.major == major), None)

    def recommended(self, day: date, allowed: "MajorFilter | None" = None) -> Release | None:
        """The newest Active LTS major (else the newest supported LTS) that ``allowed`` admits."""
        ok = [r for r in self.releases if allowed is None or allowed(r.major)]
        active = [r for r in ok if r.is_active_lts_on(day)]
        if active:
            return max(active, key=lambda r: r.major)
        lts = [r for r in ok if r.is_lts_on(day)]
        return max(lts, key=lambda r: r.major) if lts else None


def _d(s: str | None) -> date | None:
    return date.fromisoformat(s) if s else None


def _table(data: dict) -> ReleaseTable:
    rel = tuple(
        Release(int(k), _d(v["start"]), _d(v.get("lts")), _d(v.get("maintenance")), _d(v["end"]))
        for k, v in data["releases"].items()
    )
    return ReleaseTable(date.fromisoformat(data["as_of"]), tuple(sorted(rel, key=lambda r: r.major)))


@lru_cache(maxsize=1)
def bundled() -> ReleaseTable:
    try:  # the installed file, read directly: importlib.resources costs ~5 ms of start-up
        text = (Path(__file__).parent / "data" / "node-releases.json").read_text(encoding="utf-8")
    except OSError:  # not installed as plain files (a zip): ask the import system
        from importlib import resources

        text = resources.files("dockerfix.fixer").joinpath("data/node-releases.json").read_text(encoding="utf-8")
    return _table(json.loads(text))


def load_releases(path: Path) -> ReleaseTable:
    return _table(json.loads(path.read_text(encoding="utf-8")))


SCHEDULE_URL = "https://raw.githubusercontent.com/nodejs/Release/main/schedule.json"
SCHEDULE_TTL = 7 * 86400
FAILURE_TTL = 3600


def table_from_schedule(data: dict, as_of: date) -> ReleaseTable:
    """The Release WG's ``schedule.json`` (``{"v20": {"start": ..., "lts": ..., "maintenance": ...,
    "end": ...}, ...}``) as a table; majors below 4 (0.x keys) and malformed entries are left out."""
    rel = []
    for key, v in data.items():
        m = re.fullmatch(r"v(\d+)", key)
        if not m or not isinstance(v, dict) or int(m.group(1)) < 4:
            continue
        try:
            rel.append(Release(int(m.group(1)), _d(v["start"]), _d(v.get("lts")), _d(v.get("maintenance")), _d(v["end"])))
        except (KeyError, TypeError, ValueError):
            continue
    if not rel:
        raise ValueError("schedule.json holds no usable release lines")
    return ReleaseTable(as_of, tuple(sorted(rel, key=lambda r: r.major)), origin="live")


def live_table(cache_dir: Path, *, refresh: bool = False, url: str | None = None, timeout: float = 3.0,
               now: float | None = None) -> tuple[ReleaseTable, str | None]:
    """The freshest table available: a cached or newly fetched schedule when possible, else the
    bundled one.  Returns (table, why the live data was not used or None)."""
    import os
    import time

    url = url or os.environ.get("DOCKERFIX_NODE_SCHEDULE_URL") or SCHEDULE_URL
    now = time.time() if now is None else now
    path = cache_dir / "node-schedule.json"
    cached = None
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    if isinstance(cached, dict) and cached.get("url") == url and not refresh:
        age = now - float(cached.get("fetched", 0))
        if cached.get("data") and age < SCHEDULE_TTL:
            try:
                return table_from_schedule(cached["data"], date.fromtimestamp(cached["fetched"])), None
            except ValueError:
                pass
        if cached.get("error") and age < FAILURE_TTL:
            return bundled(), cached["error"]
    try:
        import httpx

        resp = httpx.get(url, timeout=timeout, follow_redirects=True)
        resp.raise_for_status()
        data = resp.json()
        table = table_from_schedule(data, date.fromtimestamp(now))
        entry = {"url": url, "fetched": now, "data": data}
        error = None
    except Exception as e:  # network, HTTP, JSON: the bundled table is always there
        error = f"live Node.js schedule unavailable ({type(e).__name__}); using the bundled table"
        table, entry = bundled(), {"url": url, "fetched": now, "error": error}
    try:
        from .files import replace_file

        cache_dir.mkdir(parents=True, exist_ok=True)
        replace_file(path, json.dumps(entry).encode("utf-8"), mode=0o600)  # runs never race: own temp file
    except OSError:
        pass
    return table, error


# -- version constraints ----------------------------------------------------------------------

MajorFilter = "Callable[[int], bool]"

_CMP_RE = re.compile(r"^(>=|<=|>|<|=|\^|~)?\s*v?(\d+|x|\*)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(?:-[\w.]+)?$")


def _comparator(tok: str):
    m = _CMP_RE.match(tok)
    if not m:
        raise ValueError(tok)
    op, major = m.group(1) or "=", m.group(2)
    if major in ("x", "*"):
        return lambda _m: True
    n = int(major)
    minor_given = m.group(3) not in (None, "x", "*") and m.group(3) != "0"
    if op in ("=", "^", "~"):
        return lambda x: x == n
    if op == ">=":
        return lambda x: x >= n
    if op == ">":
        # ">20" admits 20.1.0 unless the whole version is given as 20 exactly
        return (lambda x: x >= n) if minor_given or m.group(3) is not None else (lambda x: x > n)
    if op == "<=":
        return lambda x: x <= n
    if op == "<":
        return (lambda x: x <= n) if minor_given else (lambda x: x < n)
    raise ValueError(tok)  # pragma: no cover


def major_filter(spec: str):
    """A predicate on majors for a semver range as npm writes it (``>=18``, ``^20.11``, ``20.x``,
    ``>=18 <23``, ``18 || 20``, ``18 - 22``) or an ``.nvmrc`` (``20``, ``v22.3.0``, ``lts/iron``).
    Returns None when the text is not understood (the caller then skips with a reason)."""
    s = spec.strip()
    if not s or s in ("*", "x", "latest", "node", "current"):
        return lambda _m: True
    if s.lower().startswith("lts/"):
        code = s[4:].lower()
        if code in ("*", "latest"):
            return lambda _m: True
        from .node_images import images

        names = images().codenames  # one table of the LTS codenames (data/node_images.json)
        if code in names:
            target = names[code]
            return lambda m: m == target
        return None
    alternatives = []
    for alt in s.split("||"):
        alt = alt.strip()
        hyphen = re.match(r"^v?(\d+)(?:\.\S*)?\s+-\s+v?(\d+)(?:\.\S*)?$", alt)
        if hyphen:
            lo, hi = int(hyphen.group(1)), int(hyphen.group(2))
            alternatives.append([lambda x, lo=lo: x >= lo, lambda x, hi=hi: x <= hi])
            continue
        tokens = re.findall(r"(?:>=|<=|>|<|=|\^|~)?\s*v?[\dx*][\w.*-]*", alt)
        if not tokens or "".join(t.replace(" ", "") for t in tokens) != alt.replace(" ", ""):
            return None
        try:
            alternatives.append([_comparator(t.replace(" ", "")) for t in tokens])
        except ValueError:
            return None
    return lambda m: any(all(c(m) for c in group) for group in alternatives)
