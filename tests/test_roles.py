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
