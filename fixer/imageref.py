"""Image references: parse, validate and normalise ``FROM`` image names.

The grammar and the normalisation rules are those of ``distribution/reference``
(see ``/work/shared/reference/protocols.md`` §1)::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [domain "/"] path-component ["/" path-component]*
    tag        := [\\w][\\w.-]{0,127}
    digest     := "sha256:" 64 lowercase hex          (the only algorithm we accept)

An :class:`ImageRef` keeps what the user wrote (``name``, ``tag``, ``digest``) so that a rewrite
stays in the short form (``node:22-alpine@sha256:...``, never ``index.docker.io/library/node``),
and also carries the normalised ``domain`` and ``path`` that the registry client needs
(``docker.io`` and ``library/node`` for ``node``).

Example::

    >>> r = parse("node:22-alpine")
    >>> r.domain, r.path, r.canonical
    ('docker.io', 'library/node', 'docker.io/library/node:22-alpine')
    >>> r.format(digest="sha256:" + "a" * 64)
    'node:22-alpine@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'

``scratch`` parses (``is_scratch`` is true) but is never a registry image: callers must not
resolve or pin it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = [
    "DEFAULT_DOMAIN",
    "DEFAULT_TAG",
    "ImageRef",
    "ImageRefError",
    "is_valid_digest",
    "parse",
]

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
SCRATCH = "scratch"
NAME_TOTAL_LENGTH_MAX = 255

# distribution/reference regexp.go, transcribed.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_PATH_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_DOMAIN_RE = re.compile(_DOMAIN)
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}")
_ANY_DIGEST_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_HEX64_RE = re.compile(r"[a-f0-9]{64}")


class ImageRefError(ValueError):
    """An image reference that is not valid; the message says what is wrong and quotes the input."""


def is_valid_digest(text: str) -> bool:
    """True for ``sha256:`` followed by exactly 64 lowercase hex digits."""
    return bool(_DIGEST_RE.fullmatch(text))


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference.

    Fields as written: ``name`` (e.g. ``node``, ``ghcr.io/o/r``), ``tag`` (``None`` if absent),
    ``digest`` (``None`` if absent). Normalised: ``domain`` (``docker.io`` for Docker Hub,
    whatever ``index.docker.io`` or nothing was written) and ``path`` (``library/node``).
    """

    name: str
    tag: str | None
    digest: str | None
    domain: str
    path: str

    # -- derived -----------------------------------------------------------------------------

    @property
    def repository(self) -> str:
        """``domain/path``, e.g. ``docker.io/library/node``."""
        return f"{self.domain}/{self.path}"

    @property
    def canonical(self) -> str:
        """Fully-qualified form: ``docker.io/library/node:22`` (``:latest`` added when neither a
        tag nor a digest was written; both kept when both were written)."""
        out = self.repository
        if self.tag is not None:
            out += f":{self.tag}"
        elif self.digest is None:
            out += f":{DEFAULT_TAG}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out

    @property
    def lookup(self) -> str:
        """What a registry look-up asks for: the tag (``latest`` if none) when a tag is written or
        no digest is, otherwise the digest. A pinned ``node:22@sha256:…`` looks up ``22`` so the
        caller can see whether the tag moved."""
        if self.tag is not None:
            return self.tag
        if self.digest is not None:
            return self.digest
        return DEFAULT_TAG

    @property
    def is_scratch(self) -> bool:
        """``FROM scratch``: the empty image. Never pulled, never pinned."""
        return self.name == SCRATCH and self.tag is None and self.digest is None

    def without_digest(self) -> "ImageRef":
        """The tag alone (``node:22@sha256:…`` → ``node:22``): what the tag points to now."""
        return replace(self, digest=None)

    def without_tag(self) -> "ImageRef":
        """The digest alone (``node:22@sha256:…`` → ``node@sha256:…``): the pinned image."""
        return replace(self, tag=None)

    # -- rendering ---------------------------------------------------------------------------

    def format(self, *, tag: str | None | bool = True, digest: str | None | bool = True) -> str:
        """Render in the short form the user wrote.

        ``tag``/``digest``: ``True`` keeps the written value, ``False``/``None`` drops it, a string
        replaces it. The new values are validated.

        >>> parse("node:22").format(digest="sha256:" + "0" * 64)[:17]
        'node:22@sha256:00'
        """
        new_tag = self.tag if tag is True else (tag or None)
        new_digest = self.digest if digest is True else (digest or None)
        if new_tag is not None and not _TAG_RE.fullmatch(new_tag):
            raise ImageRefError(f"invalid tag {new_tag!r}")
        if new_digest is not None and not is_valid_digest(new_digest):
            raise ImageRefError(f"invalid digest {new_digest!r}: expected sha256: and 64 hex digits")
        out = self.name
        if new_tag is not None:
            out += f":{new_tag}"
        if new_digest is not None:
            out += f"@{new_digest}"
        return out

    def with_digest(self, digest: str | None) -> ImageRef:
        """A copy with ``digest`` replaced (validated)."""
        if digest is not None and not is_valid_digest(digest):
            raise ImageRefError(f"invalid digest {digest!r}: expected sha256: and 64 hex digits")
        return ImageRef(self.name, self.tag, digest, self.domain, self.path)

    def __str__(self) -> str:
        return self.format()


