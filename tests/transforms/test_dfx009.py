"""Focused tests for DFX009 secret-mounts."""

from __future__ import annotations

import pytest
from dockerfix.fixer.context import Context
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Applicability, Fix, Skip, apply_edits
from dockerfix.fixer.pipeline import Pipeline
from dockerfix.transforms import ALL
from dockerfix.transforms._secrets import guard_line
from dockerfix.transforms.dfx009_secret_mounts import SecretMounts, is_secret_name


def run(text: str, c: Context | None = None) -> tuple[str, list[Fix], list[Skip]]:
    doc = parse(text)
    out = list(SecretMounts().fix(doc, c or Context()))
    fixes = [f for f in out if isinstance(f, Fix)]
    skips = [s for s in out if isinstance(s, Skip)]
    edits = [e for f in fixes if f.applicability > Applicability.DISPLAY_ONLY for e in f.edits]
    return apply_edits(text, edits), fixes, skips


@pytest.mark.parametrize("name", ["NPM_TOKEN", "NPM_AUTH_TOKEN", "GITHUB_TOKEN", "DB_PASSWORD", "API_KEY",
                                  "AWS_SECRET_ACCESS_KEY", "apikey", "AUTH", "my_credentials", "SSH_PASSWD"])
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["PUBLIC_KEY", "SSH_KEY_FILE", "KEY_VERSION", "MONKEY", "TOKENIZER", "NODE_ENV",
                                  "PASSWORDLESS", "AUTHOR"])
def test_not_secret_names(name):
    assert not is_secret_name(name)


def test_e2e_shape_copy_and_rm():
    text = ("FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY .npmrc package.json package-lock.json ./\n"
            "RUN npm install && rm -f .npmrc\nCOPY server.js .\nCMD [\"npm\", \"start\"]\n")
    out, fixes, _ = run(text)
    assert "COPY package.json package-lock.json ./\n" in out
    assert "RUN --mount=type=secret,id=npmrc,target=/app/.npmrc,required=true npm install\n" in out
    assert ".npmrc" not in out.replace("target=/app/.npmrc", "")
    fix = fixes[0]
    assert fix.applicability == Applicability.UNSAFE
    assert any("--secret id=npmrc,src=./.npmrc" in n for n in fix.notes)
    assert any("compose" in n for n in fix.notes) and any("build-push-action" in n for n in fix.notes)


def test_no_syntax_line_added():
    text = "FROM node:22\nWORKDIR /app\nCOPY .npmrc ./\nRUN npm ci\nRUN rm .npmrc\n"
    out, _, _ = run(text)
    assert "# syntax" not in out
    assert out == "FROM node:22\nWORKDIR /app\nRUN --mount=type=secret,id=npmrc,target=/app/.npmrc,required=true npm ci\n"


def test_echo_chain_with_continuations_and_arg_removed():
    text = ("FROM node:22\nARG NPM_TOKEN\nWORKDIR /app\n"
            "RUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > .npmrc && \\\n"
            "    npm ci && \\\n    rm -f .npmrc\n")
    out, fixes, _ = run(text)
    # the token form: the RUN keeps writing (and removing) the .npmrc, the token comes from the secret
    # and stops at once, saying what to pass, when the secret is missing or empty
    assert out == ("FROM node:22\nWORKDIR /app\n"
                   "RUN --mount=type=secret,id=npm_token,required=true \\\n"
                   "    test -s /run/secrets/npm_token || { echo \"build secret npm_token is missing or empty: set "
                   "NPM_TOKEN and pass --secret id=npm_token,env=NPM_TOKEN\" >&2; exit 1; }; \\\n"
                   "    echo \"//registry.npmjs.org/:_authToken=$(cat /run/secrets/npm_token)\" > .npmrc && \\\n"
                   "    npm ci && \\\n    rm -f .npmrc\n")
    fix = fixes[0]
    assert [(m.build_arg, m.secret_id, m.source) for m in fix.secrets] == [("NPM_TOKEN", "npm_token", "value")]
    assert any("--secret id=npm_token,env=NPM_TOKEN" in n for n in fix.notes)
    assert any("{npm_token: {environment: NPM_TOKEN}}" in n for n in fix.notes)
    assert any("npm_token=${{ secrets.NPM_TOKEN }}" in n for n in fix.notes)
    # a second run finds nothing to do, and reports nothing
    assert run(out)[0] == out and not run(out)[1] and not run(out)[2]


