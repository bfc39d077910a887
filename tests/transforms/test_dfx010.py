"""Focused tests for DFX010 multi-stage (the fixtures under fixtures/multi-stage/ cover whole files)."""

from __future__ import annotations

import pytest
from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.facts import ContextFiles
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Applicability, Fix, Skip, apply_edits
from dockerfix.fixer.pipeline import Pipeline
from dockerfix.transforms import ALL
from dockerfix.transforms._pkgmanagers import package_manager_commands
from dockerfix.transforms.dfx010_multi_stage import (
    MultiStage,
    _strip_jsonc,
    tsconfig_out_dir,
)

PKG = PackageJson({"scripts": {"build": "tsc", "start": "node dist/server.js"},
                   "devDependencies": {"typescript": "5"}})
SIMPLE = 'FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm install\nRUN npm run build\nEXPOSE 3000\nCMD ["npm", "start"]\n'


def ctx(package=PKG, lockfile="package-lock.json", kind="npm", files=None, **kw) -> Context:
    files = files or {}
    return Context(package=package, lockfile=lockfile, lock_kind=kind, files=ContextFiles.of(files), **kw)


def run(text: str, c: Context) -> tuple[str, list[Fix], list[Skip]]:
    out = list(MultiStage().fix(parse(text), c))
    fixes = [f for f in out if isinstance(f, Fix)]
    skips = [s for s in out if isinstance(s, Skip)]
    return apply_edits(text, [e for f in fixes for e in f.edits]), fixes, skips


def test_split_keeps_original_lines_and_appends_production_stage():
    out, fixes, skips = run(SIMPLE, ctx())
    assert not skips and len(fixes) == 1
    assert fixes[0].applicability == Applicability.UNSAFE
    assert out == ('FROM node:22 AS build\nWORKDIR /app\nCOPY . .\nRUN npm install\nRUN npm run build\n\n'
                   'FROM node:22\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci --omit=dev\n'
                   'COPY --from=build /app/dist ./dist\nEXPOSE 3000\nCMD ["npm", "start"]\n')
    assert "views" in fixes[0].notes[0]  # the note says what is no longer in the image


def test_result_is_stable_and_parses():
    out, _, _ = run(SIMPLE, ctx())
    again, fixes, _ = run(out, ctx())
    assert again == out and not fixes
    assert len(parse(out).stages) == 2


@pytest.mark.parametrize("text", [
    "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n",  # no build step
    "FROM node:22 AS a\nRUN true\nFROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\n"
    "CMD [\"node\", \"dist/server.js\"]\n",  # already multi-stage
])
def test_quiet_when_nothing_to_split(text):
    out, fixes, skips = run(text, ctx())
    assert out == text and not fixes and not skips


@pytest.mark.parametrize("change,why", [
    (dict(lockfile=None, kind=None), "no lockfile"),
    (dict(package=None), "no package.json"),
    (dict(kind="bun", lockfile="bun.lock"), "no production-only install"),
    (dict(package=PackageJson({"scripts": {"build": "tsc", "start": "node server.js"}})),
     "cannot tell where the build writes"),
    (dict(package=PackageJson({"workspaces": ["packages/*"], "scripts": {"build": "tsc",
                                                                         "start": "node dist/a.js"}})),
     "workspaces"),
    (dict(package=PackageJson({"scripts": {"postinstall": "patch-package", "build": "tsc",
                                           "start": "node dist/a.js"}})), "scripts.postinstall"),
    (dict(dockerignore="package-lock.json\n"), ".dockerignore leaves package-lock.json out"),
    (dict(kind="pnpm", lockfile="pnpm-lock.yaml"), "uses npm, but the lockfile is pnpm-lock.yaml"),
])
def test_skips_with_reason(change, why):
    out, fixes, skips = run(SIMPLE, ctx(**change))
    assert out == SIMPLE and not fixes
    assert len(skips) == 1 and why in skips[0].reason, skips


@pytest.mark.parametrize("text,why", [
    ("FROM node:22\nCOPY . .\nRUN npm ci\nRUN npm run build\nCMD [\"node\", \"dist/server.js\"]\n", "no WORKDIR"),
    ("FROM node:22\nWORKDIR $APP\nCOPY . .\nRUN npm ci\nRUN npm run build\nCMD [\"node\", \"dist/server.js\"]\n",
     "not a plain path"),
    ("FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm run build\nCMD [\"node\", \"dist/server.js\"]\n",
     "no install"),
    ("FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\n", "no CMD or ENTRYPOINT"),
    ("FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci && chmod +x run.sh\nRUN npm run build\n"
     "CMD [\"node\", \"dist/server.js\"]\n", "also runs `chmod +x run.sh`"),
    ("FROM node:22\nWORKDIR /app\nCOPY --from=busybox /bin/wget /usr/bin/\nCOPY . .\nRUN npm ci\n"
     "RUN npm run build\nCMD [\"node\", \"dist/server.js\"]\n", "--from=busybox"),
    ("FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nCMD [\"npx\", \"ts-node\", \"dist/a.ts\"]\n",
     "needs devDependencies"),
])
def test_skips_for_dockerfile_shapes(text, why):
    out, fixes, skips = run(text, ctx())
    assert out == text and not fixes
    assert len(skips) == 1 and why in skips[0].reason, skips


def test_tsconfig_out_dir_reads_jsonc():
    text = '{\n // c\n "compilerOptions": { /* x */ "outDir": "./lib/out/", "a": "//not a comment",},\n}'
    assert _strip_jsonc(text).count("//not a comment") == 1
    assert tsconfig_out_dir(ctx(files={"tsconfig.json": text})) == "lib/out"
    assert tsconfig_out_dir(ctx(files={"tsconfig.json": '{"compilerOptions": {"outDir": "../x"}}'})) is None
    assert tsconfig_out_dir(ctx(files={"tsconfig.json": "not json"})) is None


