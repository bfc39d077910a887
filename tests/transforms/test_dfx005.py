"""Focused tests for DFX005 node-env."""

from __future__ import annotations

import pytest
from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Fix, Skip, apply_edits
from dockerfix.transforms.dfx005_node_env import NodeEnv, env_keys, is_node_stage

PKG = PackageJson({"scripts": {"build": "next build", "start": "next start"}, "devDependencies": {"eslint": "9"}})


def run(text: str, package: PackageJson | None = PKG) -> tuple[str, list[Fix], list[Skip]]:
    doc = parse(text)
    out = list(NodeEnv().fix(doc, Context(package=package, lockfile="package-lock.json", lock_kind="npm")))
    fixes = [f for f in out if isinstance(f, Fix)]
    return apply_edits(text, [e for f in fixes for e in f.edits]), fixes, [s for s in out if isinstance(s, Skip)]


@pytest.mark.parametrize("line,keys", [
    ("ENV NODE_ENV production", ["NODE_ENV"]),
    ("ENV NODE_ENV=production PORT=3000", ["NODE_ENV", "PORT"]),
    ('ENV A="x y" NODE_ENV=production', ["A", "NODE_ENV"]),
    ("ENV PORT 3000 NODE_ENV=production", ["PORT"]),  # legacy form: one variable, the rest is its value
    ("ARG NODE_ENV", ["NODE_ENV"]),
])
def test_env_keys(line, keys):
    assert env_keys(parse(f"FROM node\n{line}\n").instructions[1]) == keys


@pytest.mark.parametrize("src,node", [
    ("FROM node\n", True),
    ("FROM docker.io/library/node:22@sha256:" + "a" * 64 + "\n", True),
    ("FROM cgr.dev/chainguard/node:latest\n", True),
    ("FROM node:22 AS base\nFROM base\n", True),
    ("FROM debian:12\nRUN apt-get install -y nodejs npm && npm ci\n", True),
    ("FROM alpine\nCMD [\"node\", \"x.js\"]\n", True),
    ("FROM nginx:alpine\n", False),
    ("FROM nodered/node-red\n", False),
])
def test_is_node_stage(src, node):
    doc = parse(src)
    assert is_node_stage(doc, doc.final_stage) is node


def test_build_in_install_run_puts_env_after_it():
    src = "FROM node:22\nCOPY . .\nRUN npm ci && npm run build\nCMD [\"npm\", \"start\"]\n"
    out, _, _ = run(src)
    assert out == "FROM node:22\nCOPY . .\nRUN npm ci && npm run build\nENV NODE_ENV=production\nCMD [\"npm\", \"start\"]\n"


def test_install_after_build_gets_env_before_it():
    src = ("FROM node:22\nCOPY . .\nRUN npm ci\nRUN npm run build\nRUN npm prune --omit=dev\nRUN npm ci --omit=dev\n"
           "CMD [\"node\", \"a.js\"]\n")
    out, _, _ = run(src)
    assert "RUN npm run build\nENV NODE_ENV=production\nRUN npm prune" in out


def test_env_set_in_other_stage_does_not_count():
    src = "FROM node:22 AS build\nENV NODE_ENV=production\nFROM node:22-slim\nCOPY --from=build /a /a\nCMD [\"node\", \"a.js\"]\n"
    out, fixes, _ = run(src)
    assert len(fixes) == 1
    assert out.endswith("FROM node:22-slim\nENV NODE_ENV=production\nCOPY --from=build /a /a\nCMD [\"node\", \"a.js\"]\n")


def test_named_package_install_is_not_the_dependency_install():
    src = "FROM node:22\nRUN npm install -g pm2\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"a.js\"]\n"
    out, _, _ = run(src)
    assert "COPY . .\nENV NODE_ENV=production\nRUN npm ci\n" in out


def test_no_final_newline_after_from():
    # (a runtime stage: its CMD comes from the stage it is built FROM)
    out, _, _ = run("FROM node:22 AS base\nCMD [\"node\", \"a.js\"]\nFROM base")
    assert out.endswith("FROM base\nENV NODE_ENV=production")
    parse(out)


def test_indentation_follows_anchor():
    src = "FROM node:22\n    COPY . .\n    RUN npm ci\n    CMD [\"node\", \"a.js\"]\n"
    out, _, _ = run(src)
    assert out == "FROM node:22\n    COPY . .\n    ENV NODE_ENV=production\n    RUN npm ci\n    CMD [\"node\", \"a.js\"]\n"


