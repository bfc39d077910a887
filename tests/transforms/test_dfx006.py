"""DFX006 non-root: unit checks beyond the fixtures."""

from __future__ import annotations

from dockerfix.fixer.config import Config
from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Applicability, Fix, Skip, apply_edits
from dockerfix.transforms._stages import effective_user, is_root_user
from dockerfix.transforms.dfx006_non_root import NonRoot, runs_as_node


def run(text, user="node"):
    doc = parse(text)
    out = list(NonRoot().fix(doc, Context(config=Config(user=user), package=PackageJson({"name": "app"}))))
    fixes = [f for f in out if isinstance(f, Fix)]
    return doc, fixes, [s for s in out if isinstance(s, Skip)]


def first_run(text):
    return next(i for i in parse("FROM node\n" + text + "\n").instructions if i.keyword == "RUN")


def test_runs_as_node():
    assert runs_as_node(first_run("RUN npm ci --omit=dev && npm cache clean --force"))
    assert runs_as_node(first_run("RUN yarn install --frozen-lockfile && yarn build && rm -rf src"))
    assert not runs_as_node(first_run("RUN npm install -g pm2"))
    assert not runs_as_node(first_run("RUN yarn global add pm2"))
    assert not runs_as_node(first_run("RUN corepack enable"))
    assert not runs_as_node(first_run("RUN apk add --no-cache git && npm ci"))
    assert not runs_as_node(first_run("RUN rm -rf /tmp/x"))
    assert not runs_as_node(first_run("RUN --mount=type=cache,target=/root/.npm npm ci"))
    assert not runs_as_node(first_run('RUN ["npm", "ci"]'))
    assert not runs_as_node(first_run("RUN <<EOF\nnpm ci\nEOF"))


def test_is_root_user():
    assert is_root_user("root") and is_root_user("0") and is_root_user("0:0") and is_root_user("root:node")
    assert not is_root_user("node") and not is_root_user("1000:1000")


def test_effective_user_follows_stages():
    doc = parse("FROM node AS a\nUSER node\nFROM a\nRUN true\n")
    assert effective_user(doc, doc.final_stage).args_text == "node"


def test_one_unsafe_fix_with_every_edit():
    doc, fixes, _ = run("FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"a.js\"]\n")
    assert len(fixes) == 1 and fixes[0].applicability == Applicability.UNSAFE
    assert len(fixes[0].edits) == 3
    assert apply_edits(doc.source, list(fixes[0].edits)) == (
        "FROM node:22\nWORKDIR /app\nRUN chown node:node /app\nCOPY --chown=node:node . .\nUSER node\n"
        "RUN npm ci\nCMD [\"node\", \"a.js\"]\n")


def test_user_at_end_without_cmd_and_no_final_newline():
    doc, fixes, _ = run("FROM node:22 AS base\nCMD [\"node\", \"a.js\"]\nFROM base\nWORKDIR /app\nCOPY . .")
    assert apply_edits(doc.source, list(fixes[0].edits)).endswith(
        "FROM base\nWORKDIR /app\nCOPY --chown=node:node . .\nUSER node")


def test_relative_workdir_keeps_runs_as_root_with_a_note():
    doc, fixes, _ = run("FROM node:22\nWORKDIR app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"a.js\"]\n")
    out = apply_edits(doc.source, list(fixes[0].edits))
    assert out.index("RUN npm ci") < out.index("USER node")
    assert "not a plain absolute path" in fixes[0].notes[0]


def test_non_node_bases_are_skipped():
    for base in ("ubuntu:24.04", "cgr.dev/chainguard/node"):
        _, fixes, skips = run(f"FROM {base}\nCMD [\"x\"]\n")
        assert not fixes and "not an official node image" in skips[0].reason
    for base in ("python:3.12", "nginx"):  # not a Node.js application at all
        _, fixes, skips = run(f"FROM {base}\nCMD [\"x\"]\n")
        assert not fixes and "runs another program" in skips[0].reason
