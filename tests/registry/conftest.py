"""Fixtures for the registry tests: real ``docker-registry`` instances on loopback, seeded through
the HTTP API, plus a token server and scripted fake registries.

Without ``docker-registry`` the real-registry tests are skipped with a reason, unless
``DOCKERFIX_REQUIRE_REAL=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import pytest
from dockerfix.fixer.credentials import CredentialStore

from .seed import BENCH_REFS, Pushed, Seeder, seed_standard
from .servers import (
    FakeRegistry,
    RunningRegistry,
    htpasswd_yaml,
    registry_binary,
    start_registry,
    start_token_server,
    token_auth_yaml,
)


def _need_registry() -> None:
    if registry_binary() is None:
        reason = "docker-registry is not installed (apt-get install docker-registry)"
        if os.environ.get("DOCKERFIX_REQUIRE_REAL") == "1":
            pytest.fail(f"DOCKERFIX_REQUIRE_REAL=1 but {reason}", pytrace=False)
        pytest.skip(reason)


@dataclass
class Seeded:
    """A running registry and what was pushed to it (``images[tag]`` in ``repo``)."""

    registry: RunningRegistry
    repo: str
    images: dict[str, Pushed]
    user: str | None = None
    password: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def host(self) -> str:
        return self.registry.host

    @property
    def base_url(self) -> str:
        return self.registry.base_url

    def ref(self, tag_or_digest: str) -> str:
        sep = "@" if tag_or_digest.startswith("sha256:") else ":"
        return f"{self.host}/{self.repo}{sep}{tag_or_digest}"

    def credentials(self, tmp_path, password: str | None = None) -> CredentialStore:
        """A CredentialStore fed only from DOCKERFIX_REGISTRY_AUTH (no real ~/.docker)."""
        env = {"DOCKERFIX_REGISTRY_AUTH": f"{self.host}={self.user}:{password or self.password}"}
        return CredentialStore(env=env, config_path=tmp_path / "no-docker-config.json")


@pytest.fixture(scope="session")
def open_registry(tmp_path_factory):
    """An auth-less registry with the standard set in ``library/node`` and, for the concurrency
    benchmark, ``BENCH_REFS`` tags ``t0..t49`` in ``bench/app``, each a distinct OCI index."""
    _need_registry()
    reg = start_registry(tmp_path_factory.mktemp("reg-open"))
    seeder = Seeder(reg.base_url)
    try:
        images = seed_standard(seeder, "library/node")
        amd = seeder.push_image("bench/app", "linux/amd64")
        arm = seeder.push_image("bench/app", "linux/arm64")
        bench = {}
        for i in range(BENCH_REFS):
            pushed = seeder.push_index("bench/app", f"t{i}", [amd, arm], extra=[])
            # make every index distinct: re-push with an annotation
            body = json.loads(pushed.body)
            body["annotations"] = {"org.example.n": str(i)}
            raw = json.dumps(body, separators=(",", ":")).encode()
            digest = seeder.put_manifest("bench/app", f"t{i}", raw, pushed.media_type)
            bench[f"t{i}"] = Pushed(digest, raw, pushed.media_type, children=pushed.children)
        seeder.close()
        yield Seeded(reg, "library/node", images, extra={"bench": bench})
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory):
    """A registry behind htpasswd (bcrypt) Basic auth; throwaway credentials."""
    _need_registry()
    work = tmp_path_factory.mktemp("reg-basic")
    user, password = "basic-user", "basic-pw-" + os.urandom(8).hex()
    reg = start_registry(work, htpasswd_yaml(work, user, password))
    try:
        seeder = Seeder(reg.base_url, user, password)
        images = seed_standard(seeder, "team/private")
        seeder.close()
        yield Seeded(reg, "team/private", images, user, password)
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def bearer_registry(tmp_path_factory):
    """A registry behind JWT token auth (like Docker Hub): anonymous pull allowed for
    ``library/*`` pulls, push needs the throwaway account."""
    _need_registry()
    pytest.importorskip("cryptography", reason="the token server needs cryptography")
    work = tmp_path_factory.mktemp("reg-bearer")
    user, password = "bearer-user", "bearer-pw-" + os.urandom(8).hex()
    tokens = start_token_server(work / "cert.pem", {user: password})
    reg = start_registry(work, token_auth_yaml(tokens.realm, work / "cert.pem"))
    try:
        seeder = Seeder(reg.base_url, user, password)
        images = seed_standard(seeder, "library/node")
        images_b = seed_standard(seeder, "library/other")
        seeder.close()
        tokens.requests.clear()
        yield Seeded(reg, "library/node", images, user, password, extra={"tokens": tokens, "other": images_b})
    finally:
        reg.stop()
        tokens.stop()


@pytest.fixture
def fake_registry():
    servers: list[FakeRegistry] = []

    def make(**kw) -> FakeRegistry:
        srv = FakeRegistry(**kw)
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.stop()