def test_no_package_json_no_fix_and_the_reason_names_it():
    out, fixes, skips = run("FROM node:22\nCOPY . .\nRUN npm ci\nCMD [\"npm\", \"start\"]\n", None)
    assert not fixes and "no package.json" in skips[0].reason


def test_unreadable_package_json_reason():
    doc = parse("FROM node:22\nRUN npm ci\nCMD [\"node\", \"a.js\"]\n")
    out = list(NodeEnv().fix(doc, Context(package_error="package.json is not valid JSON (x at line 1)")))
    assert [o.reason for o in out if isinstance(o, Skip)][0].endswith("cannot be checked")
    assert not [o for o in out if isinstance(o, Fix)]


def test_husky_prepare_puts_env_after_the_install():
    pkg = PackageJson({"scripts": {"prepare": "husky"}, "devDependencies": {"husky": "9"}})
    out, fixes, _ = run("FROM node:22\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"a.js\"]\n", pkg)
    assert "RUN npm ci\nENV NODE_ENV=production\nCMD" in out
    assert "scripts.prepare" in fixes[0].message


def test_start_prod_script_with_dev_tool_puts_env_after_install():
    pkg = PackageJson({"scripts": {"start:prod": "ts-node src/main"}, "devDependencies": {"ts-node": "10"}})
    out, fixes, _ = run("FROM node:22\nCOPY . .\nRUN npm ci\nCMD npm run start:prod\n", pkg)
    assert "RUN npm ci\nENV NODE_ENV=production\nCMD" in out


def test_workspace_package_decides_and_unknown_skips():
    import json

    from dockerfix.fixer.facts import ContextFiles

    files = {"package.json": '{"workspaces": ["apps/*"]}',
             "apps/api/package.json": '{"scripts": {"start": "nodemon x"}, "devDependencies": {"nodemon": "3"}}'}
    c = Context(package=PackageJson(json.loads(files["package.json"])), lockfile="package-lock.json",
                lock_kind="npm", files=ContextFiles.of(files))
    src = "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nWORKDIR apps/api\nCMD npm start\n"
    out = list(NodeEnv().fix(parse(src), c))
    fix = [o for o in out if isinstance(o, Fix)][0]
    assert "nodemon" in fix.message and "after the install" in fix.message
    src = "FROM node:22\nWORKDIR /srv\nCOPY package.json /app/\nRUN npm ci\nCMD npm start\n"
    out = list(NodeEnv().fix(parse(src), c))
    assert not [o for o in out if isinstance(o, Fix)]
    assert "workspace" in [o for o in out if isinstance(o, Skip)][0].reason


# -- class 11: `nest start` compiles with the project's TypeScript (a devDependency) ----------------
NEST = {"scripts": {"start": "nest start", "start:prod": "node dist/main"},
        "dependencies": {"@nestjs/cli": "10", "@nestjs/core": "10"}}


def test_nest_start_with_typescript_in_dev_puts_env_after_the_yarn_install():
    pkg = PackageJson({**NEST, "devDependencies": {"typescript": "5"}})
    src = "FROM node:20-alpine\nWORKDIR /app\nCOPY package.json yarn.lock ./\nRUN yarn\nCOPY . .\nCMD [\"yarn\", \"start\"]\n"
    out, fixes, _ = run(src, pkg)
    assert "RUN yarn\nENV NODE_ENV=production\nCOPY . ." in out
    assert "'typescript'" in fixes[0].message and "nest start" in fixes[0].message


@pytest.mark.parametrize("pkg", [
    {**NEST, "dependencies": {**NEST["dependencies"], "typescript": "5"}},  # the compiler ships
    NEST,  # no project TypeScript at all: nothing to drop
])
def test_nest_start_without_dev_typescript_keeps_env_before_the_install(pkg):
    src = "FROM node:20-alpine\nWORKDIR /app\nCOPY . .\nRUN yarn\nCMD [\"yarn\", \"start\"]\n"
    out, _, _ = run(src, PackageJson(pkg))
    assert "ENV NODE_ENV=production\nRUN yarn\n" in out


def test_start_prod_running_the_build_output_keeps_env_before_the_install():
    pkg = PackageJson({**NEST, "devDependencies": {"typescript": "5"}})
    out, _, _ = run("FROM node:20\nCOPY . .\nRUN npm ci\nCMD [\"npm\", \"run\", \"start:prod\"]\n", pkg)
    assert "ENV NODE_ENV=production\nRUN npm ci\n" in out
