"""Online, the tags that exist are the registry's: DFX003 reads ``library/node``'s tag list (every
page) through the registry client before the pipeline, against a real ``docker-registry``; when
the list cannot be had, a note says so and the bundled table alone decides."""

from __future__ import annotations

import pytest

from dockerfix.fixer.node_releases import bundled
from dockerfix.fixer.registry import RegistryClient, ResolveError
from dockerfix.fixer.session import Mode, Session, discover

from .servers import Reply

pytestmark = pytest.mark.registry

SEEDED = {"22-alpine", "legacy", "single", "amd64-only"}  # seed_standard's tags


def test_list_tags_of_a_real_registry(open_registry):
    with RegistryClient(mirrors={"docker.io": open_registry.base_url}, credentials=lambda _h: None) as client:
        assert sorted(client.list_tags("library/node")) == sorted(SEEDED)


def test_list_tags_follows_the_next_links(fake_registry):
    """docker-registry 2.8 (the one packaged here) answers every tag in one page; Docker Hub pages
    them with ``Link: <...>; rel="next"`` (distribution 3), scripted here."""
    srv = fake_registry()
    path = "/v2/library/node/tags/list"
    head = {"Content-Type": "application/json"}
    srv.add("GET", path,
            Reply(200, {**head, "Link": f'<{path}?last=22&n=2>; rel="next"'}, b'{"name":"library/node","tags":["20","22"]}'),
            Reply(200, {**head, "Link": f'<{path}?last=24&n=2>; rel="next"'}, b'{"name":"library/node","tags":["24"]}'),
            Reply(200, head, b'{"name":"library/node","tags":null}'))
    with RegistryClient(mirrors={"docker.io": srv.base_url}, credentials=lambda _h: None, retries=0) as client:
        assert client.list_tags("library/node", page_size=2) == ["20", "22", "24"]
    assert [p for m, p, _h in srv.log] == [path] * 3


def test_a_malformed_tag_list_is_an_error(fake_registry):
    srv = fake_registry()
    srv.add("GET", "/v2/library/node/tags/list", Reply(200, {"Content-Type": "application/json"}, b'{"tags": [1]}'))
    with RegistryClient(mirrors={"docker.io": srv.base_url}, credentials=lambda _h: None, retries=0) as client:
        with pytest.raises(ResolveError, match="malformed tag list"):
            client.list_tags("library/node")


def _session_run(tmp_path, monkeypatch, mirror: str) -> tuple[object, list[str]]:
    (tmp_path / "Dockerfile").write_text('FROM node:lts-alpine\nCMD ["node", "server.js"]\n')
    monkeypatch.setenv("DOCKERFIX_REGISTRY_MIRROR", f"docker.io={mirror}")
    monkeypatch.setenv("DOCKERFIX_NO_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker"))
    notes: list[str] = []
    session = Session(mode=Mode.diff, select=["DFX003"], on_note=notes.append)
    session._node_table = bundled()  # the release schedule is not what this test is about
    targets, _ = discover([str(tmp_path / "Dockerfile")])
    [(outcome, _src)] = list(session.run(targets))
    return outcome, notes


def test_a_tag_the_registry_does_not_list_is_not_written(open_registry, tmp_path, monkeypatch):
    outcome, notes = _session_run(tmp_path, monkeypatch, open_registry.base_url)
    assert outcome.result.after == outcome.result.before  # the registry has no node:<LTS>-alpine
    assert any("-alpine` is not a published tag" in s.reason for s in outcome.result.skips), outcome.result.skips
    assert not any("tag list" in n for n in notes)


