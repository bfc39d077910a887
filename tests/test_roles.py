"""Stage roles: which images are an application's runtime (issue 12, class 6)."""

from __future__ import annotations

import pytest

from dockerfix.fixer.document import parse
from dockerfix.fixer.roles import final_role, stage_roles


def role(text: str, name: str = "Dockerfile") -> tuple[str, str]:
    doc = parse(text)
    r = final_role(doc, doc.stages[-1], name)
    return r.kind, r.evidence


@pytest.mark.parametrize("text, name, kind", [
    ("FROM node:22\nCOPY . .\nCMD [\"node\", \"server.js\"]\n", "Dockerfile", "runtime"),
    ("FROM node:22\nCMD npm start\n", "Dockerfile", "runtime"),
    ("FROM node:22\nENTRYPOINT [\"dumb-init\", \"--\"]\nCMD [\"npm\", \"run\", \"start:prod\"]\n", "Dockerfile", "runtime"),
    ("FROM node:22\nCMD [\"npm\", \"start\"]\n", "Dockerfile.dev", "development"),
    ("FROM node:22\nCMD [\"npm\", \"start\"]\n", "dev.Dockerfile", "development"),
    ("FROM node:22\nCMD [\"npm\", \"test\"]\n", "Dockerfile.test", "test"),
    ("FROM node:22\nCMD [\"npm\", \"run\", \"dev\"]\n", "Dockerfile", "development"),
    ("FROM node:22\nCMD [\"npx\", \"nodemon\", \"index.js\"]\n", "Dockerfile", "development"),
    ("FROM node:22\nCMD yarn dev\n", "Dockerfile", "development"),
    ("# do not use in production\nFROM node:22\nCMD node a.js\n", "Dockerfile", "development"),
    ("FROM node:22\nENV NODE_ENV=development\nCMD node a.js\n", "Dockerfile", "development"),
    ("FROM node:22\nCMD [\"npm\", \"test\"]\n", "Dockerfile", "test"),
    ("FROM cypress/included:13\nCMD [\"npx\", \"cypress\", \"run\"]\n", "Dockerfile", "test"),
    ("FROM node:22 AS build\nRUN npm run build\nFROM nginx:alpine\nCOPY --from=build /app/dist /usr/share/nginx/html\n",
     "Dockerfile", "non-node"),
    ("FROM node:22\nCMD [\"java\", \"-jar\", \"a.jar\"]\n", "Dockerfile", "non-node"),
    ("FROM node:22\nCOPY . .\nRUN npm ci && npm run build\n", "Dockerfile", "build-only"),
    ("FROM debian:bookworm\nENV NODE_VERSION 22.1.0\nRUN groupadd --gid 1000 node && apt-mark auto x\n"
     "CMD [\"node\"]\n", "Dockerfile", "base-image"),
    ("FROM node:22\nRUN echo\nCMD [\"node\"]\n", "Dockerfile", "base-image"),
    ("FROM base AS x\nFROM node:22 AS base\nCMD node a.js\n", "Dockerfile", "runtime"),
])
def test_final_role(text: str, name: str, kind: str) -> None:
    got, evidence = role(text, name)
    assert got == kind, evidence
    assert evidence


def test_intermediate_stages_are_build() -> None:
    doc = parse("FROM node:22 AS deps\nRUN npm ci\nFROM node:22-slim\nCOPY --from=deps /n /n\nCMD node a\n")
    roles = stage_roles(doc)
    assert roles[0].kind == "build" and roles[1].kind == "runtime" and roles[1].is_runtime


def test_runtime_through_a_named_parent_stage() -> None:
    doc = parse("FROM node:22 AS base\nCMD [\"node\", \"a.js\"]\nFROM base AS prod\nUSER node\n")
    assert stage_roles(doc)[1].kind == "runtime"


