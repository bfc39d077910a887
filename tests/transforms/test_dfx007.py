"""DFX007 init-process: unit checks beyond the fixtures (helpers, skips, fix grouping)."""

from __future__ import annotations

from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.facts import ContextFiles
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Applicability, Fix, Skip, apply_edits
from dockerfix.transforms._images import base_image
from dockerfix.transforms._startcmd import (
    node_entry_file,
    start_script_command,
    start_script_runner,
)
from dockerfix.transforms.dfx007_init_process import InitProcess


def ctx_with(scripts=None, files=()):
    pkg = PackageJson({"name": "x", "scripts": scripts}) if scripts is not None else None
    return Context(package=pkg, files=ContextFiles.of({p: "x" for p in files}))


def run(text, ctx=None):
    doc = parse(text)
    out = list(InitProcess().fix(doc, ctx or ctx_with({"start": "node server.js"})))
    fixes = [f for f in out if isinstance(f, Fix)]
    skips = [s for s in out if isinstance(s, Skip)]
    return doc, fixes, skips


def test_one_fix_holds_install_entrypoint_and_cmd():
    doc, fixes, _ = run("FROM node:22-alpine\nRUN apk add --no-cache tzdata\nCOPY . .\nCMD npm start\n")
    assert len(fixes) == 1 and len(fixes[0].edits) == 3
    assert fixes[0].applicability == Applicability.UNSAFE
    assert apply_edits(doc.source, list(fixes[0].edits)) == (
        "FROM node:22-alpine\nRUN apk add --no-cache tzdata dumb-init\nCOPY . .\n"
        'ENTRYPOINT ["dumb-init", "--"]\nCMD ["node", "server.js"]\n')


def test_crlf_and_no_final_newline_kept():
    # a file that pins its packages, on a release with a known dumb-init: a new pinned RUN
    doc, fixes, _ = run("FROM node:22-bookworm\r\nRUN apt-get install -y --no-install-recommends a=1 || true\r\n"
                        "CMD node server.js")
    out = apply_edits(doc.source, list(fixes[0].edits))
    assert out.startswith("FROM node:22-bookworm\r\nRUN apt-get update && apt-get install -y --no-install-recommends "
                          "dumb-init=1.2.5-2 && rm -rf /var/lib/apt/lists/*\r\n")
    assert out.endswith('\r\nENTRYPOINT ["dumb-init", "--"]\r\nCMD ["node", "server.js"]')


def test_without_an_install_run_or_pins_it_only_reports():
    doc, fixes, _ = run("FROM node:22-alpine\nCOPY . .\nCMD npm start\n")
    assert not fixes[0].edits and fixes[0].applicability == Applicability.DISPLAY_ONLY
    assert not any("dumb-init" in e.text for f in fixes for e in f.edits)  # no install, no ENTRYPOINT
    assert "docker run --init" in fixes[0].message and "DL3018" in fixes[0].notes[0]
    assert "`RUN apk add --no-cache dumb-init`" in fixes[0].notes[1]


def test_reporting_the_init_still_starts_node_directly():
    """The init comes from the engine (`docker run --init`); `npm start` whose script is exactly
    `node server.js` still becomes that, so no package manager sits between the init and node."""
    c = Context(package=PackageJson({"scripts": {"start": "node server.js"}}), files=ContextFiles.of({"server.js": "x"}))
    doc = parse("FROM node:22-alpine\nCOPY . .\nCMD npm start\n")
    fixes = [f for f in InitProcess().fix(doc, c) if isinstance(f, Fix)]
    report, direct = fixes
    assert "docker run --init" in report.message and not report.edits
    assert apply_edits(doc.source, list(direct.edits)).endswith('CMD ["node", "server.js"]\n')
    assert direct.applicability == Applicability.UNSAFE and "SIGTERM reaches node" in direct.message