def test_without_the_tag_list_the_bundled_table_decides(tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome, notes = _session_run(tmp_path, monkeypatch, f"http://127.0.0.1:{port}")
    assert "FROM node:lts-alpine" not in outcome.result.after  # the table proves node:<LTS>-alpine exists
    assert any("the tag list of library/node could not be read" in n for n in notes), notes


def _tags_route(srv) -> str:
    path = "/v2/library/node/tags/list"
    srv.add("GET", path, Reply(200, {"Content-Type": "application/json"}, b'{"name":"library/node","tags":["22","24"]}'))
    return path


def test_the_tag_list_is_cached_on_disk(fake_registry, tmp_path):
    """One listing per cache lifetime: later runs (new clients) read it from the digest cache's
    file; --refresh asks again; --offline neither asks nor reads the cache."""
    from dockerfix.fixer.cache import DigestCache

    srv = fake_registry()
    path = _tags_route(srv)
    cache = tmp_path / "digests.json"

    def client(**kw):
        return RegistryClient(mirrors={"docker.io": srv.base_url}, credentials=lambda _h: None, retries=0, **kw)

    for _run in range(2):
        with client(cache=DigestCache(cache)) as c:
            assert c.list_tags("library/node") == ["22", "24"]
    assert [p for _m, p, _h in srv.log] == [path]
    with client(cache=DigestCache(cache, refresh=True)) as c:
        assert c.list_tags("library/node") == ["22", "24"]
    assert len(srv.log) == 2
    with client(cache=DigestCache(cache), offline=True) as c, pytest.raises(ResolveError, match="offline"):
        c.list_tags("library/node")
    assert len(srv.log) == 2


def test_a_failed_listing_is_remembered_briefly(fake_registry, tmp_path):
    """A registry that cannot list (here a mirror without tags/list: 404; the same for one that
    does not answer) is not asked again by every run for a while; the message says so."""
    from dockerfix.fixer.cache import DigestCache

    srv = fake_registry()  # no route: every path answers 404
    cache = tmp_path / "digests.json"
    with RegistryClient(mirrors={"docker.io": srv.base_url}, credentials=lambda _h: None, retries=0,
                        cache=DigestCache(cache)) as c:
        with pytest.raises(ResolveError) as first:
            c.list_tags("library/node")
    with RegistryClient(mirrors={"docker.io": srv.base_url}, credentials=lambda _h: None, retries=0,
                        cache=DigestCache(cache)) as c:
        with pytest.raises(ResolveError) as second:
            c.list_tags("library/node")
    assert len(srv.log) == 1
    assert second.value.message.startswith(first.value.message)
    assert "that was less than a minute ago, asked again after 10 min or with --refresh" in second.value.message


def test_an_unreachable_registry_costs_one_attempt_per_failure_ttl(tmp_path, monkeypatch):
    """Online runs while the registry cannot be reached: the first waits for the failure, the next
    ones read it from the cache (no connection) and the bundled table decides, with a note."""
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "Dockerfile").write_text('FROM node:22-alpine@sha256:' + "ab" * 32 + '\nCMD ["node", "server.js"]\n')
    monkeypatch.setenv("DOCKERFIX_REGISTRY_MIRROR", f"docker.io=http://127.0.0.1:{port}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker"))
    monkeypatch.delenv("DOCKERFIX_NO_CACHE", raising=False)
    attempts = []
    real = RegistryClient._list_tags

    def counting(self, *a, **kw):
        attempts.append(a)
        return real(self, *a, **kw)

    monkeypatch.setattr(RegistryClient, "_list_tags", counting)
    notes_of_runs = []
    for _run in range(2):
        notes: list[str] = []
        session = Session(mode=Mode.check, select=["DFX003"], on_note=notes.append)
        session._node_table = bundled()
        targets, _ = discover([str(tmp_path / "Dockerfile")])
        [(outcome, _src)] = list(session.run(targets))
        assert outcome.status != "error", outcome.error
        notes_of_runs.append(notes)
    assert len(attempts) == 1
    assert any("the tag list of library/node could not be read (cannot reach registry" in n for n in notes_of_runs[0])
    assert any("minute ago, asked again after 10 min or with --refresh" in n for n in notes_of_runs[1]), notes_of_runs
