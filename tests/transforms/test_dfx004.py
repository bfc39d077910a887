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


#: Appended to an input without a start command, so its final stage is an application's runtime
#: (a build-only image gets no production install, see test_build_only_image_keeps_dev), and taken
#: off the output again.
RUNTIME_CMD = 'CMD ["node", "server.js"]\n'


def run(text: str, c: Context) -> tuple[str, list[Fix], list[Skip]]:
    added = "CMD" not in text and "ENTRYPOINT" not in text and text.endswith("\n")
    source = text + RUNTIME_CMD if added else text
    doc = parse(source)
    out = list(ProductionDeps().fix(doc, c))
    fixes = [f for f in out if isinstance(f, Fix)]
    skips = [s for s in out if isinstance(s, Skip)]
    result = apply_edits(source, [e for f in fixes for e in f.edits])
    return (result[: -len(RUNTIME_CMD)] if added else result), fixes, skips


def test_build_only_image_keeps_dev():
    """No start command: the image builds things (or a compose `command:` runs a dev tool in it);
    a production-only install is not proved right there (issue 12, class 6)."""
    doc = parse("FROM node:22\nCOPY . .\nRUN npm ci\n")
    out = list(ProductionDeps().fix(doc, ctx()))
    assert not [o for o in out if isinstance(o, Fix)]
    assert "build-only" in [o for o in out if isinstance(o, Skip)][0].reason


def test_development_image_keeps_dev():
    doc = parse("FROM node:22\nCOPY . .\nRUN npm ci\nCMD [\"npm\", \"run\", \"dev\"]\n")
    out = list(ProductionDeps().fix(doc, ctx()))
    assert not [o for o in out if isinstance(o, Fix)] and "development" in out[0].reason


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


@pytest.mark.parametrize("deps,dev,needs", [
    ({"@nestjs/cli": "10"}, {"typescript": "5"}, True),  # compiles with the devDependency typescript
    ({"@nestjs/cli": "10", "typescript": "5"}, {}, False),  # the compiler is a production dependency
    ({"@nestjs/cli": "10"}, {}, False),
])
def test_nest_start_needs_dev_typescript(deps, dev, needs):
    pkg = PackageJson({"scripts": {"start": "nest start"}, "dependencies": deps, "devDependencies": dev})
    assert (dev_dependency_reason(("yarn", "start"), pkg) is not None) is needs
    assert (dev_dependency_reason(("nest", "start", "--watch"), pkg) is not None) is needs


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
                "yarn install --frozen-lockfile --production"):
        src = f"FROM node:22\nCOPY . .\nRUN {cmd}\n"
        c = ctx("yarn.lock", "yarn-v1") if cmd.startswith("yarn") else ctx()
        out, fixes, _ = run(src, c)
        assert not [f for f in fixes if f.edits], cmd


# -- class 1: lifecycle scripts that need a devDependency ------------------------------------------
HUSKY = PackageJson({"scripts": {"prepare": "husky", "start": "node server.js"}, "devDependencies": {"husky": "9"}})


def _lock(*install_scripts):
    from dockerfix.fixer.facts import LockFacts

    return LockFacts(3, tuple(install_scripts))


def test_husky_prepare_ignore_scripts_when_no_prod_install_scripts():
    out, fixes, _ = run("FROM node:22\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n",
                        ctx(package=HUSKY, lock=_lock()))
    assert "RUN npm ci --omit=dev --ignore-scripts\n" in out
    assert "--ignore-scripts" in fixes[0].message


def test_husky_prepare_npm_pkg_delete_when_a_prod_package_has_install_script():
    out, fixes, _ = run("FROM node:22\nCOPY . .\nRUN npm install\n", ctx(package=HUSKY, lock=_lock("bcrypt")))
    assert "RUN npm pkg delete scripts.prepare && npm ci --omit=dev\n" in out
    assert "npm pkg delete" in fixes[0].message


def test_husky_prepare_without_lock_facts_uses_npm_pkg_delete():
    out, _, _ = run("FROM node:22\nCOPY . .\nRUN npm ci\n", ctx(package=HUSKY))
    assert "RUN npm pkg delete scripts.prepare && npm ci --omit=dev\n" in out


def test_husky_prepare_old_npm_keeps_dev():
    out, fixes, skips = run("FROM node:16.3\nCOPY . .\nRUN npm ci\n", ctx(package=HUSKY, lock=_lock("x")))
    assert out == "FROM node:16.3\nCOPY . .\nRUN npm ci\n"
    assert any("npm pkg" in s.reason and "devDependencies kept" in s.reason for s in skips)