def test_token_form_keeps_scope_lines_and_quotes_unquoted_refs():
    text = ("FROM node:22\nARG NPM_TOKEN\nWORKDIR /app\n"
            "RUN echo @acme:registry=https://npm.pkg.github.com > .npmrc && "
            "echo //npm.pkg.github.com/:_authToken=$NPM_TOKEN >> .npmrc && echo always-auth=true >> .npmrc && "
            "npm ci && rm .npmrc\n")
    out, fixes, _ = run(text)
    assert "echo //npm.pkg.github.com/:_authToken=\"$(cat /run/secrets/npm_token)\" >> .npmrc" in out
    assert "echo @acme:registry=https://npm.pkg.github.com > .npmrc" in out and "ARG" not in out
    note = next(n for n in fixes[0].notes if "still writes" in n)
    assert "@acme:registry=https://npm.pkg.github.com" in note and "always-auth=true" in note
    assert "registry.npmjs.org" not in " ".join(fixes[0].notes)


def test_separate_runs_keep_the_file_form_and_real_host_in_hints():
    text = ("FROM node:22\nARG NPM_TOKEN\nWORKDIR /app\n"
            "RUN printf '@acme:registry=https://npm.pkg.github.com\\n//npm.pkg.github.com/:_authToken=%s\\n' "
            "\"$NPM_TOKEN\" > .npmrc\nRUN npm ci\nRUN rm .npmrc\n")
    out, fixes, _ = run(text)
    assert "RUN --mount=type=secret,id=npmrc,target=/app/.npmrc,required=true npm ci\n" in out
    fix = fixes[0]
    assert [(m.build_arg, m.secret_id, m.source) for m in fix.secrets] == [("NPM_TOKEN", "npmrc", "file")]
    gha = next(n for n in fix.notes if n.startswith("GitHub Actions"))
    assert "'@acme:registry=https://npm.pkg.github.com'" in gha and "//npm.pkg.github.com/:_authToken=${NPM_TOKEN}" in gha
    assert "registry.npmjs.org" not in " ".join(fix.notes)


def test_no_workdir_uses_user_config():
    text = "FROM node:22\nARG NPM_TOKEN\nRUN echo //r/:_authToken=$NPM_TOKEN > .npmrc && npm ci && rm .npmrc\n"
    out, _, _ = run(text)
    assert ("RUN --mount=type=secret,id=npm_token,required=true \\\n    " + guard_line("NPM_TOKEN", "npm_token")
            + " \\\n    echo //r/:_authToken=\"$(cat /run/secrets/npm_token)\" > .npmrc && npm ci && rm .npmrc\n") in out


def test_guard_per_secret_keeps_flags_and_the_continuation_layout():
    # two tokens, a cache mount before the command, the command already on its own line, CRLF
    text = ("FROM node:22\r\nARG NPM_TOKEN\r\nARG GH_TOKEN\r\nWORKDIR /app\r\n"
            "RUN --mount=type=cache,target=/root/.npm \\\r\n"
            "  printf '//r/:_authToken=%s\\n//g/:_authToken=%s\\n' \"$NPM_TOKEN\" \"$GH_TOKEN\" > .npmrc && \\\r\n"
            "  npm ci && rm .npmrc\r\n")
    out, fixes, _ = run(text)
    assert out == ("FROM node:22\r\nWORKDIR /app\r\n"
                   "RUN --mount=type=secret,id=npm_token,required=true --mount=type=secret,id=gh_token,required=true"
                   " --mount=type=cache,target=/root/.npm \\\r\n"
                   "  " + guard_line("NPM_TOKEN", "npm_token") + " \\\r\n"
                   "  " + guard_line("GH_TOKEN", "gh_token") + " \\\r\n"
                   "  printf '//r/:_authToken=%s\\n//g/:_authToken=%s\\n' \"$(cat /run/secrets/npm_token)\" "
                   "\"$(cat /run/secrets/gh_token)\" > .npmrc && \\\r\n"
                   "  npm ci && rm .npmrc\r\n")
    assert [m.secret_id for m in fixes[0].secrets] == ["npm_token", "gh_token"]
    assert run(out)[0] == out and not run(out)[1]


def test_guard_uses_the_escape_directive():
    text = ("# escape=`\nFROM node:22\nARG NPM_TOKEN\nWORKDIR /app\n"
            "RUN echo //r/:_authToken=$NPM_TOKEN > .npmrc && npm ci && rm .npmrc\n")
    out, _, _ = run(text)
    assert ("RUN --mount=type=secret,id=npm_token,required=true `\n    " + guard_line("NPM_TOKEN", "npm_token")
            + " `\n    echo //r/:_authToken=") in out


def test_multi_key_arg_keeps_other_keys():
    text = ("FROM node:22\nARG NODE_VERSION=22 NPM_TOKEN\nWORKDIR /app\n"
            "RUN echo //r/:_authToken=$NPM_TOKEN > .npmrc && npm ci && rm .npmrc\n")
    out, _, _ = run(text)
    assert "ARG NODE_VERSION=22\n" in out


