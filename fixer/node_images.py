"""What the official ``node`` image offers: which tags exist, the Debian or Alpine release each
brings, whether that release is archived, and what the image contains per major (yarn v1,
corepack), plus a dated table of known breakages by major.

The facts are a table shipped with dockerfix (``data/node_images.json``), each entry naming its
public source and date; it is read lazily, once, on first use (:func:`images`).  Tags are derived
from the table with the rules of docker-node's ``stackbrew.js``:

* ``<major>-<variant>`` for every variant (``24-alpine3.24``, ``24-bookworm-slim``);
* ``<major>`` / ``<major>-slim`` for the default Debian release, ``<major>-alpine`` for the
  default Alpine release;
* the same with the codename in place of the major (``krypton-alpine``, ``jod``);
* ``lts``/``lts-*`` for the Active LTS line, ``latest``/``current``/``current-*``/bare variants
  (``alpine``, ``slim``, ``bookworm``) for the newest line.

"Does this tag exist" is one function of the facts, :meth:`NodeImages.tag_state`: ``maintained``
(built today), ``frozen`` (published once, no longer updated), ``absent`` or ``unknown`` (a
minor-qualified tag the table does not list).  Online, the registry's own tag list can be laid
over the table with :meth:`NodeImages.with_registry_tags`: then a tag the registry does not list
is ``absent`` whatever the table says.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any
from collections.abc import Iterable

MAINTAINED, FROZEN, ABSENT, UNKNOWN = "maintained", "frozen", "absent", "unknown"
_ALPINE_RE = re.compile(r"^alpine(\d+\.\d+)$")
_VERSION_RE = re.compile(r"^(\d+)((?:\.\d+){0,2})(?:-(.+))?$")


@dataclass(frozen=True)
class Distro:
    """The operating system release an image is built on."""

    family: str  # "debian" | "alpine"
    release: str  # "bookworm", "3.24", or "jessie/stretch" when the table only knows candidates
    version: str | None = None  # Debian's number ("12")
    archived: bool = False  # apt-get update against the Debian mirrors fails (moved to archive.debian.org)
    since: str | None = None  # when it was archived
    source: str | None = None

    @property
    def label(self) -> str:
        if self.family == "alpine":
            return f"Alpine {self.release}"
        return f"Debian {self.version} ({self.release})" if self.version else f"Debian {self.release}"


@dataclass(frozen=True)
class MajorImages:
    major: int
    codename: str | None
    debian_default: str | None
    alpine_default: str | None
    variants: tuple[str, ...]  # built today
    frozen: tuple[str, ...]  # published once, no longer updated
    yarn_v1: bool | None  # the image has yarn 1 installed
    corepack: bool | None  # the image has the corepack executable
    debian_candidates: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def maintained(self) -> bool:
        return bool(self.variants)


@dataclass(frozen=True)
class Breakage:
    """A package known to break on Node.js majors from ``from_major`` on."""

    id: str
    package: str
    from_major: int
    below: str | None  # the package versions affected (None: all)
    why: str
    unless: str | None  # a setting that works around it (e.g. "--openssl-legacy-provider")
    source: str
    max_node: dict[int, int] = field(default_factory=dict)  # package major -> newest Node major supported

    def breaks(self, version: str | None, node_major: int) -> bool:
        """Does ``package@version`` break on ``node_major``? (version None: unknown, assume yes)."""
        pmajor = _major_of(version)
        if self.max_node:
            limit = self.max_node.get(pmajor, max(self.max_node.values())) if pmajor is not None \
                else max(self.max_node.values())
            return node_major > limit
        if node_major < self.from_major:
            return False
        if self.below is None or version is None:
            return True
        return _version_tuple(version) < _version_tuple(self.below)


def _major_of(version: str | None) -> int | None:
    m = re.match(r"\D*(\d+)", version or "")
    return int(m.group(1)) if m else None


def _version_tuple(v: str) -> tuple[int, ...]:
    nums = re.findall(r"\d+", v.split("-")[0])[:3]
    return tuple(int(n) for n in nums) + (0,) * (3 - len(nums))


@dataclass(frozen=True)
class ParsedTag:
    """A ``node`` tag taken apart: a fixed major (``16``, ``carbon``) or a moving alias."""

    major: int | None  # None for moving tags
    alias: str | None  # "latest" | "current" | "lts" | None
    variant: str  # "" | "slim" | "alpine" | "alpine3.20" | "bookworm-slim" | ...
    qualified: bool = False  # "16.20" / "16.20.2": a minor or patch is named
    codename: str | None = None  # the tag names the line by its codename


@dataclass(frozen=True)
class NodeImages:
    as_of: date
    majors: dict[int, MajorImages]
    distributions: dict[str, Distro]
    breakages: tuple[Breakage, ...]
    sources: dict[str, dict[str, str]]
    registry_tags: frozenset[str] | None = None  # laid over the table when known (online)

    # -- facts per major ----------------------------------------------------------------------
    @property
    def debian_releases(self) -> tuple[str, ...]:
        """Codenames of the Debian releases the table knows, newest first (``trixie``, ``bookworm``...)."""
        debian = [d for d in self.distributions.values() if d.family == "debian"]
        return tuple(d.release for d in sorted(debian, key=lambda d: -int(d.version or 0)))

    @property
    def codenames(self) -> dict[str, int]:
        """LTS codenames (used as tags: ``node:jod``, ``node:iron-bookworm``) -> their major."""
        return {m.codename: m.major for m in sorted(self.majors.values(), key=lambda m: m.major) if m.codename}

    def major(self, n: int) -> MajorImages | None:
        return self.majors.get(n)

    def by_codename(self, name: str) -> int | None:
        name = name.lower()
        return next((m.major for m in self.majors.values() if m.codename == name), None)

    def has_yarn(self, major: int) -> bool | None:
        m = self.majors.get(major)
        if m is not None:
            return m.yarn_v1
        return False if major >= 26 else None

    def has_corepack(self, major: int) -> bool | None:
        m = self.majors.get(major)
        if m is not None:
            return m.corepack
        return False if major >= 25 else None

    def with_registry_tags(self, tags: Iterable[str]) -> NodeImages:
        """The same facts, with the registry's tag list deciding which tags exist."""
        return replace(self, registry_tags=frozenset(tags))

    # -- tags -----------------------------------------------------------------------------------
    def parse_tag(self, tag: str | None) -> ParsedTag:
        t = (tag or "latest").lower()
        if t == "latest":
            return ParsedTag(None, "latest", "")
        for alias in ("current", "lts"):
            if t == alias:
                return ParsedTag(None, alias, "")
            if t.startswith(alias + "-"):
                rest = t[len(alias) + 1:]
                code, _, after = rest.partition("-")
                major = self.by_codename(code) if alias == "lts" else None
                if major is not None:
                    return ParsedTag(major, None, after, codename=code)
                return ParsedTag(None, alias, rest)
        m = _VERSION_RE.match(t)
        if m:
            return ParsedTag(int(m.group(1)), None, m.group(3) or "", qualified=bool(m.group(2)))
        code, _, after = t.partition("-")
        major = self.by_codename(code)
        if major is not None:
            return ParsedTag(major, None, after, codename=code)
        return ParsedTag(None, "latest", t)  # node:alpine, node:slim, node:bookworm ...

    def tag_state(self, tag: str | None, day: date | None = None, releases: Any = None) -> str:
        """``maintained`` | ``frozen`` | ``absent`` | ``unknown`` for ``node:<tag>``."""
        state = self._table_state(tag, day, releases)
        if self.registry_tags is not None:
            listed = (tag or "latest") in self.registry_tags
            if not listed:
                return ABSENT
            return state if state in (MAINTAINED, FROZEN) else FROZEN
        return state

    def tag_exists(self, tag: str | None, day: date | None = None, releases: Any = None) -> bool | None:
        state = self.tag_state(tag, day, releases)
        return None if state == UNKNOWN else state != ABSENT

    def _table_state(self, tag: str | None, day: date | None, releases: Any) -> str:
        p = self.parse_tag(tag)
        major = p.major
        if major is None:
            major = self._moving_major(p.alias or "latest", day, releases)
            if major is None:
                return UNKNOWN
            state = self._variant_state(self.majors[major], p.variant)
            if state == ABSENT and any(self._variant_state(m, p.variant) != ABSENT for m in self.majors.values()):
                return FROZEN  # published for an older line (node:lts-alpine3.16): no longer updated
            return state
        m = self.majors.get(major)
        if m is None:
            return UNKNOWN
        if p.codename and p.codename != m.codename:
            return ABSENT
        state = self._variant_state(m, p.variant)
        if p.qualified and state != ABSENT:
            return UNKNOWN  # which minor/patch releases were built is not in the table
        return state

    @staticmethod
    def _variant_state(m: MajorImages, variant: str) -> str:
        def state_of(v: str) -> str:
            if v in m.variants:
                return MAINTAINED
            if v in m.frozen:
                return FROZEN
            return ABSENT

        if variant in ("", "slim"):
            if m.debian_default:
                return state_of(m.debian_default + ("-slim" if variant else ""))
            return FROZEN if (variant in m.frozen or m.debian_candidates) else ABSENT
        if variant == "alpine":
            if m.alpine_default:
                return state_of(m.alpine_default)
            alpine = [v for v in m.variants + m.frozen if v.startswith("alpine")]
            return FROZEN if alpine else ABSENT
        return state_of(variant)

    def moving_major(self, tag: str | None, day: date | None = None, releases: Any = None) -> int | None:
        """The major a moving tag (``lts-slim``, ``alpine``, no tag) stands for on ``day`` (None for
        a fixed tag, or when the table cannot tell)."""
        p = self.parse_tag(tag)
        if p.major is not None:
            return None
        return self._moving_major(p.alias or "latest", day, releases)

    def _moving_major(self, alias: str, day: date | None, releases: Any) -> int | None:
        if releases is None:
            from .node_releases import bundled

            releases = bundled()
        day = day or self.as_of
        live = [r for r in releases.releases if not r.is_eol_on(day) and r.start <= day and r.major in self.majors]
        if not live:
            return None
        if alias == "lts":
            active = [r for r in live if r.is_active_lts_on(day)]
            return max(active, key=lambda r: r.major).major if active else None
        return max(live, key=lambda r: r.major).major

    def node_tag(self, major: int, variant: str) -> str:
        return f"{major}-{variant}" if variant else str(major)

    # -- distributions --------------------------------------------------------------------------
    def distro(self, release: str) -> Distro | None:
        release = release.lower()
        m = _ALPINE_RE.match(release)
        if m:
            return Distro("alpine", m.group(1))
        return self.distributions.get(release)

    def distro_of_variant(self, major: int | None, variant: str) -> Distro | None:
        """The release ``node:<major>-<variant>`` brings (None: the table cannot tell)."""
        v = variant.lower()
        for part in v.split("-"):
            d = self.distro(part)
            if d is not None:
                return d
        m = self.majors.get(major) if major is not None else None
        if m is None:
            return None
        if v == "alpine":
            return self.distro(m.alpine_default) if m.alpine_default else None
        if v in ("", "slim"):
            if m.debian_default:
                return self.distro(m.debian_default)
            cands = [self.distributions[c] for c in m.debian_candidates if c in self.distributions]
            if cands:
                return Distro("debian", "/".join(c.release for c in cands), archived=all(c.archived for c in cands),
                              since=max(c.since or "" for c in cands) or None, source=cands[0].source)
        return None

    def distro_of_tag(self, tag: str | None, day: date | None = None, releases: Any = None) -> Distro | None:
        p = self.parse_tag(tag)
        major = p.major if p.major is not None else self._moving_major(p.alias or "latest", day, releases)
        return self.distro_of_variant(major, p.variant)

    def distro_of_image(self, image: str | None, day: date | None = None) -> Distro | None:
        """The release of any image reference whose tag says it: ``node:*`` by the table,
        ``debian:<codename|number>``, and tags naming a Debian codename (``python:3.8-buster``)."""
        from .imageref import ImageRefError, parse

        try:
            ref = parse(image or "")
        except ImageRefError:
            return None
        if ref.digest and not ref.tag:
            return None
        if ref.repository == "docker.io/library/node":
            return self.distro_of_tag(ref.tag, day)
        tag = (ref.tag or "latest").lower()
        if ref.repository == "docker.io/library/debian":
            num = re.match(r"^(\d+)(?:[.-]|$)", tag)
            if num:
                return next((d for d in self.distributions.values() if d.version == num.group(1)), None)
        for part in re.split(r"[-_.]", tag):
            d = self.distributions.get(part)
            if d is not None:
                return d
        m = re.search(r"alpine(\d+\.\d+)", tag)
        if m:
            return Distro("alpine", m.group(1))
        return None

    def archived_release(self, image: str | None) -> Distro | None:
        """The image's Debian release when it is archived (``apt-get update`` fails there), else
        None.  Transforms read this (``ctx.node_images``) before adding an apt/apk step."""
        d = self.distro_of_image(image)
        return d if d is not None and d.archived else None