@pytest.mark.parametrize("text, name, kind", [
    # ONBUILD triggers and an init with nothing after it: images others build FROM
    ("FROM node:22\nONBUILD COPY . /app\nCMD [\"npm\", \"start\"]\n", "Dockerfile", "base-image"),
    ("FROM node:22-alpine\nRUN apk add --no-cache tini\nENTRYPOINT [\"/sbin/tini\", \"--\"]\n", "Dockerfile", "base-image"),
    # a dev container is found by its folder, not only its file name
    ("FROM node:22\nCMD [\"sleep\", \"infinity\"]\n", ".devcontainer/Dockerfile", "development"),
    ("FROM node:22\nCMD [\"node\", \"a.js\"]\n", "/tmp/test_x0/Dockerfile", "runtime"),  # folders are not names
    # an entrypoint wrapper and a step-down program are looked through
    ("FROM node:22\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"npm\", \"run\", \"dev\"]\n", "Dockerfile", "development"),
    ("FROM node:22\nCMD [\"su-exec\", \"node\", \"npm\", \"run\", \"watch\"]\n", "Dockerfile", "development"),
    # npm's own commands are not scripts
    ("FROM node:22\nCMD [\"npm\", \"ci\"]\n", "Dockerfile", "runtime"),
    ("FROM node:22\nCMD [\"npm\", \"--prefix\", \"api\", \"run\", \"dev\"]\n", "Dockerfile", "development"),
    ("FROM node:22\nCMD [\"bash\"]\n", "Dockerfile", "build-only"),
    ("FROM public.ecr.aws/nginx/nginx:1.27\nCOPY dist /usr/share/nginx/html\n", "Dockerfile", "non-node"),
])
def test_final_role_more(text: str, name: str, kind: str) -> None:
    got, evidence = role(text, name)
    assert got == kind, evidence


def test_comments_of_another_stage_do_not_count() -> None:
    text = ("# development image: do not use in production\nFROM node:22 AS dev\nCMD [\"npm\", \"run\", \"dev\"]\n\n"
            "FROM node:22-slim AS prod\nCMD [\"node\", \"server.js\"]\n")
    assert role(text)[0] == "runtime"
    single = "# Development image only, do not use in production\nFROM node:22\nCMD [\"node\", \"a.js\"]\n"
    assert role(single)[0] == "development"


def test_start_script_is_judged_by_what_it_runs() -> None:
    doc = parse("FROM node:22\nCMD [\"npm\", \"start\"]\n")
    dev = final_role(doc, doc.stages[-1], "Dockerfile", {"start": "nodemon src/index.js"})
    assert dev.kind == "development" and "nodemon" in dev.evidence
    cra = final_role(doc, doc.stages[-1], "Dockerfile", {"start": "react-scripts start"})
    assert cra.kind == "development"
    prod = final_role(doc, doc.stages[-1], "Dockerfile", {"start": "node dist/main.js"})
    assert prod.kind == "runtime"


@pytest.mark.parametrize("cmd, kind, said", [
    # npm has no `dev` command (npm 10/11 exit with "Unknown command"): the dev script is meant
    ('["npm", "dev"]', "development", "names the development script `dev`"),
    ('["npm", "watch"]', "development", "names the development script `watch`"),
    ('["npm", "ci"]', "runtime", ""),  # an npm command, not a script name
    # monorepo task runners asked for a development task
    ('["npx", "turbo", "dev"]', "development", "runs `turbo dev`"),
    ('npx -y turbo run dev --filter=api', "development", "runs `turbo run dev --filter=api`"),
    ('["pnpm", "exec", "turbo", "dev"]', "development", "runs `turbo dev`"),
    ('["npx", "nx", "serve", "api"]', "development", "runs `nx serve api`"),
    ('nx run api:serve', "development", "runs `nx run api:serve`"),
    ('["npx", "nx", "run-many", "--target=serve"]', "development", "--target=serve"),
    ('["npx", "turbo", "run", "start"]', "runtime", ""),
    ('["npx", "nx", "run", "api:start"]', "runtime", ""),
])
def test_dev_commands_without_a_script(cmd: str, kind: str, said: str) -> None:
    got, evidence = role(f"FROM node:22\nCMD {cmd}\n")
    assert got == kind, evidence
    assert said in evidence


