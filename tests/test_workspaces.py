"""The workspace fact (fixer/workspaces.py) and the script a CMD runs (transforms/_startcmd.py)."""

from __future__ import annotations

import json

import pytest
from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.document import parse
from dockerfix.fixer.facts import ContextFiles
from dockerfix.fixer.workspaces import package_for_folder, read_package, workspace_folders, workspace_patterns
from dockerfix.transforms._startcmd import (
    ScriptRun,
    context_folder,
    script_command,
    script_invocation,
    start_script_command,
    workdir_at,
)

NPM_WS = {
    "package.json": '{"workspaces": ["packages/*", "!packages/skip"], "scripts": {"start": "node root.js"}}',
    "packages/api/package.json": '{"name": "api", "scripts": {"start:prod": "node dist/main"}}',
    "packages/skip/package.json": '{"name": "skip"}',
    "tools/x/package.json": '{"name": "x"}',
    "packages/bad/package.json": "{ nope",
}


def files(d):
    return ContextFiles.of(d)


def test_npm_workspaces_globs_and_exclusions():
    f = files(NPM_WS)
    pats = workspace_patterns(f, read_package(f, "").package)
    assert pats == ("packages/*", "!packages/skip")
    assert workspace_folders(f, pats) == ("packages/api", "packages/bad")


def test_yarn_object_form_and_pnpm_yaml():
    f = files({"package.json": '{"workspaces": {"packages": ["apps/**"]}}', "apps/a/b/package.json": "{}"})
    assert workspace_folders(f, workspace_patterns(f, read_package(f, "").package)) == ("apps/a/b",)
    f = files({"package.json": "{}", "pnpm-workspace.yaml": "packages:\n  - 'svc/*'\n", "svc/one/package.json": "{}"})
    assert workspace_patterns(f, read_package(f, "").package) == ("svc/*",)
    assert workspace_patterns(files({"package.json": "{}"}), PackageJson({})) is None


@pytest.mark.parametrize("folder,expect", [
    ("", "node root.js"),
    ("packages/api", "node dist/main"),
    ("packages/api/src", "node dist/main"),  # the nearest package.json, as npm finds it
    ("docs", "node root.js"),
])
def test_package_for_folder(folder, expect):
    pkg, why = package_for_folder(files(NPM_WS), folder)
    assert why is None and expect in pkg.scripts.values()


@pytest.mark.parametrize("folder,needle", [
    ("packages/skip", "not one of the workspace packages"),
    ("tools/x", "not one of the workspace packages"),
    ("packages/bad", "not valid JSON"),
])
def test_package_for_folder_undecidable(folder, needle):
    pkg, why = package_for_folder(files(NPM_WS), folder)
    assert pkg is None and needle in why


@pytest.mark.parametrize("argv,run", [
    (["npm", "start"], ScriptRun("npm", "start")),
    (["npm", "run", "start:prod"], ScriptRun("npm", "start:prod")),
    (["npm", "run-script", "serve"], ScriptRun("npm", "serve")),
    (["yarn", "start:prod"], ScriptRun("yarn", "start:prod")),
    (["pnpm", "run", "serve"], ScriptRun("pnpm", "serve")),
    (["yarn", "install"], None),
    (["npm", "test"], None),
    (["npm", "run", "start", "-w", "api"], None),
    (["node", "x.js"], None),
])
def test_script_invocation(argv, run):
    assert script_invocation(argv) == run


def test_start_script_command_takes_the_script_name():
    ctx = Context(package=PackageJson({"scripts": {"start:prod": "node dist/main", "prestart:prod": "x"}}))
    assert "prestart:prod" in start_script_command(ctx, "npm", "start:prod")[1]
    ctx = Context(package=PackageJson({"scripts": {"start:prod": "node dist/main"}}))
    assert start_script_command(ctx, "npm", "start:prod")[0] == ["node", "dist/main"]
    assert "no scripts.serve" in start_script_command(ctx, "npm", "serve")[1]


