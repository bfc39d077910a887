"""Focused tests for DFX012 slim-runtime (the fixtures under fixtures/slim-runtime/ cover whole files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockerfix.fixer.config import Config, ConfigError, parse_config
from dockerfix.fixer.facts import ContextFiles
from dockerfix.fixer.context import Context, PackageJson, load_context
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Fix, Skip, apply_edits
from dockerfix.fixer.facts import LockFacts
from dockerfix.transforms import ALL
from dockerfix.transforms._shell import programs_in
from dockerfix.transforms.dfx012_slim_runtime import SlimRuntime, classify_tag, target_tag

BUILD = "FROM node:22 AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n\n"


@pytest.mark.parametrize("tag, slim, alpine", [
    ("22", "22-slim", "22-alpine"),
    ("22-bookworm", "22-bookworm-slim", "22-alpine"),
    ("22.11.0-bullseye", "22.11.0-bullseye-slim", "22.11.0-alpine"),
    ("lts-trixie", "lts-trixie-slim", "lts-alpine"),
    ("jod", "jod-slim", "jod-alpine"),
    ("iron-bookworm", "iron-bookworm-slim", "iron-alpine"),
    ("current", "current-slim", "current-alpine"),
    ("latest", "slim", "alpine"),
    (None, "slim", "alpine"),
    ("bookworm", "bookworm-slim", "alpine"),
])
def test_full_tags_map_to_the_same_line_and_release(tag, slim, alpine):
    assert classify_tag(tag)[0] == "full"
    assert target_tag(tag, "slim") == slim
    assert target_tag(tag, "alpine") == alpine


@pytest.mark.parametrize("tag, kind", [
    ("22-slim", "slim"), ("22-bookworm-slim", "slim"), ("slim", "slim"), ("22-alpine", "alpine"),
    ("22-alpine3.20", "alpine"), ("22-windowsservercore-ltsc2022", "other"),
])
def test_other_variants_are_recognised(tag, kind):
    assert classify_tag(tag)[0] == kind


@pytest.mark.parametrize("tag", ["22-custom", "22-bookworm-onbuild", "myapp", "22-sid", "22-bookworm-slim-x"])
def test_unknown_tags_are_not_guessed(tag):
    assert classify_tag(tag) is None


def test_first_programs_sees_commands_not_arguments():
    text = 'set -e\n# curl is not used here\nexport A=1 && FOO=bar exec node x.js | tee log; echo curl\n' \
           'timeout 5 wget -q -O- http://x || sh -c "git pull"\n$(/usr/bin/ps aux)'
    progs = programs_in(text)
    assert "curl" not in progs
    assert {"node", "tee", "echo", "wget", "sh", "git", "ps"} <= set(progs)


def _run(text: str, c: Context) -> tuple[str, list[Fix], list[Skip]]:
    out = list(SlimRuntime().fix(parse(text), c))
    fixes = [f for f in out if isinstance(f, Fix)]
    return apply_edits(text, [e for f in fixes for e in f.edits]), fixes, [s for s in out if isinstance(s, Skip)]


def _ctx(**kw) -> Context:
    kw.setdefault("lock", LockFacts(3, production=frozenset({"express"})))
    return Context(package=PackageJson({"dependencies": {"express": "4"}}), lockfile="package-lock.json",
                   lock_kind="npm", **kw)


def test_written_name_and_platform_flag_are_kept():
    text = BUILD + 'FROM --platform=$TARGETPLATFORM docker.io/library/node:22\nCMD ["node", "server.js"]\n'
    out, fixes, _ = _run(text, _ctx())
    assert "FROM --platform=$TARGETPLATFORM docker.io/library/node:22-slim\n" in out
    assert fixes[0].notes


@pytest.mark.parametrize("tag,why", [("22-wheezy", "is not a published tag"),  # a Debian form, not for 22
                                     ("22.11.0", "cannot be proved to exist")])  # minors are not in the table
def test_a_slim_tag_not_proved_to_exist_is_never_written(tag, why):
    text = BUILD + f'FROM node:{tag}\nCMD ["node", "server.js"]\n'
    out, _, skips = _run(text, _ctx())
    assert out == text
    assert why in skips[0].reason and f"node:{tag}-slim" in skips[0].reason


def test_base_from_a_build_argument_is_left_to_the_user():
    text = 'ARG NODE=node:22\n' + BUILD + 'FROM ${NODE}\nCMD ["node", "server.js"]\n'
    out, _, skips = _run(text, _ctx())
    assert out == text
    assert "build argument" in skips[0].reason


def test_bash_entrypoint_blocks_alpine_but_not_slim():
    text = BUILD + 'FROM node:22\nCOPY run.sh ./\nCMD ["./run.sh"]\n'
    files = {"run.sh": "#!/bin/bash\nexec node server.js\n"}
    out, _, _ = _run(text, _ctx(files=ContextFiles.of(files)))
    assert "FROM node:22-slim\n" in out
    alpine = _ctx(files=ContextFiles.of(files), config=Config(runtime_variant="alpine"))
    out, _, skips = _run(text, alpine)
    assert out == text and "`bash`" in skips[0].reason


def test_every_skip_names_what_keeps_the_full_image():
    text = BUILD + ('FROM node:22\nRUN apt-get update && apt-get install -y libvips42\n'
                    'HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\nCMD ["node", "server.js"]\n')
    c = _ctx(lock=LockFacts(3, install_scripts=("canvas",), production=frozenset({"canvas"})))
    _, _, skips = _run(text, c)
    reason = skips[0].reason
    assert "libvips42" in reason and "`curl`" in reason and "canvas" in reason


def test_runtime_variant_config():
    assert parse_config({"runtime-variant": "alpine"}, Path("x")).runtime_variant == "alpine"
    assert parse_config({"runtime_variant": "slim"}, Path("x")).runtime_variant == "slim"
    assert Config().runtime_variant == "slim"
    with pytest.raises(ConfigError, match="runtime-variant"):
        parse_config({"runtime-variant": "distroless"}, Path("x"))


def test_load_context_reads_lock_facts(tmp_path):
    (tmp_path / "package.json").write_text('{"dependencies": {"sharp": "^0.33.5"}}')
    (tmp_path / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": {
        "": {}, "node_modules/sharp": {"version": "0.33.5", "hasInstallScript": True}}}))
    c = load_context(tmp_path / "Dockerfile", tmp_path, Config())
    assert c.lock is not None and c.lock.install_scripts == ("sharp",)


def test_order_after_the_split_and_before_the_init():
    codes = [t.code for t in ALL]
    assert codes.index("DFX010") < codes.index("DFX012") < codes.index("DFX007")
    assert all(codes.index(c) < codes.index("DFX012") for c in SlimRuntime.after)


def test_official_entrypoint_is_known_but_a_copied_one_must_be_read():
    official = BUILD + 'FROM node:22\nENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["node", "server.js"]\n'
    out, _, _ = _run(official, _ctx())
    assert "FROM node:22-slim\n" in out
    copied = BUILD + ('FROM node:22\nCOPY --from=build /app/docker-entrypoint.sh /usr/local/bin/\n'
                      'ENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["node", "server.js"]\n')
    out, _, skips = _run(copied, _ctx())
    assert out == copied and "not readable from the build context" in skips[0].reason


def test_system_ca_store_and_shadow_tools():
    text = BUILD + 'FROM node:22\nENV NODE_OPTIONS=--use-openssl-ca\nCMD ["node", "server.js"]\n'
    out, _, skips = _run(text, _ctx())
    assert out == text and "ca-certificates" in skips[0].reason
    text = BUILD + 'FROM node:22\nRUN groupadd -r app && useradd -r -g app app\nUSER app\nCMD ["node", "server.js"]\n'
    out, _, _ = _run(text, _ctx())
    assert "FROM node:22-slim\n" in out
    out, _, skips = _run(text, _ctx(config=Config(runtime_variant="alpine")))
    assert out == text and "`groupadd`" in skips[0].reason