def test_a_start_script_that_runs_a_task_runner() -> None:
    doc = parse("FROM node:22\nCMD [\"npm\", \"start\"]\n")
    r = final_role(doc, doc.stages[-1], "Dockerfile", {"start": "turbo run dev"})
    assert r.kind == "development" and "scripts.start (`turbo run dev`)" in r.evidence


ROLE_CASES = ["npm-dev-without-run", "turbo-dev-through-npx", "turbo-run-dev-no-package-json", "nx-serve",
              "entrypoint-script-runs-dev-server", "start-script-not-in-context"]


@pytest.mark.parametrize("name", ROLE_CASES)
def test_non_runtime_stages_get_no_hardening_and_a_reason(name: str) -> None:
    """No NODE_ENV, no --omit=dev, no USER, no init: each of the four transforms says why."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from fixture_cases import FIXTURES, Case

    case = Case("roles", name, FIXTURES / "roles" / name)
    assert set(case.options["select"]) == {"DFX004", "DFX005", "DFX006", "DFX007"}
    result = case.run()
    assert result.after == case.before and not result.applied and not result.pending
    said = {s.code: s.reason for s in result.skips if "not a Node.js application's runtime image" in s.reason}
    assert set(said) == {"DFX004", "DFX005", "DFX006", "DFX007"}, [s.reason for s in result.skips]
    kind = "an image whose role is unknown" if name == "start-script-not-in-context" else "a development image"
    assert all(kind in r for r in said.values()), said


def test_a_start_script_that_runs_node_is_a_runtime() -> None:
    from dockerfix.fixer.context import Context
    from dockerfix.fixer.facts import ContextFiles
    from dockerfix.transforms._roles import final_stage_role

    doc = parse("FROM node:22\nWORKDIR /app\nCOPY . .\nENTRYPOINT [\"/app/start.sh\"]\n")
    files = {"start.sh": "#!/bin/sh\n# migrate, then serve\nnode migrate.js && exec node server.js\n"}
    r = final_stage_role(doc, Context(files=ContextFiles.of(files)))
    assert r is not None and r.kind == "runtime"
    files = {"start.sh": "#!/bin/sh\nexec npx nodemon server.js\n"}
    r = final_stage_role(doc, Context(files=ContextFiles.of(files)))
    assert r is not None and r.kind == "development" and "line 2 of its start script start.sh" in r.evidence
    r = final_stage_role(doc, Context(files=ContextFiles.of({})))
    assert r is not None and r.kind == "unknown" and "`/app/start.sh`, which is not in the build context" in r.evidence


def test_a_missing_wrapper_script_is_judged_by_the_command_it_is_handed() -> None:
    from dockerfix.fixer.context import Context
    from dockerfix.fixer.facts import ContextFiles
    from dockerfix.transforms._roles import final_stage_role

    ctx = Context(files=ContextFiles.of({}))
    doc = parse("FROM node:22\nENTRYPOINT [\"/start.sh\"]\nCMD [\"node\", \"server.js\"]\n")
    r = final_stage_role(doc, ctx)
    assert r is not None and r.kind == "runtime"
    doc = parse("FROM node:22\nENTRYPOINT [\"/start.sh\"]\nCMD [\"npm\", \"run\", \"dev\"]\n")
    r = final_stage_role(doc, ctx)
    assert r is not None and r.kind == "development" and "handed to /start.sh" in r.evidence
    files = ContextFiles.of({"start.sh": "#!/bin/sh\nset -e\nexec \"$@\"\n"})
    r = final_stage_role(doc, Context(files=files))
    assert r is not None and r.kind == "development"
