"""Registry mirror settings, checked without importing the HTTP stack.

``DOCKERFIX_REGISTRY_MIRROR`` (and the config key ``registry-mirrors``) map registry domains to
base URLs: ``docker.io=http://127.0.0.1:5000,ghcr.io=https://mirror.example``.  A base URL is
``http(s)://host[:port]`` without credentials, path or query; plain ``http`` only for loopback
hosts (``localhost``, ``127.0.0.0/8``, ``::1``), because credentials may be sent to a mirror.
Every problem raises ``ValueError`` with a one-line message (the CLI turns it into exit 2).
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from .credentials import canonical_host

__all__ = ["MIRROR_ENV", "is_loopback", "mirrors_from_env", "normalise_base_url", "parse_mirrors"]

MIRROR_ENV = "DOCKERFIX_REGISTRY_MIRROR"
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$")


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_base_url(url: str) -> str:
    """``http(s)://host[:port]`` (lowercase host, no trailing slash), or ``ValueError``."""
    text = url.strip()
    try:
        parsed = urlsplit(text)
        host, port = parsed.hostname, parsed.port
    except ValueError:
        raise ValueError(f"registry URL {text!r} is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise ValueError(f"registry URL {text!r} must be http(s)://host[:port]")
    if parsed.username is not None or parsed.password is not None:
        raise ValueError("registry URL must not contain credentials; use DOCKERFIX_REGISTRY_AUTH or docker login")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"registry URL {text!r} has an invalid host") from None
        netloc = f"[{host}]"
    elif _HOSTNAME.match(host):
        netloc = host
    else:
        raise ValueError(f"registry URL {text!r} has an invalid host")
    if parsed.scheme == "http" and not is_loopback(host):
        raise ValueError(
            f"plain http is only allowed for loopback registries, not {host} (use https://{netloc}"
            f"{'' if port is None else f':{port}'})")
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        raise ValueError(f"registry URL {text!r} must not have a path or query")
    return f"{parsed.scheme}://{netloc}{'' if port is None else f':{port}'}"


def parse_mirrors(text: str, where: str = MIRROR_ENV) -> dict[str, str]:
    """Parse ``docker.io=http://127.0.0.1:5000[,ghcr.io=https://mirror.example]``.

    Keys are registry domains (Docker Hub aliases fold to ``docker.io``); values are base URLs.
    Raises ``ValueError`` (message prefixed with ``where``) for a malformed entry or a URL that is
    not allowed.
    """
    pairs: list[tuple[str, str]] = []
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        domain, eq, url = entry.partition("=")
        if not eq or not domain or not url:
            raise ValueError(f"{where}: entry {entry!r} is not domain=url")
        pairs.append((domain, url))
    return _normalised(pairs, lambda _domain: where)


def check_mirrors(mapping: Mapping[Any, object], where: str) -> dict[str, str]:
    """Check a mapping from a config file (``registry-mirrors``): string keys and valid URLs."""
    pairs: list[tuple[str, str]] = []
    for domain, url in mapping.items():
        if not isinstance(domain, str) or not domain.strip() or not isinstance(url, str):
            raise ValueError(f"{where}: registry-mirrors must map registry hosts to URL strings")
        pairs.append((domain, url))
    return _normalised(pairs, lambda domain: f"{where}: registry-mirrors[{domain!r}]")


def _normalised(pairs: Iterable[tuple[str, str]], where: Callable[[str], str]) -> dict[str, str]:
    """``{canonical host: base URL}``; a bad URL raises ``ValueError`` prefixed with ``where(domain)``."""
    out: dict[str, str] = {}
    for domain, url in pairs:
        try:
            out[canonical_host(domain)] = normalise_base_url(url)
        except ValueError as e:
            raise ValueError(f"{where(domain)}: {e}") from None
    return out


def mirrors_from_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The mirror mapping from ``DOCKERFIX_REGISTRY_MIRROR`` (empty when unset)."""
    env = os.environ if env is None else env
    return parse_mirrors(env.get(MIRROR_ENV, ""))
