"""RegistryClient against the real docker-registry (distribution 2.8) on loopback."""

import hashlib
import logging
import time

import pytest
from dockerfix.fixer.cache import DigestCache
from dockerfix.fixer.imageref import parse
from dockerfix.fixer.registry import RegistryClient, ResolveError

from .seed import BENCH_REFS, no_credentials

pytestmark = pytest.mark.registry


def sha(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def client(**kw) -> RegistryClient:
    kw.setdefault("mirrors", {})
    kw.setdefault("credentials", no_credentials)
    kw.setdefault("backoff", 0.01)
    return RegistryClient(**kw)


EXPECT = {
    # tag: (kind, platforms, missing, requests)
    "22-alpine": ("index", ("linux/amd64", "linux/arm64"), (), 2),
    "legacy": ("index", ("linux/amd64", "linux/arm64"), (), 2),
    "single": ("manifest", ("linux/amd64",), ("linux/arm64",), 3),
    "amd64-only": ("index", ("linux/amd64",), ("linux/arm64",), 2),
}


@pytest.mark.parametrize("tag", sorted(EXPECT))
def test_resolve_kinds_and_counts(open_registry, tag):
    kind, platforms, missing, requests = EXPECT[tag]
    pushed = open_registry.images[tag]
    with client() as c:
        res = c.resolve(parse(open_registry.ref(tag)))
        assert res.digest == sha(pushed.body) == pushed.digest
        assert res.media_type == pushed.media_type
        assert (res.kind, res.platforms, res.missing_platforms) == (kind, platforms, missing)
        assert c.request_count == requests, c.request_log
        assert c.request_log[0].startswith("HEAD ") and c.request_log[0].endswith(f"/manifests/{tag}")
    if kind == "index":
        assert res.children == pushed.children or set(res.children.values()) == set(pushed.children.values())
        assert "unknown/unknown" not in res.platforms  # the attestation entry is ignored


def test_per_platform_pin_can_be_kept(open_registry):
    """An existing platform pin: resolve it by digest, then find the same platform in the index."""
    index = open_registry.images["22-alpine"]
    arm_child = index.children["linux/arm64"]
    with client() as c:
        pinned = c.resolve(parse(open_registry.ref(arm_child)))
        assert (pinned.kind, pinned.platforms) == ("manifest", ("linux/arm64",))
        assert c.request_count == 2  # GET manifest by digest + config blob
        fresh = c.resolve(parse(open_registry.ref("22-alpine")))
        assert fresh.child_for(pinned.platforms[0]) == arm_child
        assert fresh.child_for("linux/arm64/v8") == arm_child


def test_digest_only_reference_is_one_get(open_registry):
    index = open_registry.images["legacy"]
    with client() as c:
        res = c.resolve(parse(open_registry.ref(index.digest)))
        assert res.digest == index.digest and res.kind == "index"
        assert c.request_log == [f"GET {open_registry.base_url}/v2/library/node/manifests/{index.digest}"]


def test_unknown_tag_is_a_clear_error(open_registry):
    with client() as c:
        with pytest.raises(ResolveError) as err:
            c.resolve(parse(open_registry.ref("does-not-exist")))
    assert str(err.value) == f"registry {open_registry.host} answered 404 for library/node: 'does-not-exist' not found"
    assert err.value.status == 404


def test_mirror_for_docker_io_keeps_short_form(open_registry, monkeypatch):
    ref = parse("node:22-alpine")
    with client(mirrors={"docker.io": open_registry.base_url}) as c:
        res = c.resolve(ref)
    assert res.digest == open_registry.images["22-alpine"].digest
    assert ref.format(digest=res.digest) == f"node:22-alpine@{res.digest}"
    monkeypatch.setenv("DOCKERFIX_REGISTRY_MIRROR", f"docker.io={open_registry.base_url}")
    with RegistryClient(credentials=no_credentials) as c:
        assert c.base_url("docker.io") == open_registry.base_url
        assert c.resolve(ref).digest == res.digest


def test_resolve_many_one_lookup_per_distinct_reference(open_registry):
    idx = open_registry.images["22-alpine"]
    refs = [parse(open_registry.ref("22-alpine")), parse(open_registry.ref("22-alpine")),
            parse(f"{open_registry.ref('22-alpine')}@{'sha256:' + '0' * 64}"),  # pinned: looked up by tag
            parse(open_registry.ref("legacy")), parse(open_registry.ref("nope"))]
    with client() as c:
        out = c.resolve_many(refs)
        assert c.request_count == 2 + 2 + 1  # two indexes, one 404 HEAD
    assert out[refs[0].canonical].digest == out[refs[2].canonical].digest == idx.digest
    assert isinstance(out[refs[4].canonical], ResolveError)
    assert len(out) == 4  # refs[0] and refs[1] share a canonical key


def test_warm_cache_makes_no_requests(open_registry, tmp_path):
    refs = [parse(open_registry.ref(t)) for t in EXPECT]
    path = tmp_path / "digests.json"
    with client(cache=DigestCache(path)) as c:
        cold = c.resolve_many(refs)
        assert c.request_count == 2 + 2 + 3 + 2
    with client(cache=DigestCache(path)) as c:
        warm = c.resolve_many(refs)
        assert c.request_count == 0
    for key, res in cold.items():
        assert not res.from_cache and warm[key].from_cache
        assert (warm[key].digest, warm[key].platforms, warm[key].children) == (res.digest, res.platforms, res.children)
    # tag entries expired, contents known: one HEAD per reference
    with client(cache=DigestCache(path, ttl=0)) as c:
        c.resolve_many(refs)
        assert c.request_count == len(refs) and all(r.startswith("HEAD ") for r in c.request_log)
    # refresh bypasses every read
    with client(cache=DigestCache(path, refresh=True)) as c:
        c.resolve_many(refs)
        assert c.request_count == 9


def test_offline_makes_no_requests(open_registry):
    with client(offline=True) as c:
        with pytest.raises(ResolveError, match="^offline: digest look-up skipped$"):
            c.resolve(parse(open_registry.ref("22-alpine")))
        out = c.resolve_many([parse(open_registry.ref("legacy"))])
        assert str(next(iter(out.values()))) == "offline: digest look-up skipped"
        assert c.request_count == 0


def test_scratch_is_never_looked_up(open_registry):
    with client() as c:
        with pytest.raises(ResolveError, match="scratch"):
            c.resolve(parse("scratch"))
        assert c.request_count == 0


# -- Basic auth (htpasswd) ---------------------------------------------------------------------


def test_basic_auth(basic_registry, tmp_path):
    reg = basic_registry
    with client(credentials=reg.credentials(tmp_path)) as c:
        first = c.resolve(parse(reg.ref("22-alpine")))
        assert first.digest == reg.images["22-alpine"].digest
        assert c.request_count == 3  # 401, HEAD, GET: the first request learns the scheme
        c.reset_counters()
        second = c.resolve(parse(reg.ref("legacy")))
        assert second.digest == reg.images["legacy"].digest
        assert c.request_count == 2  # credentials sent up front


def test_basic_auth_concurrent_first_contact_is_deterministic(basic_registry, tmp_path):
    reg = basic_registry
    refs = [parse(reg.ref(t)) for t in ("22-alpine", "legacy", "amd64-only", "single")]
    with client(credentials=reg.credentials(tmp_path), concurrency=4) as c:
        out = c.resolve_many(refs)
        assert all(not isinstance(v, ResolveError) for v in out.values()), out
        assert c.request_count == 1 + 2 + 2 + 2 + 3


def test_basic_auth_bad_credentials(basic_registry, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    reg = basic_registry
    wrong = "wrong-" + reg.password
    with client(credentials=reg.credentials(tmp_path, password=wrong), retries=0) as c:
        with pytest.raises(ResolveError) as err:
            c.resolve(parse(reg.ref("22-alpine")))
    message = str(err.value)
    assert message.startswith(f"registry {reg.host} answered 401 for team/private: bad credentials")
    for text in (message, repr(err.value), caplog.text):
        assert wrong not in text and reg.password not in text


def test_basic_auth_without_credentials(basic_registry):
    with client() as c:
        with pytest.raises(ResolveError) as err:
            c.resolve(parse(basic_registry.ref("22-alpine")))
    assert "answered 401 for team/private: authentication required and no credentials found for" in str(err.value)


# -- Bearer token auth -------------------------------------------------------------------------


def test_bearer_anonymous(bearer_registry):
    reg, tokens = bearer_registry, bearer_registry.extra["tokens"]
    tokens.requests.clear()
    with client() as c:
        res = c.resolve(parse(reg.ref("22-alpine")))
        assert res.digest == reg.images["22-alpine"].digest
        assert c.request_count == 4  # HEAD 401, token, HEAD, GET index
        c.reset_counters()
        c.resolve(parse(reg.ref("legacy")))  # same repository: token reused
        assert c.request_count == 2
        c.reset_counters()
        c.resolve(parse(f"{reg.host}/library/other:22-alpine"))  # new repository: one token
        assert c.request_count == 3
    assert [r["query"]["scope"] for r in tokens.requests] == [["repository:library/node:pull"], ["repository:library/other:pull"]]
    assert all(r["authorization"] is None for r in tokens.requests)  # anonymous


def test_bearer_with_credentials_and_access_token_only(bearer_registry, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    reg, tokens = bearer_registry, bearer_registry.extra["tokens"]
    tokens.requests.clear()
    tokens.access_token_only = True
    try:
        with client(credentials=reg.credentials(tmp_path)) as c:
            res = c.resolve(parse(reg.ref("single")))
            assert res.digest == reg.images["single"].digest and res.platforms == ("linux/amd64",)
            assert "Credentials(" in repr(c._credentials_for(reg.host))
    finally:
        tokens.access_token_only = False
    assert tokens.requests[0]["authorization"].startswith("Basic ")
    for token in tokens.issued:
        assert token not in caplog.text
    assert reg.password not in caplog.text


def test_bearer_bad_credentials(bearer_registry, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    reg = bearer_registry
    wrong = "nope-" + reg.password
    with client(credentials=reg.credentials(tmp_path, password=wrong)) as c:
        out = c.resolve_many([parse(reg.ref("22-alpine"))])
    err = next(iter(out.values()))
    assert isinstance(err, ResolveError)
    assert str(err).startswith(f"registry {reg.host} answered 401 for library/node: bad credentials")
    for text in (str(err), repr(err), caplog.text):
        assert wrong not in text


# -- Concurrency figure --------------------------------------------------------------------------


def test_fifty_references_concurrently(open_registry, tmp_path, capsys):
    bench = open_registry.extra["bench"]
    refs = [parse(f"{open_registry.host}/bench/app:{tag}") for tag in bench]
    assert len(refs) == BENCH_REFS
    path = tmp_path / "digests.json"
    figures = {}
    for concurrency in (1, 8):
        with client(cache=DigestCache(path, refresh=True), concurrency=concurrency) as c:
            t0 = time.perf_counter()
            out = c.resolve_many(refs)
            figures[f"cold c={concurrency}"] = time.perf_counter() - t0
            assert c.request_count == 2 * BENCH_REFS
        for ref in refs:
            assert out[ref.canonical].digest == bench[ref.tag].digest == sha(bench[ref.tag].body)
    with client(cache=DigestCache(path)) as c:
        t0 = time.perf_counter()
        out = c.resolve_many(refs)
        figures["warm"] = time.perf_counter() - t0
        assert c.request_count == 0
    with capsys.disabled():
        print("\n[registry] 50 refs: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in figures.items()))
