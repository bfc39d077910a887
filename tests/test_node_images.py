"""The bundled facts about the official node image: tags, releases, archived Debian releases,
what the image contains per major, and the known breakages."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from dockerfix.fixer import node_images
from dockerfix.fixer.node_images import ABSENT, FROZEN, MAINTAINED, UNKNOWN, images

DAY = date(2026, 11, 26)


@pytest.mark.parametrize("tag,state", [
    ("26", MAINTAINED), ("26-slim", MAINTAINED), ("26-alpine", MAINTAINED), ("24-bookworm-slim", MAINTAINED),
    ("lts", MAINTAINED), ("lts-alpine", MAINTAINED), ("latest", MAINTAINED), (None, MAINTAINED),
    ("krypton-alpine3.24", MAINTAINED), ("jod", MAINTAINED), ("lithium-trixie-slim", MAINTAINED),
    ("24-bullseye", FROZEN), ("lts-alpine3.16", FROZEN), ("alpine3.20", FROZEN), ("carbon", FROZEN),
    ("16-buster-slim", FROZEN), ("lts-iron", FROZEN),
    ("26-alpine3.16", ABSENT), ("26-carbon", ABSENT), ("26-buster", ABSENT), ("24-onbuild", ABSENT),
    ("16.20.2-buster", UNKNOWN), ("99", UNKNOWN),
])
def test_tag_state(tag, state):
    assert images().tag_state(tag, DAY) == state


def test_tag_exists_is_one_function_and_the_registry_wins():
    facts = images()
    assert facts.tag_exists("24-alpine", DAY) is True and facts.tag_exists("26-carbon", DAY) is False
    assert facts.tag_exists("16.20.2", DAY) is None
    online = facts.with_registry_tags(["24-alpine", "16.20.2"])
    assert online.tag_state("24-alpine", DAY) == MAINTAINED
    assert online.tag_state("26-alpine", DAY) == ABSENT  # the registry does not list it
    assert online.tag_exists("16.20.2", DAY) is True


@pytest.mark.parametrize("image,label,archived", [
    ("node:16", "Debian 10 (buster)", True),
    ("node:14-stretch-slim", "Debian 9 (stretch)", True),
    ("node:10", "Debian 9 (stretch)", True),
    ("node:8", "Debian jessie/stretch", True),
    ("node:18-bullseye", "Debian 11 (bullseye)", False),
    ("node:24", "Debian 12 (bookworm)", False),
    ("node:26-slim", "Debian 13 (trixie)", False),
    ("node:lts-alpine", "Alpine 3.24", False),
    ("node:16-alpine3.16", "Alpine 3.16", False),
    ("debian:10-slim", "Debian 10 (buster)", True),
    ("debian:jessie", "Debian 8 (jessie)", True),
    ("python:3.8-buster", "Debian 10 (buster)", True),
])
def test_distributions(image, label, archived):
    d = images().distro_of_image(image, DAY)
    assert d is not None and d.label == label and d.archived is archived
    assert (images().archived_release(image) is not None) is archived


def test_unknown_distribution_is_none():
    assert images().distro_of_image("ubuntu:22.04") is None
    assert images().distro_of_image("node:24-windowsservercore-ltsc2022", DAY) is None


def test_package_managers_in_the_image():
    facts = images()
    assert facts.has_yarn(24) is True and facts.has_yarn(26) is False and facts.has_yarn(28) is False
    assert facts.has_corepack(24) is True and facts.has_corepack(25) is False and facts.has_corepack(26) is False
    assert facts.has_corepack(12) is False


@pytest.mark.parametrize("package,version,major,breaks", [
    ("react-scripts", "4.0.3", 22, True), ("react-scripts", "5.0.1", 22, False), ("react-scripts", "4.0.3", 16, False),
    ("webpack", "4.46.0", 18, True), ("webpack", "5.90.0", 26, False),
    ("node-sass", "9.0.0", 20, False), ("node-sass", "9.0.0", 22, True), ("node-sass", "4.14.1", 16, True),
])
def test_breakages(package, version, major, breaks):
    b = next(b for b in images().breakages if b.package == package)
    assert b.breaks(version, major) is breaks


def test_every_fact_names_a_dated_source():
    data = json.loads((node_images.resources.files("dockerfix.fixer") / "data/node_images.json").read_text())
    sources = data["sources"]
    assert all(s.get("where") and s.get("date") for s in sources.values())
    for m in data["majors"].values():
        assert m["sources"] and set(m["sources"]) <= set(sources)
    for d in data["distributions"].values():
        assert d["source"] in sources
    for b in data["breakages"]:
        assert b["source"] in sources
    date.fromisoformat(data["as_of"])


def test_loaded_once_and_fast():
    images.cache_clear()
    t0 = time.perf_counter()
    first = images()
    assert time.perf_counter() - t0 < 0.5
    assert images() is first


@pytest.mark.parametrize("tag,major,alias,variant", [
    (None, None, "latest", ""), ("lts-alpine", None, "lts", "alpine"), ("current-slim", None, "current", "slim"),
    ("alpine3.20", None, "latest", "alpine3.20"), ("carbon", 8, None, ""), ("lts-gallium", 16, None, ""),
    ("boron-alpine", 6, None, "alpine"), ("lts-argon", 4, None, ""), ("0.10", 0, None, ""),
    ("0.12-slim", 0, None, "slim"), ("16.20.2-alpine3.18", 16, None, "alpine3.18"), ("iron-bookworm-slim", 20, None, "bookworm-slim"),
])
def test_parse_tag(tag, major, alias, variant):
    p = images().parse_tag(tag)
    assert (p.major, p.alias, p.variant) == (major, alias, variant)
