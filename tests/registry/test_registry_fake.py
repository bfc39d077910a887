"""RegistryClient against scripted registries: behaviours a real registry will not produce on
demand (retries, timeouts, rate limits, wrong digests, huge or malformed bodies, redirects)."""

import hashlib
import json
import logging
import time

import pytest
from dockerfix.fixer.credentials import Credentials
from dockerfix.fixer.imageref import parse
from dockerfix.fixer.registry import (
    ACCEPT,
    HostSkipped,
    RegistryClient,
    ResolveError,
    parse_challenges,
    parse_mirrors,
)

from .seed import no_credentials
from .servers import Reply

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CHILD = "sha256:" + "c" * 64
INDEX = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
    {"mediaType": OCI_MANIFEST, "digest": CHILD, "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
    {"mediaType": OCI_MANIFEST, "digest": "sha256:" + "d" * 64, "size": 1,
     "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
]}).encode()
INDEX_DIGEST = "sha256:" + hashlib.sha256(INDEX).hexdigest()
USER, PASSWORD = "fake-user", "fake-pw-7c1e9a"


def client(**kw) -> RegistryClient:
    kw.setdefault("mirrors", {})
    kw.setdefault("credentials", no_credentials)
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 2)
    return RegistryClient(**kw)


def creds_for(host):
    return lambda h: Credentials(USER, PASSWORD, "test") if h == host else None


def ref(srv, tag="22"):
    return parse(f"{srv.host}/library/node:{tag}")


def test_accept_header_lists_all_four_types(fake_registry):
    srv = fake_registry()
    srv.serve_manifest("library/node", "22", INDEX, OCI_INDEX)
    with client() as c:
        res = c.resolve(ref(srv), platforms=["linux/amd64", "linux/arm"])
    assert res.digest == INDEX_DIGEST and res.missing_platforms == ()
    assert res.platforms == ("linux/amd64", "linux/arm/v7")
    for _method, _path, headers in srv.log:
        assert headers["Accept"] == ACCEPT
    assert len(ACCEPT.split(", ")) == 4


def test_500_then_200_is_retried(fake_registry):
    srv = fake_registry()
    srv.serve_manifest("library/node", "22", INDEX, OCI_INDEX)
    good = srv.routes[("HEAD", "/v2/library/node/manifests/22")][0]
    srv.add("HEAD", "/v2/library/node/manifests/22", Reply(500), Reply(503), good)
    with client(retries=2) as c:
        assert c.resolve(ref(srv)).digest == INDEX_DIGEST
        assert c.request_count == 4  # HEAD 500, HEAD 503, HEAD 200, GET index


def test_5xx_exhausts_retries(fake_registry):
    srv = fake_registry()
    srv.add("HEAD", "/v2/library/node/manifests/22", Reply(502))
    with client(retries=2) as c:
        with pytest.raises(ResolveError) as err:
            c.resolve(ref(srv))
        assert c.request_count == 3
    assert str(err.value) == f"registry {srv.host} answered 502 for library/node: unexpected answer"


def test_timeout_is_not_retried_and_skips_the_rest_of_the_host(fake_registry):
    srv = fake_registry()
    srv.add("HEAD", "/v2/library/node/manifests/22", Reply(200, delay=1.5))
    with client(timeout=0.3, retries=2) as c:
        t0 = time.perf_counter()
        with pytest.raises(ResolveError) as err:
            c.resolve(ref(srv))
        assert time.perf_counter() - t0 < 1.5
        assert c.request_count == 1  # a timeout trips the host's circuit breaker: no retry
        with pytest.raises(HostSkipped) as skipped:
            c.resolve(ref(srv, "20"))
        assert c.request_count == 1
    assert str(err.value) == f"registry {srv.host} timed out after 0.3s for library/node:22"
    assert str(skipped.value) == (f"registry {srv.host} not contacted for library/node:20: {srv.host} timed out "
                                  "after 0.3s earlier in this run, so its other look-ups are skipped")