def test_install_joins_the_first_mergeable_install():
    src = ("FROM node:22-bookworm-slim\n"
           "RUN if [ -n \"$X\" ]; then apt-get install -y x; fi\n"
           "RUN apt-get update \\\n && apt-get install -y --no-install-recommends curl=7.88 git=1:2.39 > /dev/null \\\n"
           " && rm -rf /var/lib/apt/lists/*\n"
           "CMD [\"node\", \"a.js\"]\n")
    doc, fixes, _ = run(src)
    out = apply_edits(doc.source, list(fixes[0].edits))
    assert "git=1:2.39 dumb-init=1.2.5-2 > /dev/null" in out
    assert "dumb-init joins the package install on line 3, pinned to 1.2.5-2" in fixes[0].notes[0]


def test_release_of_tags():
    from dockerfix.transforms._ospkgs import release_of
    assert release_of("node:22-bookworm-slim", "debian") == "bookworm"
    assert release_of("node:24-trixie", "debian") == "trixie"
    assert release_of("node:22-alpine3.21", "alpine") == "3.21"
    assert release_of("alpine:3.20.3", "alpine") == "3.20"
    assert release_of("debian:12-slim", "debian") == "bookworm"
    assert release_of("node:22-alpine", "alpine") is None and release_of("node:22", "debian") is None


def test_dumb_init_already_installed_by_a_run_is_not_installed_again():
    doc, fixes, _ = run("FROM node:22-alpine\nRUN apk add --no-cache dumb-init\nCMD [\"node\", \"a.js\"]\n")
    assert len(fixes[0].edits) == 1  # only the ENTRYPOINT


def test_cmd_inherited_from_a_parent_stage_is_skipped():
    _, fixes, skips = run("FROM node:22 AS base\nCMD [\"node\", \"a.js\"]\nFROM base\nRUN true\n")
    assert not fixes and "another stage" in skips[0].reason


def test_parent_stage_with_non_root_user_is_skipped():
    _, fixes, skips = run("FROM node:22 AS base\nUSER node\nFROM base\nCMD [\"node\", \"a.js\"]\n")
    assert not fixes and "USER node" in skips[0].reason


def test_start_script_command():
    assert start_script_command(ctx_with({"start": "node dist/main.js --port 3000"}))[0] == [
        "node", "dist/main.js", "--port", "3000"]
    assert start_script_command(ctx_with({"start": "NODE_ENV=production node a.js"}))[0] is None
    assert start_script_command(ctx_with({"start": "nodemon a.js"}))[0] is None
    assert start_script_command(ctx_with({"start": "node -e 'x'"}))[0] is None
    assert start_script_command(ctx_with({}, files={"server.js"}))[0] == ["node", "server.js"]
    assert start_script_command(ctx_with({}, files={"server.js"}), "yarn")[0] is None
    assert "no package.json" in start_script_command(ctx_with(None))[1]
    assert start_script_runner(["yarn", "run", "start"]) == "yarn"
    assert start_script_runner(["npm", "run", "build"]) is None


def test_node_entry_file():
    assert node_entry_file(["node", "-r", "dotenv/config", "server.js"]) == "server.js"
    assert node_entry_file(["node", "--enable-source-maps", "dist/a.js", "x"]) == "dist/a.js"
    assert node_entry_file(["/usr/local/bin/node", "a.mjs"]) == "a.mjs"
    assert node_entry_file(["node"]) is None
    assert node_entry_file(["npm", "start"]) is None


def test_base_image_classification():
    def b(text):
        d = parse(text)
        return base_image(d, d.final_stage)

    assert b("FROM node:22-alpine3.20\n").distro == "alpine"
    assert b("FROM docker.io/library/node:iron\n").distro == "debian"
    assert b("FROM node\n").is_node
    assert b("ARG V=22\nFROM node:${V}-slim\n").image == "node:22-slim"
    assert b("FROM node:22 AS a\nFROM a AS b\nFROM b\n").is_node
    assert b("FROM myorg/base\nRUN apk add curl\n").distro == "alpine"
    assert b("FROM myorg/base\n").distro is None
    assert b("FROM gcr.io/distroless/nodejs22-debian12\n").distroless
    assert b("ARG B\nFROM $B\n").reason
