"""What a registry says, without the network: the manifest media types, the answer of a look-up
(:class:`Resolution`) and its error (:class:`ResolveError`), manifest bodies classified and their
platforms listed (:func:`describe_manifest`), ``WWW-Authenticate`` challenges, platform strings and
the registry mirror mapping (``DOCKERFIX_REGISTRY_MIRROR``, defined in :mod:`.mirrors` and
re-exported here).

The HTTP client that asks the registry is :mod:`.registry`; it re-exports these names.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Iterable, Mapping, Sequence

from .imageref import is_valid_digest
from .mirrors import MIRROR_ENV, is_loopback, mirrors_from_env, normalise_base_url, parse_mirrors  # noqa: F401 (re-exported)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
ACCEPT = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])

DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64")

# ---------------------------------------------------------------------------------------------
# Results and errors
# ---------------------------------------------------------------------------------------------


class ResolveError(Exception):
    """A look-up that failed. ``str()`` is a complete human message without any secret."""

    def __init__(self, message: str, *, reference: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.reference = reference
        self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ResolveError({self.message!r})"


@dataclass(frozen=True)
class Resolution:
    """What a tag (or digest) resolves to.

    ``digest``/``media_type``/``kind`` describe the top-level object ("index" for an OCI index or
    a Docker manifest list, "manifest" for a single-platform manifest). ``platforms`` lists the
    ``os/arch[/variant]`` entries present (attestations ``unknown/unknown`` left out; arm64/v8
    and amd64/v1 written without the default variant). ``missing_platforms`` are the requested
    ones not present. ``children`` maps each platform of an index to its manifest digest (empty
    for a single manifest), so a caller can keep an existing per-platform pin per-platform.
    """

    reference: str
    registry: str
    digest: str
    media_type: str
    kind: str
    platforms: tuple[str, ...]
    missing_platforms: tuple[str, ...]
    children: Mapping[str, str] = field(default_factory=dict)
    from_cache: bool = False
    #: When the image was built (its config's ``created``; for an index, that of its linux/amd64
    #: or first manifest); only looked up by clients that want it (``--update-pins``).
    created: str | None = None

    def for_platforms(self, platforms: Sequence[str]) -> Resolution:
        """The same resolution with ``missing_platforms`` computed for ``platforms`` (a look-up
        does not depend on the platforms asked for, so one answer serves every configuration)."""
        wanted = tuple(normalise_platform(p) for p in platforms)
        missing = tuple(p for p in wanted if not any(platform_matches(p, have) for have in self.platforms))
        return self if missing == self.missing_platforms else replace(self, missing_platforms=missing)

    def child_for(self, platform: str) -> str | None:
        """The child manifest digest for ``platform`` (``linux/arm64``), or ``None``."""
        want = normalise_platform(platform)
        for have, digest in self.children.items():
            if platform_matches(want, have):
                return digest
        return None


# ---------------------------------------------------------------------------------------------
# Configuration helpers
# ---------------------------------------------------------------------------------------------


# The mirror helpers live in .mirrors (checked up front, without importing httpx) and are
# re-exported here: is_loopback, normalise_base_url, parse_mirrors, mirrors_from_env, MIRROR_ENV.


@cache
def _challenge_token() -> re.Pattern[str]:
    return re.compile(
        r"""\s*(?:(?P<scheme>[A-Za-z][\w.-]*)(?=\s+[\w.-]+\s*=|\s*,|\s*$)(?!\s*=)"""
        r"""|(?P<key>[\w.-]+)\s*=\s*(?:"(?P<q>(?:[^"\\]|\\.)*)"|(?P<v>[^,\s]*)))\s*,?"""
    )


