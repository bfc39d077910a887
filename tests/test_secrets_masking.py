"""Secret values never reach a printed diff; the files themselves are never masked."""

from __future__ import annotations

import pytest

from dockerfix.fixer.diffing import unified_diff
from dockerfix.fixer.secrets import Redactor, is_secret_name, mask_secrets


@pytest.mark.parametrize("name,secret", [
    ("NPM_TOKEN", True), ("API_KEY", True), ("DB_PASSWORD", True), ("GITHUB_AUTH", True),
    ("PUBLIC_KEY", False), ("KEY_FILE", False), ("MONKEY", False), ("NODE_VERSION", False),
])
def test_buildkit_secret_names(name, secret):
    assert is_secret_name(name) is secret


@pytest.mark.parametrize("line,masked", [
    ("ARG NPM_TOKEN=abc123\n", "ARG NPM_TOKEN=***\n"),
    ("ARG NPM_TOKEN\n", "ARG NPM_TOKEN\n"),
    ('ENV A=1 API_KEY="x y" PUBLIC_KEY=pk\r\n', "ENV A=1 API_KEY=*** PUBLIC_KEY=pk\r\n"),
    ("env DB_PASSWORD hunter2\n", "env DB_PASSWORD ***\n"),
    ("ARG NPM_TOKEN=${CI_TOKEN}\n", "ARG NPM_TOKEN=${CI_TOKEN}\n"),
    ('RUN echo "//registry.npmjs.org/:_authToken=abcd" > .npmrc\n',
     'RUN echo "//registry.npmjs.org/:_authToken=***" > .npmrc\n'),
    ('RUN echo "//r/:_authToken=${NPM_TOKEN}" > .npmrc\n', 'RUN echo "//r/:_authToken=${NPM_TOKEN}" > .npmrc\n'),
    ("ENV MONKEY=banana", "ENV MONKEY=banana"),
])
def test_mask(line, masked):
    assert mask_secrets(line) == masked


def test_diff_masks_removed_and_context_lines():
    before = "FROM node:26\nARG NPM_TOKEN=s3cr3t-value\nENV NODE_ENV=development\nRUN npm ci\n"
    after = "FROM node:26\nENV NODE_ENV=production\nRUN npm ci\n"
    d = unified_diff(before, after, "Dockerfile")
    assert "s3cr3t-value" not in d and "-ARG NPM_TOKEN=***\n" in d and "+ENV NODE_ENV=production" in d


def test_diff_masks_secrets_on_continuation_lines():
    before = "FROM node:26\nENV APP=1 \\\n    NPM_TOKEN=supersecret123\nRUN npm install\n"
    after = "FROM node:26\nENV APP=1 \\\n    NPM_TOKEN=supersecret123\nRUN npm ci\n"
    d = unified_diff(before, after, "Dockerfile")
    assert "supersecret123" not in d and "NPM_TOKEN=***" in d


def test_report_messages_and_notes_are_masked(tmp_path):
    import subprocess
    import sys

    (tmp_path / "Dockerfile").write_text(
        'FROM node:22\nWORKDIR /app\nCOPY package*.json ./\n'
        'RUN echo "//registry.npmjs.org/:_authToken=tok_inline_888" > .npmrc && npm ci\n')
    (tmp_path / "package.json").write_text('{"name": "a"}')
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}')
    for fmt in ("text", "json", "sarif", "markdown", "github"):
        p = subprocess.run([sys.executable, "-m", "dockerfix", "--diff", "--offline", "--unsafe-fixes",
                            "--format", fmt, "."], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert p.returncode in (0, 1), p.stderr
        assert "tok_inline_888" not in p.stdout + p.stderr, fmt


def test_redactor_hides_known_secrets_longest_first():
    r = Redactor(["abc", "abcdef", None, ""], min_length=3)
    r.add("xy")  # shorter than min_length: left alone
    assert r("token abcdef, part abc, xy") == "token ***, part ***, xy"
    assert Redactor()("nothing to hide") == "nothing to hide"