def test_429_honours_retry_after(fake_registry):
    srv = fake_registry()
    srv.serve_manifest("library/node", "22", INDEX, OCI_INDEX)
    good = srv.routes[("HEAD", "/v2/library/node/manifests/22")][0]
    srv.add("HEAD", "/v2/library/node/manifests/22", Reply(429, {"Retry-After": "1"}), good)
    with client(retries=1, backoff=0) as c:
        t0 = time.perf_counter()
        assert c.resolve(ref(srv)).digest == INDEX_DIGEST
        assert time.perf_counter() - t0 >= 0.95


def test_retry_after_is_capped(fake_registry):
    srv = fake_registry()
    srv.add("HEAD", "/v2/library/node/manifests/22", Reply(429, {"Retry-After": "3600"}))
    with client(retries=1, max_retry_after=0.2) as c:
        t0 = time.perf_counter()
        with pytest.raises(ResolveError, match="answered 429 for library/node: too many requests"):
            c.resolve(ref(srv))
        assert time.perf_counter() - t0 < 2


def test_wrong_digest_header_is_an_error(fake_registry):
    srv = fake_registry()
    liar = "sha256:" + "e" * 64
    srv.serve_manifest("library/node", "22", INDEX, OCI_INDEX, digest_header=liar)
    with client() as c:
        with pytest.raises(ResolveError, match="served digest does not match the manifest"):
            c.resolve(ref(srv))


def test_missing_digest_header_falls_back_to_get(fake_registry):
    srv = fake_registry()
    srv.serve_manifest("library/node", "22", INDEX, OCI_INDEX, digest_header=None)
    with client() as c:
        res = c.resolve(ref(srv))
        assert res.digest == INDEX_DIGEST
        assert [line.split()[0] for line in c.request_log] == ["HEAD", "GET"]
        assert c.request_log[1].endswith("/manifests/22")


def test_get_with_wrong_header_after_missing_head_header(fake_registry):
    srv = fake_registry()
    srv.add("HEAD", "/v2/library/node/manifests/22", Reply(200, {"Content-Type": OCI_INDEX}))
    srv.add("GET", "/v2/library/node/manifests/22",
            Reply(200, {"Content-Type": OCI_INDEX, "Docker-Content-Digest": "sha256:" + "f" * 64}, INDEX))
    with client() as c:
        with pytest.raises(ResolveError, match="served digest does not match the manifest"):
            c.resolve(ref(srv))


@pytest.mark.parametrize("with_length", [True, False])
def test_huge_response_is_refused(fake_registry, with_length):
    srv = fake_registry()
    srv.add("HEAD", "/v2/library/node/manifests/22", Reply(200, {"Content-Type": OCI_INDEX}))
    srv.add("GET", "/v2/library/node/manifests/22",
            Reply(200, {"Content-Type": OCI_INDEX}, b" " * (6 * 1024 * 1024), length=with_length))
    with client() as c:
        with pytest.raises(ResolveError, match="larger than|bytes, more than"):
            c.resolve(ref(srv))


def test_malformed_json(fake_registry):
    srv = fake_registry()
    srv.serve_manifest("library/node", "22", b'{"schemaVersion": 2, "manifests": [', OCI_INDEX)
    with client() as c:
        with pytest.raises(ResolveError, match="returned a manifest for library/node@sha256:.* that is not valid JSON"):
            c.resolve(ref(srv))


def test_content_type_and_media_type_disagree(fake_registry):
    srv = fake_registry()
    srv.serve_manifest("library/node", "22", INDEX, OCI_MANIFEST)
    with client() as c:
        with pytest.raises(ResolveError, match="Content-Type .*oci.image.manifest.* but mediaType .*index"):
            c.resolve(ref(srv))


def test_connection_refused(fake_registry):
    srv = fake_registry()
    host = srv.host
    srv.stop()
    with client(retries=1) as c:
        with pytest.raises(ResolveError, match=f"cannot reach registry {host} for library/node:22: connection refused"):
            c.resolve(parse(f"{host}/library/node:22"))