def test_arg_used_elsewhere_is_skipped_and_reported():
    text = ("FROM node:22\nARG NPM_TOKEN\nWORKDIR /app\n"
            "RUN echo //r/:_authToken=$NPM_TOKEN > .npmrc && npm ci && rm .npmrc\nRUN curl -H \"x: $NPM_TOKEN\" x\n")
    out, fixes, skips = run(text)
    assert out == text
    assert any("still used" in s.reason for s in skips)
    assert any(f.applicability == Applicability.DISPLAY_ONLY and "NPM_TOKEN" in f.message for f in fixes)


def test_pipe_chain_is_skipped():
    text = "FROM node:22\nWORKDIR /app\nCOPY .npmrc ./\nRUN npm ci || rm .npmrc\n"
    out, _, skips = run(text)
    assert out == text and skips


def test_unknown_user_is_skipped():
    text = "FROM node:22\nWORKDIR /app\nUSER app\nCOPY .npmrc ./\nRUN npm ci && rm .npmrc\n"
    out, _, skips = run(text)
    assert out == text and any("uid is unknown" in s.reason for s in skips)


def test_later_stage_built_from_it_keeps_it():
    text = "FROM node:22 AS deps\nWORKDIR /app\nCOPY .npmrc ./\nRUN npm ci\nFROM deps\nRUN npm run build\n"
    out, _, skips = run(text)
    assert out == text and any("built from" in s.reason for s in skips)


def test_full_pipeline_then_dockerignore_lists_npmrc(tmp_path):
    (tmp_path / "package.json").write_text('{"name": "a"}')
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / ".npmrc").write_text("//registry.npmjs.org/:_authToken=FAKE\n")
    from dockerfix.fixer.config import Config
    from dockerfix.fixer.context import load_context

    ctx = load_context(tmp_path / "Dockerfile", tmp_path, Config(), offline=True)
    text = ("FROM node:20-bookworm-slim\nWORKDIR /app\nCOPY .npmrc package.json package-lock.json ./\n"
            "RUN npm install && rm -f .npmrc\nCOPY server.js .\nCMD [\"npm\", \"start\"]\n")
    res = Pipeline([t() for t in ALL], required=Applicability.UNSAFE).run(text, ctx)
    assert res.error is None
    assert "FAKE" not in res.after and "COPY .npmrc" not in res.after
    assert "--mount=type=secret,id=npmrc,target=/app/.npmrc" in res.after
    assert ".npmrc" in res.extra_files[".dockerignore"][1].splitlines()


@pytest.mark.parametrize("existing,expected", [
    (None, "# Added by dockerfix (DFX009): the .npmrc is a build secret now, a COPY must not take it\n.npmrc\n"),
    ("dist", "dist\n\n# Added by dockerfix (DFX009): the .npmrc is a build secret now, a COPY must not take it\n"
             ".npmrc\n"),
    ("dist\r\n", "dist\r\n\r\n# Added by dockerfix (DFX009): the .npmrc is a build secret now, a COPY must not "
                 "take it\r\n.npmrc\r\n"),
    ("*.npmrc\n.npmrc\n", None),  # already kept out
])
def test_copied_npmrc_goes_to_dockerignore_when_a_later_copy_takes_it(tmp_path, existing, expected):
    from dockerfix.fixer.config import Config
    from dockerfix.fixer.context import load_context

    (tmp_path / "package.json").write_text('{"name": "a"}')
    (tmp_path / ".npmrc").write_text("//npm.pkg.github.com/:_authToken=FAKE\n")
    if existing is not None:
        (tmp_path / ".dockerignore").write_bytes(existing.encode())
    ctx = load_context(tmp_path / "Dockerfile", tmp_path, Config(), offline=True)
    text = "FROM node:22\nWORKDIR /app\nCOPY .npmrc package.json ./\nRUN npm ci && rm -f .npmrc\nCOPY . .\n"
    res = Pipeline([SecretMounts()], required=Applicability.UNSAFE).run(text, ctx)
    assert res.error is None and "COPY .npmrc" not in res.after
    if expected is None:
        assert ".dockerignore" not in res.extra_files
    else:
        assert res.extra_files[".dockerignore"] == (existing, expected)


def test_no_later_copy_no_dockerignore_entry(tmp_path):
    from dockerfix.fixer.config import Config
    from dockerfix.fixer.context import load_context

    (tmp_path / "package.json").write_text('{"name": "a"}')
    ctx = load_context(tmp_path / "Dockerfile", tmp_path, Config(), offline=True)
    text = "FROM node:22\nWORKDIR /app\nCOPY .npmrc package.json ./\nRUN npm ci && rm -f .npmrc\nCOPY server.js .\n"
    res = Pipeline([SecretMounts()], required=Applicability.UNSAFE).run(text, ctx)
    assert res.changed and res.extra_files == {}