def test_workdir_and_copy_mapping_through_stages():
    src = ("FROM node:22 AS build\nWORKDIR /src\nCOPY . .\nRUN npm ci\n"
           "FROM node:22-slim\nWORKDIR /app\nCOPY --from=build /src/packages/api ./\nCMD npm run start:prod\n")
    doc = parse(src)
    ctx = Context(package=PackageJson(json.loads(NPM_WS["package.json"])), files=files(NPM_WS))
    final = doc.final_stage
    assert workdir_at(doc, final) == "/app"
    assert context_folder(doc, ctx, final, "/app") == "packages/api"
    run, argv, why = script_command(doc, ctx, ["npm", "run", "start:prod"])
    assert argv == ["node", "dist/main"], why


def test_workspace_without_mapping_gives_the_reason():
    doc = parse("FROM node:22\nWORKDIR /app\nCMD npm start\n")
    ctx = Context(package=PackageJson(json.loads(NPM_WS["package.json"])), files=files(NPM_WS))
    run, argv, why = script_command(doc, ctx, ["npm", "start"])
    assert argv is None and "workspace" in why


WS2 = {
    "package.json": '{"workspaces": ["apps/*"]}',
    "apps/api/package.json": '{"name": "@acme/api", "scripts": {"start": "nodemon src"}, "devDependencies": {"nodemon": "3"}}',
    "apps/web/package.json": '{"name": "web", "scripts": {"start": "node server.js"}}',
}


@pytest.mark.parametrize("cmd,needs_dev", [
    ('["yarn", "workspace", "@acme/api", "start"]', True),
    ('["yarn", "workspace", "web", "start"]', False),
    ('["npm", "start", "-w", "apps/api"]', True),
    ('["npm", "start", "--workspace=web"]', False),
    ('["pnpm", "--filter", "@acme/api", "start"]', True),
    ('["npm", "--prefix", "apps/web", "start"]', False),
    ('["dumb-init", "--", "yarn", "workspace", "@acme/api", "start"]', True),
    ('["yarn", "workspace", "nope", "start"]', True),  # cannot be told: devDependencies stay
])
def test_start_command_selecting_a_workspace(cmd, needs_dev):
    from dockerfix.transforms._devdeps import runtime_dev_reason

    ctx = Context(package=PackageJson(json.loads(WS2["package.json"])), files=files(WS2))
    doc = parse(f"FROM node:22\nWORKDIR /app\nCOPY . .\nCMD {cmd}\n")
    assert (runtime_dev_reason(doc, ctx) is not None) is needs_dev


def test_dfx007_runs_the_named_script_directly():
    """Class 11: `npm run start:prod` (NestJS) becomes `node dist/main` under the init, and a
    workspace package's start is read from its own package.json."""
    from dockerfix.fixer.edits import Fix, apply_edits
    from dockerfix.transforms.dfx007_init_process import InitProcess

    ctx = Context(package=PackageJson({"scripts": {"start:prod": "node dist/main"}}))
    src = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nCMD [\"npm\", \"run\", \"start:prod\"]\n"
    fixes = [f for f in InitProcess().fix(parse(src), ctx) if isinstance(f, Fix)]
    assert apply_edits(src, [e for f in fixes for e in f.edits]).endswith('CMD ["node", "dist/main"]\n')

    ctx = Context(package=PackageJson(json.loads(NPM_WS["package.json"])), files=files(NPM_WS))
    src = "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nWORKDIR packages/api\nCMD [\"npm\", \"run\", \"start:prod\"]\n"
    fixes = [f for f in InitProcess().fix(parse(src), ctx) if isinstance(f, Fix)]
    assert apply_edits(src, [e for f in fixes for e in f.edits]).endswith('CMD ["node", "dist/main"]\n')


@pytest.mark.parametrize("copy,where", [
    ("COPY package*.json ./", ""),
    ("COPY ./packages/api/package*.json ./", "packages/api"),
    ("COPY packages/*/package.json ./", None),  # a glob over folders: which one is not known
    ("COPY packages/api .", "packages/api"),
])
def test_copy_mapping_of_package_files(copy, where):
    doc = parse(f"FROM node:22\nWORKDIR /app\n{copy}\nRUN npm ci\n")
    ctx = Context(package=PackageJson(json.loads(NPM_WS["package.json"])), files=files(NPM_WS))
    st = doc.final_stage
    assert context_folder(doc, ctx, st, "/app", before=st.instructions[-1].index) == where