def test_redirect_to_other_host_never_forwards_credentials(fake_registry):
    target = fake_registry()
    target.serve_manifest("library/node", "22", INDEX, OCI_INDEX)
    origin = fake_registry(require_basic=(USER, PASSWORD))
    for method, path in [("HEAD", "/v2/library/node/manifests/22"), ("GET", f"/v2/library/node/manifests/{INDEX_DIGEST}")]:
        origin.add(method, path, Reply(307, {"Location": f"{target.base_url}{path}"}))
    with client(credentials=creds_for(origin.host)) as c:
        res = c.resolve(ref(origin))
    assert res.digest == INDEX_DIGEST
    assert any("Authorization" in h for _, _, h in origin.log)  # the origin did get them
    assert target.log and all("Authorization" not in h for _, _, h in target.log)


def test_redirect_target_asking_for_auth_gets_nothing(fake_registry, caplog):
    caplog.set_level(logging.DEBUG)
    target = fake_registry(require_basic=("someone", "else"))
    origin = fake_registry(require_basic=(USER, PASSWORD))
    origin.add("HEAD", "/v2/library/node/manifests/22",
               Reply(307, {"Location": f"{target.base_url}/v2/library/node/manifests/22"}))
    with client(credentials=creds_for(origin.host)) as c:
        with pytest.raises(ResolveError) as err:
            c.resolve(ref(origin))
    assert f"redirected to {target.host}" in str(err.value)
    assert "credentials are not forwarded" in str(err.value)
    assert all("Authorization" not in h for _, _, h in target.log)
    assert PASSWORD not in caplog.text and PASSWORD not in str(err.value)


def test_clear_text_credentials_only_to_loopback(fake_registry):
    srv = fake_registry()
    srv.add("HEAD", "/v2/library/node/manifests/22",
            Reply(401, {"WWW-Authenticate": 'Bearer realm="http://auth.example.invalid/token",service="x"'}))
    with client(credentials=creds_for(srv.host)) as c:
        with pytest.raises(ResolveError, match="refusing to send credentials in clear text to token server auth.example.invalid"):
            c.resolve(ref(srv))
        assert c.request_count == 1  # nothing was sent to the realm


def test_server_error_text_is_redacted(fake_registry):
    """A registry echoing the password back in its error body must not leak it into our message."""
    srv = fake_registry()
    body = json.dumps({"errors": [{"code": "DENIED", "message": f"user {USER} with password {PASSWORD} denied"}]}).encode()
    # HEAD not allowed -> GET the tag: 401 Basic challenge, then 403 with the echoing body.
    srv.add("HEAD", "/v2/library/node/manifests/22", Reply(405))
    srv.add("GET", "/v2/library/node/manifests/22",
            Reply(401, {"WWW-Authenticate": 'Basic realm="x"'}), Reply(403, {"Content-Type": "application/json"}, body))
    with client(credentials=creds_for(srv.host)) as c:
        with pytest.raises(ResolveError) as err:
            c.resolve(ref(srv))
    assert "DENIED" in str(err.value) and PASSWORD not in str(err.value) and "***" in str(err.value)


def test_resolve_many_never_raises_and_bounds_concurrency(fake_registry):
    srv = fake_registry()
    for i in range(12):
        srv.serve_manifest("library/node", f"t{i}", INDEX, OCI_INDEX)
        srv.routes[("HEAD", f"/v2/library/node/manifests/t{i}")][0].delay = 0.2
    srv.add("HEAD", "/v2/library/node/manifests/bad", Reply(500))
    refs = [ref(srv, f"t{i}") for i in range(12)] + [ref(srv, "bad")]
    with client(concurrency=4, retries=0) as c:
        t0 = time.perf_counter()
        out = c.resolve_many(refs)
        elapsed = time.perf_counter() - t0
    assert isinstance(out[refs[-1].canonical], ResolveError)
    assert all(out[r.canonical].digest == INDEX_DIGEST for r in refs[:-1])
    assert 0.55 < elapsed < 2.0  # 12 slow HEADs, 4 at a time: about 3 x 0.2 s


