"""ImageRef parsing, normalisation and short-form rendering."""

import pytest
from dockerfix.fixer.imageref import ImageRefError, is_valid_digest, parse

D = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "text, domain, path, canonical",
    [
        ("node", "docker.io", "library/node", "docker.io/library/node:latest"),
        ("node:22-alpine", "docker.io", "library/node", "docker.io/library/node:22-alpine"),
        ("bitnami/redis", "docker.io", "bitnami/redis", "docker.io/bitnami/redis:latest"),
        ("index.docker.io/node", "docker.io", "library/node", "docker.io/library/node:latest"),
        ("docker.io/library/node:20", "docker.io", "library/node", "docker.io/library/node:20"),
        ("ghcr.io/o/r:1", "ghcr.io", "o/r", "ghcr.io/o/r:1"),
        ("localhost/foo", "localhost", "foo", "localhost/foo:latest"),
        ("myreg:5000/foo", "myreg:5000", "foo", "myreg:5000/foo:latest"),
        ("127.0.0.1:5000/a/b/c:v1.2", "127.0.0.1:5000", "a/b/c", "127.0.0.1:5000/a/b/c:v1.2"),
        ("[::1]:5000/x", "[::1]:5000", "x", "[::1]:5000/x:latest"),
        (f"node@{D}", "docker.io", "library/node", f"docker.io/library/node@{D}"),
        (f"node:22@{D}", "docker.io", "library/node", f"docker.io/library/node:22@{D}"),
        ("my_org/app__x-y.z:tag_1", "docker.io", "my_org/app__x-y.z", "docker.io/my_org/app__x-y.z:tag_1"),
    ],
)
def test_parse_normalises(text, domain, path, canonical):
    ref = parse(text)
    assert (ref.domain, ref.path, ref.canonical) == (domain, path, canonical)
    assert ref.format() == text  # as written, never expanded


def test_fields_as_written():
    ref = parse(f"node:22-alpine@{D}")
    assert (ref.name, ref.tag, ref.digest) == ("node", "22-alpine", D)
    assert ref.lookup == "22-alpine"  # a pinned tag is looked up by tag (did it move?)
    assert parse(f"node@{D}").lookup == D
    assert parse("node").lookup == "latest"


def test_format_keeps_short_form():
    ref = parse("node:22-alpine")
    assert ref.format(digest=D) == f"node:22-alpine@{D}"
    assert parse("index.docker.io/library/node:22").format(digest=D) == f"index.docker.io/library/node:22@{D}"
    assert parse(f"node:22@{D}").format(digest=False) == "node:22"
    assert parse(f"node:22@{D}").format(tag=False) == f"node@{D}"
    assert parse("node:22").format(tag="22.11.0-alpine3.20") == "node:22.11.0-alpine3.20"
    assert str(parse("node:22").with_digest(D)) == f"node:22@{D}"
    with pytest.raises(ImageRefError):
        ref.format(digest="sha256:1234")
    with pytest.raises(ImageRefError):
        ref.format(tag="bad tag")


def test_scratch():
    assert parse("scratch").is_scratch
    assert not parse("scratch:1").is_scratch
    assert not parse("node").is_scratch


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty"),
        ("Node", "lowercase"),
        ("foo/Bar", "lowercase"),
        ("node@sha256:abc", "invalid digest"),
        (f"node@sha256:{'A' * 64}", "invalid digest"),
        (f"node@sha512:{'a' * 128}", "only sha256"),
        ("node@", "empty digest"),
        ("a" * 64, "64-byte"),
        ("node:$VERSION", "variable"),
        ("${BASE}", "variable"),
        ("node:-bad", "invalid tag"),
        ("node:" + "x" * 129, "invalid tag"),
        ("no de", "whitespace"),
        ("ghcr.io/", "invalid repository"),
        ("x/" * 130 + "y", "longer than"),
        ("-host.example/x", "invalid"),
    ],
)
def test_invalid(text, fragment):
    with pytest.raises(ImageRefError) as err:
        parse(text)
    assert fragment in str(err.value)


def test_digest_validation():
    assert is_valid_digest(D)
    assert not is_valid_digest(D.upper())
    assert not is_valid_digest(D[:-1])
    assert not is_valid_digest("md5:" + "a" * 64)
