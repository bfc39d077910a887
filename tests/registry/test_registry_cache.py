"""DigestCache: TTL, refresh, atomic writes, corrupt files, keys per registry."""

import json

from dockerfix.fixer.cache import DigestCache, default_cache_path

D = "sha256:" + "1" * 64


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_default_path(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_path() == tmp_path / "dockerfix" / "digests.json"


def test_roundtrip_ttl_and_refresh(tmp_path):
    clock = Clock()
    path = tmp_path / "sub" / "digests.json"
    c = DigestCache(path, ttl=60, clock=clock)
    c.put_tag("http://r", "library/node", "22", D, "mt")
    c.put_content("http://r", "library/node", D, {"kind": "index"})
    c.save()
    assert [p.name for p in path.parent.iterdir()] == ["digests.json"]  # no temp file left
    again = DigestCache(path, ttl=60, clock=clock)
    assert again.get_tag("http://r", "library/node", "22") == {"digest": D, "media_type": "mt"}
    assert again.get_tag("http://mirror", "library/node", "22") is None  # key includes the registry
    clock.now += 61
    assert again.get_tag("http://r", "library/node", "22") is None  # expired
    assert again.get_content("http://r", "library/node", D) == {"kind": "index"}  # content does not expire
    assert DigestCache(path, refresh=True, clock=clock).get_content("http://r", "library/node", D) is None


def test_corrupt_file_is_ignored_with_warning(tmp_path, caplog):
    path = tmp_path / "digests.json"
    path.write_text("{ definitely not json")
    c = DigestCache(path)
    assert c.get_tag("http://r", "x", "1") is None
    assert "corrupt" in caplog.text
    c.put_tag("http://r", "x", "1", D, "mt")
    c.save()
    assert json.loads(path.read_text())["version"] == 1


def test_save_merges_other_writers(tmp_path):
    path = tmp_path / "digests.json"
    a, b = DigestCache(path), DigestCache(path)
    a.put_tag("http://r", "x", "1", D, "mt")
    a.save()
    b.put_tag("http://r", "x", "2", D, "mt")
    b.save()
    fresh = DigestCache(path)
    assert fresh.get_tag("http://r", "x", "1") and fresh.get_tag("http://r", "x", "2")


def test_recheck_tags_asks_every_tag_again_but_keeps_contents(tmp_path):
    """``--update-pins``: a cached tag answer may predate the tag's move, so tags are asked again;
    what a digest contains never changes, so contents still come from the cache."""
    path = tmp_path / "digests.json"
    c = DigestCache(path)
    c.put_tag("http://r", "library/node", "22", D, "mt")
    c.put_content("http://r", "library/node", D, {"kind": "index"})
    c.save()
    recheck = DigestCache(path, recheck_tags=True)
    assert recheck.get_tag("http://r", "library/node", "22") is None
    assert recheck.get_content("http://r", "library/node", D) == {"kind": "index"}
    recheck.put_tag("http://r", "library/node", "23", D, "mt")  # answers are still written for later runs
    recheck.save()
    assert DigestCache(path).get_tag("http://r", "library/node", "23") == {"digest": D, "media_type": "mt"}


def test_tag_lists_expire_like_tags_and_failures_sooner(tmp_path):
    from dockerfix.fixer.cache import LIST_FAILURE_TTL

    clock = Clock()
    path = tmp_path / "digests.json"
    (tmp_path / "old.json").write_text(json.dumps({"version": 1, "tags": {}, "content": {}}))
    assert DigestCache(tmp_path / "old.json").get_list("http://r", "library/node") is None  # a file of before
    c = DigestCache(path, ttl=3600, clock=clock)
    c.put_list("http://r", "library/node", ["22", "24-alpine"])
    c.put_list("http://down", "library/node", error="cannot reach registry down")
    c.save()
    again = DigestCache(path, ttl=3600, clock=clock)
    assert again.get_list("http://r", "library/node") == {"tags": ["22", "24-alpine"]}
    assert again.get_list("http://mirror", "library/node") is None  # key includes the registry
    assert again.get_list("http://down", "library/node") == {"error": "cannot reach registry down", "age": 0}
    assert DigestCache(path, refresh=True, clock=clock).get_list("http://r", "library/node") is None
    clock.now += LIST_FAILURE_TTL + 1
    assert again.get_list("http://down", "library/node") is None  # the failure is asked again soon
    assert again.get_list("http://r", "library/node") == {"tags": ["22", "24-alpine"]}
    clock.now += 3600
    assert again.get_list("http://r", "library/node") is None  # the list expires with the tag TTL