# -- loading ------------------------------------------------------------------------------------

def _load(data: dict) -> NodeImages:
    dists = {
        name: Distro(v["family"], name, v.get("version"), bool(v.get("archived")), v.get("since"), v.get("source"))
        for name, v in data["distributions"].items()
    }
    majors = {}
    for key, v in data["majors"].items():
        n = int(key)
        majors[n] = MajorImages(
            major=n, codename=v.get("codename"), debian_default=v.get("debian_default"),
            alpine_default=v.get("alpine_default"), variants=tuple(v.get("variants", ())),
            frozen=tuple(v.get("frozen", ())), yarn_v1=v.get("yarn_v1"), corepack=v.get("corepack"),
            debian_candidates=tuple(v.get("debian_candidates", ())), sources=tuple(v.get("sources", ())),
        )
    breakages = tuple(
        Breakage(b["id"], b["package"], int(b["from_major"]), b.get("below"), b["why"], b.get("unless"),
                 b["source"], {int(k): int(x) for k, x in (b.get("max_node") or {}).items()})
        for b in data.get("breakages", ())
    )
    return NodeImages(date.fromisoformat(data["as_of"]), majors, dists, breakages, dict(data.get("sources", {})))


@lru_cache(maxsize=1)
def images() -> NodeImages:
    """The bundled table, read on first use."""
    text = resources.files("dockerfix.fixer").joinpath("data/node_images.json").read_text(encoding="utf-8")
    return _load(json.loads(text))


def load_images(data: dict) -> NodeImages:
    return _load(data)