def test_husky_prepare_yarn_keeps_dev():
    out, _, skips = run("FROM node:22\nCOPY . .\nRUN yarn install\n", ctx("yarn.lock", "yarn-v1", package=HUSKY))
    assert out == "FROM node:22\nCOPY . .\nRUN yarn install --frozen-lockfile\n"
    assert any("scripts.prepare" in s.reason for s in skips)


def test_postinstall_build_with_dev_tool_keeps_dev():
    pkg = PackageJson({"scripts": {"postinstall": "patch-package"}, "devDependencies": {"patch-package": "8"}})
    out, _, skips = run("FROM node:22\nCOPY . .\nRUN npm ci\n", ctx(package=pkg, lock=_lock()))
    assert out == "FROM node:22\nCOPY . .\nRUN npm ci\n"
    assert any("scripts.postinstall" in s.reason and "patch-package" in s.reason for s in skips)


# -- class 11: deprecated flags, npm 6 ------------------------------------------------------------
@pytest.mark.parametrize("before,after", [
    ("npm ci --only=production", "npm ci --omit=dev"),
    ("npm ci --production", "npm ci --omit=dev"),
    ("npm ci --only prod", "npm ci --omit dev"),
    ("npm install --only=prod", "npm ci --omit=dev"),
])
def test_deprecated_flags_become_omit_dev(before, after):
    out, _, _ = run(f"FROM node:22\nCOPY . .\nRUN {before}\n", ctx())
    assert out == f"FROM node:22\nCOPY . .\nRUN {after}\n"


@pytest.mark.parametrize("image", ["node:14", "node:12-alpine", "node:fermium", "node:10.24.1-slim"])
def test_npm6_keeps_legacy_flags_and_adds_no_omit(image):
    out, _, skips = run(f"FROM {image}\nCOPY . .\nRUN npm install --production\nRUN npm ci\n", ctx())
    assert out == f"FROM {image}\nCOPY . .\nRUN npm ci --production\nRUN npm ci\n"
    assert any("npm 6" in s.reason for s in skips)


# -- class 11 / 10: the script the CMD runs, in the package the WORKDIR selects ---------------------
def test_start_prod_script_needing_dev_keeps_dev():
    pkg = PackageJson({"scripts": {"start:prod": "ts-node src/main.ts"}, "devDependencies": {"ts-node": "10"}})
    out, _, skips = run("FROM node:22\nCOPY . .\nRUN npm ci\nCMD [\"npm\", \"run\", \"start:prod\"]\n",
                        ctx(package=pkg))
    assert "RUN npm ci\n" in out and any("start:prod" in s.reason for s in skips)


def test_prestart_hook_needing_dev_keeps_dev():
    pkg = PackageJson({"scripts": {"start": "node a.js", "prestart": "tsc"}, "devDependencies": {"typescript": "5"}})
    out, _, skips = run("FROM node:22\nCOPY . .\nRUN npm ci\nCMD npm start\n", ctx(package=pkg))
    assert "RUN npm ci\n" in out and any("prestart" in s.reason for s in skips)


WS_FILES = {
    "package.json": '{"workspaces": ["packages/*"], "scripts": {"start": "node x.js"}}',
    "packages/api/package.json": '{"scripts": {"start": "nodemon src/index.js"}, "devDependencies": {"nodemon": "3"}}',
    "packages/web/package.json": '{"scripts": {"start": "node server.js"}}',
}


def _ws_ctx(files=WS_FILES):
    import json as _json

    return ctx(package=PackageJson(_json.loads(files["package.json"])), files=ContextFiles.of(files))


def test_workspace_package_of_workdir_counts():
    src = "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nWORKDIR /app/packages/api\nCMD [\"npm\", \"start\"]\n"
    out, _, skips = run(src, _ws_ctx())
    assert "RUN npm ci\n" in out and any("nodemon" in s.reason for s in skips)
    src2 = src.replace("packages/api", "packages/web")
    out2, _, _ = run(src2, _ws_ctx())
    assert "RUN npm ci --omit=dev\n" in out2


def test_workspace_unknown_package_keeps_dev():
    src = ("FROM node:22\nWORKDIR /srv/api\nCOPY --from=other:1 /x /srv\nCOPY package*.json /app/\nRUN npm ci\n"
           "CMD [\"npm\", \"start\"]\n")
    out, _, skips = run(src, _ws_ctx())
    assert "--omit=dev" not in out
    assert any("workspace" in s.reason for s in skips)