def parse_challenges(values: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """Parse ``WWW-Authenticate`` header values into ``[(scheme, params)]`` (scheme lowercased).

    Handles several challenges in one header
    (``Bearer realm="…",service="x",Basic realm="…"``) and several headers.
    """
    out: list[tuple[str, dict[str, str]]] = []
    for value in values:
        pos = 0
        while pos < len(value):
            m = _challenge_token().match(value, pos)
            if not m or m.end() == pos:
                break
            pos = m.end()
            if m.group("scheme"):
                out.append((m.group("scheme").lower(), {}))
            elif out:
                raw = m.group("q")
                val = re.sub(r"\\(.)", r"\1", raw) if raw is not None else m.group("v")
                out[-1][1][m.group("key").lower()] = val
    return out


# ---------------------------------------------------------------------------------------------
# Platforms
# ---------------------------------------------------------------------------------------------


def platform_string(os_: str, arch: str, variant: str | None = None) -> str:
    if (arch, variant) in (("arm64", "v8"), ("amd64", "v1")):
        variant = None
    return f"{os_}/{arch}/{variant}" if variant else f"{os_}/{arch}"


def normalise_platform(text: str) -> str:
    parts = text.strip().split("/")
    if len(parts) < 2 or not all(parts):
        raise ValueError(f"platform {text!r} is not os/arch[/variant]")
    return platform_string(parts[0], parts[1], parts[2] if len(parts) > 2 else None)


def platform_matches(want: str, have: str) -> bool:
    """``linux/arm`` matches ``linux/arm/v7``; otherwise platforms must be equal."""
    return want == have or (want.count("/") == 1 and have.startswith(want + "/"))



@dataclass
class ManifestContent:
    media_type: str
    kind: str
    platforms: list[str]
    children: dict[str, str]
    config: dict[str, str] | None = None  # single manifest: its config descriptor
    created: str | None = None  # the image config's ``created`` (see Resolution.created)

    def as_cache(self) -> dict[str, Any]:
        out = {"media_type": self.media_type, "kind": self.kind, "platforms": self.platforms, "children": self.children}
        if self.created is not None:
            out["created"] = self.created
        return out



# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()



def registry_error_detail(body: bytes) -> str:
    """``CODE: message`` from a registry error body, short and printable."""
    try:
        errors = json.loads(body).get("errors") or []
        first = errors[0]
        text = f"{first.get('code', '')}: {first.get('message', '')}".strip(": ")
    except (ValueError, AttributeError, IndexError, TypeError, KeyError):
        return ""
    text = "".join(c for c in text if c.isprintable())
    return text[:200]


def describe_manifest(body: bytes, content_type: str | None, registry: str, what: str) -> ManifestContent:
    """Classify a manifest body and list its platforms."""
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        raise ResolveError(f"registry {registry} returned a manifest for {what} that is not valid JSON") from None
    header_type = (content_type or "").split(";", 1)[0].strip().lower()
    body_type = data.get("mediaType") if isinstance(data.get("mediaType"), str) else None
    known = INDEX_TYPES | MANIFEST_TYPES
    if header_type in known and body_type and body_type != header_type:
        raise ResolveError(
            f"registry {registry} returned {what} with Content-Type {header_type} but mediaType {body_type}"
        )
    media_type = header_type if header_type in known else body_type
    if media_type is None:
        if data.get("schemaVersion") == 2 and isinstance(data.get("manifests"), list):
            media_type = OCI_INDEX
        elif data.get("schemaVersion") == 2 and isinstance(data.get("config"), dict):
            media_type = OCI_MANIFEST
    if media_type not in known:
        if data.get("schemaVersion") == 1:
            raise ResolveError(f"registry {registry} returned a schema 1 manifest for {what}; not supported")
        raise ResolveError(f"registry {registry} returned an unsupported manifest type {media_type or header_type!r} for {what}")

    if media_type in INDEX_TYPES:
        entries = data.get("manifests")
        if not isinstance(entries, list):
            raise ResolveError(f"registry {registry} returned an index for {what} without a manifests list")
        platforms: list[str] = []
        children: dict[str, str] = {}
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            plat = entry.get("platform") if isinstance(entry.get("platform"), dict) else {}
            annotations = entry.get("annotations") if isinstance(entry.get("annotations"), dict) else {}
            os_, arch = plat.get("os"), plat.get("architecture")
            if not isinstance(os_, str) or not isinstance(arch, str) or not isinstance(entry.get("digest"), str):
                continue
            if (os_, arch) == ("unknown", "unknown") or annotations.get("vnd.docker.reference.type") == "attestation-manifest":
                continue
            name = platform_string(os_, arch, plat.get("variant") if isinstance(plat.get("variant"), str) else None)
            if name not in children:
                platforms.append(name)
                children[name] = entry["digest"]
        return ManifestContent(media_type, "index", platforms, children)

    config = data.get("config")
    if not isinstance(config, dict) or not is_valid_digest(str(config.get("digest", ""))):
        raise ResolveError(f"registry {registry} returned a manifest for {what} without a valid config descriptor")
    return ManifestContent(media_type, "manifest", [], {}, config={"digest": config["digest"]})
