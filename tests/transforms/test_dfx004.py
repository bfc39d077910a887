"""Focused tests for DFX004 production-deps and the package-manager helpers it shares."""

from __future__ import annotations

import pytest
from dockerfix.fixer.commands import shell_commands
from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.dockerignore import dockerignore_matches
from dockerfix.fixer.facts import ContextFiles
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Fix, Skip, apply_edits
from dockerfix.transforms._devdeps import dev_dependency_reason
from dockerfix.transforms._pkgmanagers import package_manager_commands
from dockerfix.transforms.dfx004_production_deps import ProductionDeps

PKG = PackageJson({"scripts": {"build": "tsc", "compile": "webpack --mode production", "start": "node server.js",
                               "gen": "prisma generate", "lint": "eslint ."},
                   "devDependencies": {"typescript": "5", "prisma": "5", "@nestjs/cli": "10"}})


def ctx(lockfile="package-lock.json", kind="npm", package=PKG, **kw) -> Context:
    return Context(package=package, lockfile=lockfile, lock_kind=kind, **kw)


def run(text: str, c: Context) -> tuple[str, list[Fix], list[Skip]]:
    doc = parse(text)
    out = list(ProductionDeps().fix(doc, c))
    fixes = [f for f in out if isinstance(f, Fix)]
    skips = [s for s in out if isinstance(s, Skip)]
    return apply_edits(text, [e for f in fixes for e in f.edits]), fixes, skips


def test_shell_commands_split_and_prefixes():
    ins = parse("FROM node\nRUN cd /app && NODE_ENV=production npm install >/dev/null; if true; then yarn; fi\n"
                ).instructions[1]
    assert [c.argv for c in shell_commands(ins)] == [("cd", "/app"), ("npm", "install"), ("true",), ("yarn",),
                                                     ("fi",)]


def test_package_manager_commands_spans_point_at_source():
    src = "FROM node\nRUN --mount=type=cache,target=/root/.npm \\\n    npm --no-audit i \\\n  && pnpm add x\n"
    ins = parse(src).instructions[1]
    cmds = package_manager_commands(ins)
    assert [(c.tool, c.action, c.is_bare_install) for c in cmds] == [("npm", "install", True),
                                                                      ("pnpm", "install", False)]
    assert src[cmds[0].sub.span.start:cmds[0].sub.span.end] == "i"


@pytest.mark.parametrize("argv,needs", [
    (("npm", "run", "build"), True),
    (("npm", "run", "compile"), True),  # script body runs webpack
    (("npm", "run", "gen"), True),  # prisma generate
    (("npm", "test"), True),
    (("yarn", "build"), True),
    (("pnpm", "build"), True),
    (("npx", "tsc"), True),
    (("nest", "build"), True),
    (("npm", "start"), False),
    (("node", "server.js"), False),
    (("npm", "run", "missing"), False),
    (("next", "start"), False),
])
def test_dev_dependency_reason(argv, needs):
    assert (dev_dependency_reason(argv, PKG) is not None) is needs


def test_dockerignore_negation():
    assert dockerignore_matches("*.json\n", "package-lock.json")
    assert not dockerignore_matches("*.json\n!package-lock.json\n", "package-lock.json")
    assert not dockerignore_matches("node_modules\n", "package-lock.json")


def test_edits_only_touch_command_words():
    src = "FROM node:22\nCOPY . .\nRUN echo a && npm   install   --no-fund && echo b\n"
    out, fixes, _ = run(src, ctx())
    assert out == "FROM node:22\nCOPY . .\nRUN echo a && npm   ci --omit=dev   --no-fund && echo b\n"
    assert all(len(f.edits) == 1 for f in fixes)


def test_build_in_same_run_keeps_dev():
    src = "FROM node:22\nCOPY . .\nRUN npm install && npm run build\nCMD [\"node\", \"dist\"]\n"
    out, _, skips = run(src, ctx())
    assert "RUN npm ci && npm run build" in out
    assert any("multi-stage" in s.reason for s in skips)


def test_consumer_stage_build_keeps_dev_without_report():
    src = ("FROM node:22 AS deps\nCOPY package.json package-lock.json ./\nRUN npm install\n"
           "FROM deps AS build\nCOPY . .\nRUN npm run build\n"
           "FROM node:22-slim\nCOPY --from=build /dist /dist\n")
    out, _, skips = run(src, ctx())
    assert "RUN npm ci\n" in out
    assert not skips


def test_lockfile_copy_extension_keeps_dot_slash_prefix():
    src = "FROM node:22\nCOPY ./package.json ./\nRUN npm install\n"
    out, fixes, _ = run(src, ctx())
    assert out == "FROM node:22\nCOPY ./package.json ./package-lock.json ./\nRUN npm ci --omit=dev\n"
    assert len(fixes) == 1 and len(fixes[0].edits) == 2


def test_yarn_berry_plugin_from_yarnrc():
    c = ctx("yarn.lock", "yarn-berry", package=PackageJson({}),
            files=ContextFiles.of({".yarnrc.yml": "plugins:\n  - path: .yarn/plugins/@yarnpkg/plugin-workspace-tools.cjs\n"}))
    out, _, _ = run("FROM node:20\nCOPY . .\nRUN yarn\n", c)
    assert out == "FROM node:20\nCOPY . .\nRUN yarn workspaces focus --all --production\n"


def test_pnpm_build_stage_gets_frozen_lockfile_only():
    c = ctx("pnpm-lock.yaml", "pnpm")
    out, _, _ = run("FROM node:22\nCOPY . .\nRUN pnpm i\nRUN pnpm build\n", c)
    assert "RUN pnpm i --frozen-lockfile\n" in out


def test_bare_install_only():
    for cmd in ("npm install express", "npm install -g pm2", "yarn add left-pad", "npm ci --omit=dev",
                "npm ci --only=production", "yarn install --frozen-lockfile --production"):
        src = f"FROM node:22\nCOPY . .\nRUN {cmd}\n"
        c = ctx("yarn.lock", "yarn-v1") if cmd.startswith("yarn") else ctx()
        out, fixes, _ = run(src, c)
        assert not [f for f in fixes if f.edits], cmd