def _split_domain(name: str) -> tuple[str, str]:
    """``splitDockerDomain`` from distribution/reference normalize.go."""
    first, sep, rest = name.partition("/")
    if not sep:
        domain, path = DEFAULT_DOMAIN, name
    elif first == "localhost" or "." in first or ":" in first or first.lower() != first:
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_REPO_PREFIX + path
    return domain, path


def parse(text: str) -> ImageRef:
    """Parse an image reference as written in a ``FROM`` line.

    Raises :class:`ImageRefError` for an empty string, unexpanded variables (``$``), uppercase
    in the repository path, a bad tag, a digest that is not ``sha256:`` + 64 hex, a bare
    64-hex name, or a name longer than 255 characters.
    """
    if not isinstance(text, str):
        raise ImageRefError(f"image reference must be a string, not {type(text).__name__}")
    raw = text
    text = text.strip()
    if not text:
        raise ImageRefError("empty image reference")
    if "$" in text:
        raise ImageRefError(f"image reference {raw!r} contains a variable; expand it first")
    if any(c.isspace() for c in text):
        raise ImageRefError(f"image reference {raw!r} contains whitespace")

    name, at, digest = text.partition("@")
    if at:
        if not digest:
            raise ImageRefError(f"image reference {raw!r} has an empty digest after '@'")
        if not is_valid_digest(digest):
            if _ANY_DIGEST_RE.fullmatch(digest) and not digest.startswith("sha256:"):
                raise ImageRefError(f"unsupported digest algorithm in {raw!r}: only sha256 is supported")
            raise ImageRefError(f"invalid digest {digest!r} in {raw!r}: expected sha256: and 64 lowercase hex digits")
    else:
        digest = None

    tag: str | None = None
    # The tag is after the last ':' unless that part contains a '/' (then it was a port).
    head, colon, tail = name.rpartition(":")
    if colon and "/" not in tail:
        if not _TAG_RE.fullmatch(tail):
            raise ImageRefError(f"invalid tag {tail!r} in {raw!r}")
        name, tag = head, tail
    if not name:
        raise ImageRefError(f"image reference {raw!r} has no repository name")
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise ImageRefError(f"repository name in {raw[:40]!r}… is longer than {NAME_TOTAL_LENGTH_MAX} characters")
    if _HEX64_RE.fullmatch(name):
        raise ImageRefError(f"invalid repository name {name!r}: cannot be a 64-byte hexadecimal string")

    domain, path = _split_domain(name)
    if domain != DEFAULT_DOMAIN and not _DOMAIN_RE.fullmatch(domain):
        raise ImageRefError(f"invalid registry host {domain!r} in {raw!r}")
    if path.lower() != path:
        raise ImageRefError(f"repository name {path!r} in {raw!r} must be lowercase")
    if not _PATH_RE.fullmatch(path):
        raise ImageRefError(f"invalid repository name {path!r} in {raw!r}")
    return ImageRef(name=name, tag=tag, digest=digest, domain=domain, path=path)