def test_parse_challenges():
    got = parse_challenges([
        'Bearer realm="https://codeberg.org/v2/token",service="container_registry",scope="*",Basic realm="https://codeberg.org/v2",service="container_registry",scope="*"',
        'Basic realm="Artifactory Realm"',
    ])
    assert got == [
        ("bearer", {"realm": "https://codeberg.org/v2/token", "service": "container_registry", "scope": "*"}),
        ("basic", {"realm": "https://codeberg.org/v2", "service": "container_registry", "scope": "*"}),
        ("basic", {"realm": "Artifactory Realm"}),
    ]


def test_mirrors_and_base_urls(monkeypatch):
    assert parse_mirrors("docker.io=http://127.0.0.1:5000/, ghcr.io=https://m.example") == {
        "docker.io": "http://127.0.0.1:5000", "ghcr.io": "https://m.example"}
    for bad in ("docker.io", "docker.io=http://mirror.example", "docker.io=https://u:p@m.example", "x=ftp://h"):
        with pytest.raises(ValueError) as err:
            parse_mirrors(bad)
        assert "u:p" not in str(err.value)
    monkeypatch.delenv("DOCKERFIX_REGISTRY_MIRROR", raising=False)
    c = RegistryClient(credentials=no_credentials)
    assert c.base_url("docker.io") == "https://registry-1.docker.io"
    assert c.base_url("ghcr.io") == "https://ghcr.io"
    assert c.base_url("localhost:5000") == "http://localhost:5000"
    assert c.base_url("127.0.0.2:5000") == "http://127.0.0.2:5000"
    assert c.base_url("[::1]:5000") == "http://[::1]:5000"


def test_identity_token_uses_oauth_refresh_grant(fake_registry):
    srv = fake_registry()
    srv.serve_manifest("library/node", "22", INDEX, OCI_INDEX)
    head = srv.routes[("HEAD", "/v2/library/node/manifests/22")][0]
    challenge = {"WWW-Authenticate": 'Bearer realm="http://127.0.0.1:{port}/token",service="fake"'}
    srv.add("HEAD", "/v2/library/node/manifests/22", Reply(401, challenge), head)
    srv.add("POST", "/token",
            Reply(200, {"Content-Type": "application/json"}, b'{"access_token":"acc-tok-123","expires_in":300}'))
    refresh = "refresh-tok-" + "9" * 8
    with client(credentials=lambda h: Credentials("<token>", refresh, "test")) as c:
        assert c.resolve(ref(srv)).digest == INDEX_DIGEST
    posts = srv.requests("POST")
    assert len(posts) == 1 and "Authorization" not in posts[0][2]
    heads = srv.requests("HEAD")
    assert heads[-1][2]["Authorization"] == "Bearer acc-tok-123"


def test_figure_fifty_refs_with_latency(fake_registry, capsys):
    """A figure, not a pass/fail timing: 50 references, 2 requests each, 30 ms per answer."""
    srv = fake_registry()
    for i in range(50):
        srv.serve_manifest("library/node", f"t{i}", INDEX, OCI_INDEX)
    for replies in srv.routes.values():
        replies[0].delay = 0.03
    refs = [ref(srv, f"t{i}") for i in range(50)]
    figures = {}
    for concurrency in (1, 8, 16):
        # a generous timeout: on a loaded machine a 2 s one trips the breaker and the figure means nothing
        with client(concurrency=concurrency, timeout=15) as c:
            t0 = time.perf_counter()
            out = c.resolve_many(refs)
            figures[concurrency] = time.perf_counter() - t0
            assert c.request_count == 100 and all(not isinstance(v, ResolveError) for v in out.values())
    with capsys.disabled():
        print("\n[registry] 50 refs, 30 ms/answer: " + ", ".join(f"c={k} {v * 1000:.0f} ms" for k, v in figures.items()))