def test_absolute_cmd_path_and_entrypoint_init():
    text = ('FROM node:22\nWORKDIR /srv\nCOPY . .\nRUN npm ci\nRUN npx tsc\n'
            'ENTRYPOINT ["dumb-init", "--"]\nCMD ["node", "/srv/dist/main.js"]\n')
    out, fixes, _ = run(text, ctx())
    assert fixes and "COPY --from=build /srv/dist ./dist\nENTRYPOINT" in out


def test_setup_runs_env_and_arg_are_copied_not_moved():
    text = ('FROM node:22-alpine\nARG PORT=3000\nARG UNUSED=1\nRUN apk add --no-cache python3 make g++\n'
            'ENV PORT=$PORT\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\nENV LATE=1\n'
            '# start it\nCMD ["node", "dist/server.js"]\n')
    out, fixes, _ = run(text, ctx())
    build, prod = out.split("\n\n")
    assert build == ('FROM node:22-alpine AS build\nARG PORT=3000\nARG UNUSED=1\n'
                     'RUN apk add --no-cache python3 make g++\nENV PORT=$PORT\nWORKDIR /app\nCOPY . .\nRUN npm ci\n'
                     'RUN npm run build')
    assert prod == ('FROM node:22-alpine\nARG PORT=3000\nRUN apk add --no-cache python3 make g++\nENV PORT=$PORT\n'
                    'WORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci --omit=dev\n'
                    'COPY --from=build /app/dist ./dist\nENV LATE=1\n# start it\nCMD ["node", "dist/server.js"]\n')


def test_no_final_newline_and_kept_last_line():
    text = 'FROM node:22\nWORKDIR /app\nCMD ["node", "dist/server.js"]\nCOPY . .\nRUN npm ci && npm run build'
    out, fixes, _ = run(text, ctx())
    assert out.endswith('RUN npm ci && npm run build\n\nFROM node:22\nWORKDIR /app\n'
                        'COPY package.json package-lock.json ./\nRUN npm ci --omit=dev\n'
                        'COPY --from=build /app/dist ./dist\nCMD ["node", "dist/server.js"]')


def test_full_pipeline_hardens_the_production_stage_only():
    c = ctx()
    result = Pipeline([t() for t in ALL], required=Applicability.UNSAFE).run(SIMPLE, c)
    assert result.error is None
    doc = parse(result.after)
    build, prod = doc.stages
    assert [i.keyword for i in build.instructions] == ["FROM", "WORKDIR", "COPY", "RUN", "RUN"]
    assert "npm ci" in build.instructions[3].logical and "--omit" not in build.instructions[3].logical
    kws = [i.keyword for i in prod.instructions]
    assert "USER" in kws and any(i.logical == "ENV NODE_ENV=production" for i in prod.instructions)
    # no package-install RUN to join: the init is a report (no new hadolint warning), not an edit
    assert "ENTRYPOINT" not in kws and any(f.code == "DFX007" for f in result.pending)
    # DFX007 only reports the init here (`docker run --init`) but still starts node directly
    assert prod.instructions[-1].json_args == ("node", "dist/server.js")


# -- class 11/12: global CLIs go to the production stage only when the start command runs them ------
GLOBAL = ('FROM node:22\nWORKDIR /app\nCOPY . .\nRUN {run}\nRUN npm ci\nRUN npm run build\n'
          'CMD ["node", "dist/server.js"]\n')


def test_global_cli_the_start_command_does_not_run_stays_in_build():
    out, fixes, _ = run(GLOBAL.format(run="npm install -g @nestjs/cli"), ctx())
    build, prod = out.split("\n\n")
    assert "npm install -g @nestjs/cli" in build and "@nestjs/cli" not in prod
    assert "@nestjs/cli on line 4 stays in the build stage" in fixes[0].message
    assert "`node dist/server.js` does not run it" in fixes[0].message


@pytest.mark.parametrize("run_line", [
    "npm install -g pnpm@9",  # the package manager: the production install may use it
    "npm i -g node-gyp",
    "npm install -g git+https://example.com/tool.git",  # what it installs cannot be told
    "npm config set fund false && npm install -g @nestjs/cli",  # config the install reads
])
def test_global_installs_the_production_install_may_need_are_copied(run_line):
    out, _, _ = run(GLOBAL.format(run=run_line), ctx())
    assert out.split("\n\n")[1].count(run_line) == 1


def test_global_cli_the_start_command_runs_is_copied_with_a_note():
    text = GLOBAL.format(run="yarn global add pm2").replace('CMD ["node", ', 'CMD ["pm2-runtime", ')
    out, fixes, _ = run(text, ctx())
    assert out.split("\n\n")[1].startswith("FROM node:22\nWORKDIR /app\nRUN yarn global add pm2\n")
    assert any("repeats the global install on line 4 (pm2)" in n and "`pm2-runtime`" in n for n in fixes[0].notes)


def test_global_and_package_names():
    from dockerfix.transforms._pkgmanagers import global_packages, package_name

    cmds = package_manager_commands(parse("FROM node\nRUN npm i -g a b@1 && yarn global add c && pnpm add -g d "
                                          "&& npm i e\n").instructions[1])
    assert [global_packages(c) for c in cmds] == [["a", "b@1"], ["c"], ["d"], None]
    assert [package_name(s) for s in ("@nestjs/cli@10.1", "@nestjs/cli", "pm2@latest", "./x.tgz", "$PKG",
                                      "github:a/b", "a/b")] == ["@nestjs/cli", "@nestjs/cli", "pm2", None, None,
                                                                None, None]
