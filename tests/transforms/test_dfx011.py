"""Focused tests for DFX011 dockerignore and the Docker-semantics .dockerignore matcher."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.dockerignore import clean_context_path, dockerignore_matches
from dockerfix.fixer.facts import ContextFiles
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Applicability, Fix, Skip, apply_edits
from dockerfix.transforms.dfx011_dockerignore import HEADER, Dockerignore

STD = "FROM node:22\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n"


def ctx(dockerignore: str | None = None, files: dict[str, str] | None = None, **kw) -> Context:
    files = dict(files or {})
    return Context(context_dir=Path("/ctx"), package=PackageJson({"name": "a"}), dockerignore=dockerignore,
                   files=ContextFiles.of(files), **kw)


def run(text: str, c: Context) -> tuple[str | None, list[Fix], list[Skip]]:
    out = list(Dockerignore().fix(parse(text), c))
    fixes = [f for f in out if isinstance(f, Fix)]
    skips = [s for s in out if isinstance(s, Skip)]
    if not fixes:
        return None, fixes, skips
    assert len(fixes) == 1 and fixes[0].path == ".dockerignore"
    return apply_edits(c.file_text(".dockerignore") or "", list(fixes[0].edits)), fixes, skips


@pytest.mark.parametrize("patterns,path,excluded", [
    ("node_modules", "node_modules/a/b.js", True),
    ("**/node_modules", "pkg/node_modules/x", True),
    ("node_modules", "pkg/node_modules", False),  # Docker: no implicit any-depth match (gitignore differs)
    ("*.log", "logs/a.log", False),
    ("**/*.log", "logs/a.log", True),
    ("/dist/", "dist/main.js", True),
    ("./dist", "dist", True),
    ("docs/**/*.md", "docs/a/b/c.md", True),
    ("docs/**/*.md", "docs/c.md", True),
    (".env*\n!.env.example", ".env.example", False),
    (".env*\n!.env.example", ".env.local", True),
    ("*\n!src\n", "src/index.js", False),
    ("  # not a comment when indented? it is a pattern\n", "x", False),
    ("# comment\n\nfoo", "foo", True),
    ("[a-c].txt", "b.txt", True),
    ("[!a-c].txt", "b.txt", False),
    ("a?c", "abc", True),
    ("a?c", "a/c", False),
    ("foo/**", "foo/bar", True),
    ("**", "anything/at/all", True),
])
def test_matcher(patterns, path, excluded):
    assert dockerignore_matches(patterns, path) is excluded


def test_clean():
    assert clean_context_path("./a//b/") == "a/b"
    assert clean_context_path("/x/../y") == "y"
    assert clean_context_path("./") == "."


def test_create_lists_every_entry():
    text, fixes, _ = run(STD, ctx())
    assert text.startswith(HEADER + "\n") and text.endswith(".nyc_output\n")
    assert ".next/cache" not in text  # not a Next.js app
    assert fixes[0].applicability == Applicability.UNSAFE
    for e in ("node_modules", ".git", ".env", ".env.*", ".npmrc", "Dockerfile*", "coverage"):
        assert e in text.splitlines()


def test_merge_keeps_user_lines_and_crlf():
    existing = "dist\r\nnode_modules\r\n"
    text, _, _ = run(STD, ctx(existing))
    assert text.startswith(existing + "\r\n" + HEADER + "\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert text.endswith("\r\n") and "node_modules" not in text[len(existing):]


def test_no_final_newline_is_kept():
    text, _, _ = run(STD, ctx("dist"))
    assert text.startswith("dist\n\n" + HEADER) and not text.endswith("\n")


def test_second_run_is_quiet():
    first, _, _ = run(STD, ctx())
    again, fixes, _ = run(STD, ctx(first))
    assert again is None and not fixes


def test_copy_needs_are_kept():
    df = STD + "COPY .npmrc ./\nCOPY .env.* /cfg/\nRUN --mount=type=bind,source=coverage,target=/c true\n"
    text, _, skips = run(df, ctx())
    lines = text.splitlines()
    assert ".npmrc" not in lines and ".env.*" not in lines and "coverage" not in lines
    assert ".env" in lines
    assert {s.reason.split(" ")[0] for s in skips} >= {".npmrc", ".env.*", "coverage"}


def test_copy_from_stage_and_url_are_not_context():
    df = "FROM node:22 AS b\nRUN npm ci\nFROM node:22\nCOPY --from=b /app/.npmrc /x/\nADD https://x/.git /y\n"
    text, _, _ = run(df, ctx())
    assert ".npmrc" in text.splitlines() and ".git" in text.splitlines()


def test_negation_not_overridden():
    text, _, skips = run(STD, ctx(".env\n!.env.production\n!.npmrc\n"))
    lines = text.splitlines()
    assert ".env.*" not in lines and ".npmrc" not in lines
    assert any("override" in s.reason for s in skips)


def test_context_npmrc_reaching_install_through_copy_dot():
    df = "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    text, _, skips = run(df, ctx(files={".npmrc": "legacy-peer-deps=true\n"}))
    assert ".npmrc" not in text.splitlines() and any(".npmrc not added" in s.reason for s in skips)


def test_env_example_negation_when_present():
    text, _, _ = run(STD, ctx(files={".env.example": "A=1\n"}))
    lines = text.splitlines()
    assert lines.index("!.env.example") == lines.index(".env.*") + 1


def test_skips_without_context_or_package_json():
    _, fixes, skips = run(STD, Context())
    assert not fixes and "no build context" in skips[0].reason
    c = dataclasses.replace(ctx(), package=None)
    _, fixes, skips = run(STD, c)
    assert not fixes and "package.json" in skips[0].reason


def test_build_arg_source_skips():
    _, fixes, skips = run("FROM node:22\nARG D\nCOPY $D ./\nRUN npm ci\n", ctx())
    assert not fixes and "build argument" in skips[0].reason


def test_dockerfile_specific_ignore_file_wins():
    c = ctx(files={"Dockerfile.prod.dockerignore": "x\n"})
    c = dataclasses.replace(c, dockerfile=Path("/ctx/Dockerfile.prod"))
    _, fixes, skips = run(STD, c)
    assert not fixes and "Dockerfile.prod.dockerignore" in skips[0].reason


def test_fixture_harness_checks_dockerignore():
    """after.dockerignore is compared; a context/.dockerignore without one must stay as it is."""
    from fixture_cases import discover

    cases = [c for c in discover() if c.slug == "dockerignore"]
    positive = [c for c in cases if c.after_dockerignore is not None]
    kept = [c for c in cases if c.after_dockerignore is None and c.has_dockerignore]
    assert positive and kept
    for c in positive:
        first = c.run()
        assert first.extra_files[".dockerignore"][1] == c.after_dockerignore
        second = c.run(first.after, {p: new for p, (_o, new) in first.extra_files.items()})
        assert not second.extra_files and second.status == "unchanged"
    for c in kept:
        assert ".dockerignore" not in c.run().extra_files


def test_next_build_cache_only_for_next_apps():
    c = ctx()
    c = dataclasses.replace(c, package=PackageJson({"name": "a", "dependencies": {"next": "15.0.0"}}))
    text, _, _ = run(STD, c)
    assert text.endswith(".next/cache\n")
