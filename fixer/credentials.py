"""Registry credentials: where they come from, and how they are kept out of any output.

Lookup order for a registry host (``host[:port]``, e.g. ``ghcr.io`` or ``127.0.0.1:5000``;
Docker Hub may be named ``docker.io``, ``index.docker.io`` or ``registry-1.docker.io``):

1. The environment variable ``DOCKERFIX_REGISTRY_AUTH``, meant for CI::

       DOCKERFIX_REGISTRY_AUTH="ghcr.io=bot:ghp_xxx,127.0.0.1:5000=user:password"

   Entries are separated by commas or newlines; each is ``host=user:password`` (the password
   is everything after the first ``:``, so it may contain ``:`` and ``=`` but not ``,`` or a
   newline). A user of ``<token>`` means the secret is an identity (refresh) token.
2. The Docker CLI configuration ``$DOCKER_CONFIG/config.json`` (default
   ``~/.docker/config.json``):

   a. ``credHelpers[host]``: run ``docker-credential-<helper> get``;
   b. ``credsStore``: the same protocol with the default helper;
   c. ``auths[host]``: ``auth`` (base64 of ``user:password``), or ``username``/``password``,
      ``identitytoken``, ``registrytoken``.

   Keys in ``auths`` are matched after stripping a scheme and a path (``https://ghcr.io/v1/``
   matches ``ghcr.io``). Docker Hub is stored under ``https://index.docker.io/v1/``.

The credential-helper protocol: ``docker-credential-<name> get``, the server URL on stdin,
``{"Username": ..., "Secret": ...}`` on stdout; a helper that does not know the server exits
non-zero with "credentials not found" and the lookup moves on.

:class:`Credentials` never shows its secret: ``repr``/``str`` print ``***``; errors raised here
name the source (variable, file, helper) but never its content.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Union

__all__ = [
    "AUTH_ENV",
    "DOCKER_HUB_KEY",
    "CredentialError",
    "CredentialStore",
    "Credentials",
    "CredentialsLookup",
    "canonical_host",
    "parse_auth_env",
]

log = logging.getLogger("dockerfix.credentials")

AUTH_ENV = "DOCKERFIX_REGISTRY_AUTH"
DOCKER_HUB_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
IDENTITY_TOKEN_USER = "<token>"


class CredentialError(Exception):
    """Credentials are configured but cannot be read. The message never contains a secret."""


@dataclass(frozen=True, repr=False, eq=False)
class Credentials:
    """A user name and a secret for one registry.

    ``secret`` is a password, or an identity (OAuth refresh) token when ``username`` is
    ``<token>``. ``registry_token`` (from ``auths[host].registrytoken``) is a bearer token to send
    to the registry as is. ``source`` says where they came from, for messages.
    """

    username: str
    secret: str = field(default="")
    source: str = "explicit"
    registry_token: str | None = None

    @property
    def is_identity_token(self) -> bool:
        return self.username == IDENTITY_TOKEN_USER

    def secrets(self) -> tuple[str, ...]:
        """Every secret string held, for redaction."""
        return tuple(s for s in (self.secret, self.registry_token) if s)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, secret=***, source={self.source!r})"

    __str__ = __repr__


CredentialsLookup = Callable[[str], Union[Credentials, None]]


def canonical_host(server: str) -> str:
    """``ConvertToHostname`` from docker/cli, plus folding every Docker Hub alias to ``docker.io``.

    >>> canonical_host("https://index.docker.io/v1/"), canonical_host("http://127.0.0.1:5000/x")
    ('docker.io', '127.0.0.1:5000')
    """
    host = server.strip()
    for scheme in ("https://", "http://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme):]
            break
    host = host.split("/", 1)[0].lower()
    return "docker.io" if host in DOCKER_HUB_ALIASES else host


def _server_url(host: str) -> str:
    """The server URL Docker passes to a credential helper for ``host``."""
    return DOCKER_HUB_KEY if canonical_host(host) == "docker.io" else host


def parse_auth_env(value: str) -> dict[str, Credentials]:
    """Parse ``DOCKERFIX_REGISTRY_AUTH`` (see the module docstring)."""
    out: dict[str, Credentials] = {}
    entries = [e.strip() for chunk in value.splitlines() for e in chunk.split(",")]
    for n, entry in enumerate((e for e in entries if e), start=1):
        host, eq, userpass = entry.partition("=")
        user, colon, password = userpass.partition(":")
        if not (eq and colon and host.strip() and user):
            raise CredentialError(f"{AUTH_ENV}: entry {n} is malformed (expected host=user:password)")
        out[canonical_host(host)] = Credentials(user, password, source=f"{AUTH_ENV} entry {n}")
    return out


class CredentialStore:
    """Look up credentials for a registry host (see the module docstring for the order).

    Results are cached per host for the life of the object, so a helper runs at most once per
    host. Thread-safe. Call it (or :meth:`get`) with a host; ``None`` means "anonymous".
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        config_path: str | os.PathLike[str] | None = None,
        helper_timeout: float = 10.0,
    ) -> None:
        self._env = os.environ if env is None else env
        if config_path is None:
            base = self._env.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
            config_path = Path(base) / "config.json"
        self.config_path = Path(config_path)
        self.helper_timeout = helper_timeout
        self._cache: dict[str, Credentials | None] = {}
        self._lock = threading.Lock()
        self._config: dict | None = None
        self._checked = False

    def __call__(self, host: str) -> Credentials | None:
        return self.get(host)

    def get(self, host: str) -> Credentials | None:
        key = canonical_host(host)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = self._lookup(key)
            return self._cache[key]

    # -- sources -----------------------------------------------------------------------------

    def _lookup(self, host: str) -> Credentials | None:
        if not self._checked:
            self.check()
            self._checked = True
        env_value = self._env.get(AUTH_ENV)
        if env_value:
            creds = parse_auth_env(env_value).get(host)
            if creds is not None:
                return creds
        config = self._load_config()
        helpers = config.get("credHelpers") or {}
        helper = None
        for key, name in helpers.items():
            if canonical_host(key) == host:
                helper = name
                break
        if helper:
            return self._run_helper(helper, host)
        if config.get("credsStore"):
            creds = self._run_helper(config["credsStore"], host)
            if creds is not None:
                return creds
        return self._from_auths(config.get("auths") or {}, host)

    def check(self) -> None:
        """Read and check every configured source up front (``DOCKERFIX_REGISTRY_AUTH`` and the
        Docker config file), so that a broken one is a configuration error before any look-up,
        not a surprise half-way.  Raises :class:`CredentialError` (one line, no secret).  Helpers
        are not run here: they answer per host."""
        env_value = self._env.get(AUTH_ENV)
        if env_value:
            parse_auth_env(env_value)
        config = self._load_config()
        where = str(self.config_path)
        for key in ("auths", "credHelpers"):
            if not isinstance(config.get(key, {}), dict):
                raise CredentialError(f"{where}: {key!r} must be an object")
        for key, name in (config.get("credHelpers") or {}).items():
            if not isinstance(name, str) or not name:
                raise CredentialError(f"{where}: credHelpers[{key!r}] must name a helper")
        store = config.get("credsStore")
        if store is not None and not isinstance(store, str):
            raise CredentialError(f"{where}: 'credsStore' must be a string")
        for key, entry in (config.get("auths") or {}).items():
            if not isinstance(entry, dict):
                raise CredentialError(f"{where}: auths[{key!r}] must be an object")
            self._from_auths({key: entry}, canonical_host(key))  # raises for a bad 'auth' field

    def _load_config(self) -> dict:
        """The Docker config file as a dict ({} when there is none); ``CredentialError`` when it
        exists but cannot be read or is not a JSON object (carrying on anonymously would hide the
        problem behind 401 answers)."""
        if self._config is None:
            try:
                text = self.config_path.read_text(encoding="utf-8")
            except FileNotFoundError:
                self._config = {}
                return self._config
            except (OSError, UnicodeDecodeError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
                raise CredentialError(f"cannot read {self.config_path}: {why}") from None
            if not text.strip():
                data: object = {}
            else:
                try:
                    data = json.loads(text)
                except ValueError as exc:
                    pos = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
                    raise CredentialError(f"{self.config_path} is not valid JSON{pos}") from None
            if not isinstance(data, dict):
                raise CredentialError(f"{self.config_path} must hold a JSON object")
            self._config = data
        return self._config

    def _from_auths(self, auths: Mapping[str, object], host: str) -> Credentials | None:
        for key, entry in auths.items():
            if canonical_host(key) != host or not isinstance(entry, dict):
                continue
            source = f"{self.config_path} auths[{key!r}]"
            registry_token = entry.get("registrytoken") or None
            if entry.get("identitytoken"):
                return Credentials(IDENTITY_TOKEN_USER, entry["identitytoken"], source, registry_token)
            if entry.get("auth"):
                try:
                    decoded = base64.b64decode(entry["auth"], validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError, ValueError):
                    raise CredentialError(f"{source}: 'auth' is not base64 of user:password") from None
                user, colon, password = decoded.partition(":")
                if not colon:
                    raise CredentialError(f"{source}: 'auth' does not decode to user:password")
                return Credentials(user, password, source, registry_token)
            if entry.get("username"):
                return Credentials(entry["username"], entry.get("password", ""), source, registry_token)
            if registry_token:
                return Credentials("", "", source, registry_token)
        return None

    def _run_helper(self, name: str, host: str) -> Credentials | None:
        program = f"docker-credential-{name}"
        source = f"credential helper {program}"
        try:
            proc = subprocess.run(
                [program, "get"],
                input=_server_url(host),
                capture_output=True,
                text=True,
                timeout=self.helper_timeout,
            )
        except FileNotFoundError:
            log.warning("%s is configured in %s but is not installed", program, self.config_path)
            return None
        except subprocess.TimeoutExpired:
            raise CredentialError(f"{source} did not answer within {self.helper_timeout:g}s") from None
        if proc.returncode != 0:
            # Helpers print "credentials not found in native keychain" for unknown servers.
            if "not found" in (proc.stdout + proc.stderr).lower():
                return None
            raise CredentialError(f"{source} failed for {host} (exit status {proc.returncode})")
        try:
            data = json.loads(proc.stdout)
            user, secret = data["Username"], data["Secret"]
        except (ValueError, KeyError, TypeError):
            raise CredentialError(f"{source} printed something that is not {{Username, Secret}} JSON") from None
        if not isinstance(user, str) or not isinstance(secret, str):
            raise CredentialError(f"{source} printed a non-string Username or Secret")
        if not user and not secret:
            return None
        return Credentials(user, secret, source)
