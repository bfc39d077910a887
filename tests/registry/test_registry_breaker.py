"""The network never stalls a run: per-host circuit breaker, total deadline, no retry on a
connect failure or a timeout (RegistryClient level; the CLI side is in
tests/reliability/test_network_cli.py).

Attempts are counted from outside dockerfix: connections accepted by the hanging server, and
name look-ups through ``socket.getaddrinfo`` (what every TCP connection starts with)."""

from __future__ import annotations

import socket
import time

import pytest
from dockerfix.fixer.imageref import parse
from dockerfix.fixer.registry import (
    DeadlineExceeded,
    HostSkipped,
    NetworkGuard,
    RegistryClient,
    ResolveError,
)

from .seed import no_credentials
from .servers import FakeRegistry, HangServer, Reply, closed_port
from .test_registry_fake import INDEX, INDEX_DIGEST, OCI_INDEX


@pytest.fixture
def hang():
    srv = HangServer()
    yield srv
    srv.stop()


def client(**kw) -> RegistryClient:
    kw.setdefault("credentials", no_credentials)
    kw.setdefault("backoff", 0.01)
    return RegistryClient(**kw)


def refs(n: int, domain: str = "docker.io"):
    return [parse(f"{domain}/library/node:{i}") for i in range(n)]


@pytest.fixture
def lookups(monkeypatch):
    """Counts name look-ups per host through the real ``socket.getaddrinfo``."""
    counts: dict[str, int] = {}
    real = socket.getaddrinfo

    def counting(host, *a, **kw):
        key = host.decode() if isinstance(host, bytes) else str(host)
        counts[key] = counts.get(key, 0) + 1
        return real(host, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    return counts


def test_a_hanging_mirror_costs_one_timeout_not_one_per_reference(hang):
    trips = []
    guard = NetworkGuard(on_trip=lambda host, why: trips.append((host, why)))
    with client(mirrors={"docker.io": hang.base_url}, timeout=1.0, retries=2, guard=guard) as c:
        t0 = time.monotonic()
        out = c.resolve_many(refs(10))
        elapsed = time.monotonic() - t0
    assert len(out) == 10 and all(isinstance(v, ResolveError) for v in out.values())
    timed_out = [v for v in out.values() if not isinstance(v, HostSkipped)]
    assert len(timed_out) == 1 and "timed out after 1s" in str(timed_out[0])
    for v in out.values():
        if isinstance(v, HostSkipped):
            assert f"{hang.host} timed out after 1s earlier in this run" in str(v)
    assert trips == [(hang.host, "timed out after 1s")]
    assert hang.accepted == 1  # the first request to a host goes alone; the rest never connect
    assert elapsed < 3.0, elapsed  # a stall guard, not a speed target (one 1 s timeout)


def test_dns_failure_costs_one_attempt_per_host(lookups):
    trips = []
    guard = NetworkGuard(on_trip=lambda host, why: trips.append((host, why)))
    mirrors = {"docker.io": "https://hub-mirror.invalid", "ghcr.io": "https://ghcr-mirror.invalid"}
    with client(mirrors=mirrors, retries=2, guard=guard) as c:
        out = c.resolve_many(refs(6) + refs(4, "ghcr.io"))
        again = c.resolve_many([parse("docker.io/library/node:later")])
        assert c.request_count == 2
    assert lookups.get("hub-mirror.invalid") == 1 and lookups.get("ghcr-mirror.invalid") == 1, lookups
    assert sorted(trips) == [("ghcr-mirror.invalid", "did not resolve (DNS)"),
                             ("hub-mirror.invalid", "did not resolve (DNS)")]
    first = [str(v) for v in out.values() if not isinstance(v, HostSkipped)]
    assert sorted(first)[0].startswith("cannot reach registry ") and "does not resolve (DNS)" in first[0]
    assert isinstance(next(iter(again.values())), HostSkipped)


def test_connection_refused_is_not_retried():
    port = closed_port()
    with client(mirrors={"docker.io": f"http://127.0.0.1:{port}"}, retries=3) as c:
        with pytest.raises(ResolveError, match="connection refused"):
            c.resolve(parse("node:22"))
        assert c.request_count == 1
        assert c.guard.down(f"127.0.0.1:{port}") == "refused the connection"


def test_deadline_bounds_the_run_and_does_not_blame_the_host(hang):
    deadlines = []
    guard = NetworkGuard(deadline=1.0, on_deadline=deadlines.append)
    with client(mirrors={"docker.io": hang.base_url}, timeout=30, guard=guard) as c:
        t0 = time.monotonic()
        out = c.resolve_many(refs(5))
        elapsed = time.monotonic() - t0
        later = time.monotonic()
        with pytest.raises(DeadlineExceeded, match="network deadline of 1s passed"):
            c.resolve(parse("node:after"))
        assert time.monotonic() - later < 0.5
    assert all(isinstance(v, DeadlineExceeded) for v in out.values()), out
    assert "network deadline of 1s" in str(next(iter(out.values())))
    assert guard.hosts_down == {}  # the deadline cut the wait short; the host is not to blame
    assert deadlines == [1.0]
    assert elapsed < 3.0, elapsed


def test_a_retry_that_would_outlive_the_deadline_is_not_waited_for():
    srv = FakeRegistry()
    try:
        srv.add("HEAD", "/v2/library/node/manifests/22", Reply(429, {"Retry-After": "30"}))
        guard = NetworkGuard(deadline=2.0)
        with client(mirrors={"docker.io": srv.base_url}, guard=guard, max_retry_after=60) as c:
            t0 = time.monotonic()
            with pytest.raises(DeadlineExceeded, match="answered 429 .* no time left to retry"):
                c.resolve(parse("node:22"))
            assert time.monotonic() - t0 < 1.5
    finally:
        srv.stop()


def test_a_healthy_host_is_unaffected_by_a_down_one(hang):
    srv = FakeRegistry()
    try:
        srv.serve_manifest("library/node", "22", INDEX, OCI_INDEX)
        mirrors = {"docker.io": srv.base_url, "ghcr.io": hang.base_url}
        with client(mirrors=mirrors, timeout=0.5) as c:
            out = c.resolve_many([parse("node:22"), parse("ghcr.io/x/y:1"), parse("ghcr.io/x/y:2")])
        assert out["docker.io/library/node:22"].digest == INDEX_DIGEST
        assert sum(isinstance(v, HostSkipped) for v in out.values()) == 1
    finally:
        srv.stop()


def test_resolution_for_other_platforms():
    srv = FakeRegistry()
    try:
        srv.serve_manifest("library/node", "22", INDEX, OCI_INDEX)
        with client(mirrors={"docker.io": srv.base_url}) as c:
            res = c.resolve(parse("node:22"), platforms=())
        assert res.missing_platforms == ()
        assert res.for_platforms(["linux/amd64", "linux/arm64"]).missing_platforms == ("linux/arm64",)
        assert res.for_platforms(["linux/arm"]).missing_platforms == ()
    finally:
        srv.stop()