# -- class 11: deprecated flag combinations end coherent (one --omit=dev, nothing contradicting) ------
@pytest.mark.parametrize("before,after", [
    ("npm ci --only=dev", "npm ci --omit=dev"),  # npm 7+ ignores --only=dev: everything was installed
    ("npm install --only=development --no-audit", "npm ci --omit=dev --no-audit"),
    ("npm install --production --only=production", "npm ci --omit=dev"),
    ("npm ci --omit=dev --production", "npm ci --omit=dev"),
    ("npm ci --only prod --omit=dev", "npm ci --omit=dev"),
    ("npm install -production", "npm ci --omit=dev"),
    ("npm install --production --no-fund", "npm ci --omit=dev --no-fund"),
    ("npm install --production=true --only=dev", "npm ci --omit=dev"),
    ("npm ci --production \\\n    --only=production", "npm ci --omit=dev"),
    ("npm ci --production \\\n    --only=dev \\\n    --no-audit", "npm ci --omit=dev \\\n    --no-audit"),
    ("npm install --also=dev", "npm ci --also=dev"),  # devDependencies asked for: kept
    ("npm ci --dev", "npm ci --dev"),
])
def test_deprecated_flag_combinations(before, after):
    out, fixes, _ = run(f"FROM node:22\nCOPY . .\nRUN {before}\nCMD [\"node\", \"a.js\"]\n", ctx())
    assert out == f"FROM node:22\nCOPY . .\nRUN {after}\nCMD [\"node\", \"a.js\"]\n"
    if "--only=dev" in before or "--only=development" in before:
        assert "npm 7 and later ignore" in fixes[0].message


def test_only_dev_is_left_when_devdependencies_stay():
    pkg = PackageJson({"scripts": {"start": "ts-node a.ts"}, "devDependencies": {"ts-node": "10"}})
    src = "FROM node:22\nCOPY . .\nRUN npm ci --only=dev\nCMD npm start\n"
    out, fixes, _ = run(src, ctx(package=pkg))
    assert out == src and not fixes


def test_only_dev_next_to_a_comment_is_not_deleted():
    src = "FROM node:22\nCOPY . .\nRUN npm ci \\\n# all of them\n    --only=dev\nCMD [\"node\", \"a.js\"]\n"
    out, _, _ = run(src, ctx())
    assert "--omit=dev" in out and "--only=dev" in out  # the comment stays; the dead flag with it


@pytest.mark.parametrize("before,after", [
    ("npm install --production --omit=dev", "npm ci --production"),  # npm 6 ignores --omit=dev
    ("npm ci --only=dev", "npm ci --only=dev"),  # npm 6: devDependencies only, as written
    ("npm install --only=production", "npm ci --only=production"),
])
def test_npm6_keeps_the_flags_it_reads(before, after):
    out, _, _ = run(f"FROM node:14\nCOPY . .\nRUN {before}\n", ctx())
    assert out == f"FROM node:14\nCOPY . .\nRUN {after}\n"


@pytest.mark.parametrize("image,before,change,after", [
    # the lockfile cannot be seen reaching the image: only the flag's spelling changes
    ("node:22-alpine", "COPY --from=build /app/package*.json ./\nRUN npm install --only=production",
     {}, "COPY --from=build /app/package*.json ./\nRUN npm install --omit=dev"),
    ("node:lts", "COPY . .\nRUN npm ci --production --only=prod", dict(lockfile=None, kind=None),
     "COPY . .\nRUN npm ci --omit=dev"),
    ("node:20", "COPY . .\nRUN npm install --production", dict(lockfile="yarn.lock", kind="yarn-v1"),
     "COPY . .\nRUN npm install --omit=dev"),
    # npm unknown or 6, or no deprecated flag: nothing
    ("acme/node-base:3", "COPY . .\nRUN npm ci --production", dict(lockfile=None, kind=None), None),
    ("node:14", "COPY . .\nRUN npm ci --production", dict(lockfile=None, kind=None), None),
    ("node:22", "COPY . .\nRUN npm install", dict(lockfile=None, kind=None), None),
])
def test_deprecated_flag_respelled_when_the_lockfile_part_is_skipped(image, before, change, after):
    src = f"FROM {image}\n{before}\nCMD [\"node\", \"a.js\"]\n"
    out, fixes, skips = run(src, ctx(**change))
    assert skips and "left as is" in skips[-1].reason
    if after is None:
        assert out == src and not fixes
    else:
        assert out == f"FROM {image}\n{after}\nCMD [\"node\", \"a.js\"]\n"
        assert "the same install on npm 7 and later" in fixes[0].message
