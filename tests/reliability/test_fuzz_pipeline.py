"""Any input through every transform (unsafe fixes included): ``Pipeline.run`` never raises, a
changed output parses with BuildKit (same boundaries as ours), a second run changes nothing, and
no transform ever crashes or breaks the syntax (an internal error is a dockerfix bug)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given

from dockerfix.fixer.config import Config
from dockerfix.fixer.context import load_context
from dockerfix.fixer.edits import Applicability
from dockerfix.fixer.pipeline import Pipeline
from dockerfix.fixer.validate import buildkit_available, validate
from dockerfix.transforms import ALL

from . import strategies as S
from .conftest import FUZZ, STATS
from .regressions import REGRESSION_INPUTS

PIPE = Pipeline([t() for t in ALL], required=Applicability.UNSAFE)
SAFE_PIPE = Pipeline([t() for t in ALL], required=Applicability.SAFE)


@dataclass
class _Res:
    digest: str
    kind: str = "index"
    media_type: str = "application/vnd.oci.image.index.v1+json"
    platforms: tuple = ("linux/amd64", "linux/arm64")
    missing_platforms: tuple = ()
    children: dict = field(default_factory=dict)


class FakeResolver:
    """Every reference resolves to a digest derived from its name; names containing "fail"
    fail, as a registry would."""

    def lookup(self, ref, platforms):
        try:
            return self.resolve(ref, platforms)
        except Exception as e:
            return e

    def resolve(self, ref, platforms):
        from dockerfix.fixer.registry import ResolveError

        name = ref.format(digest=False)
        if "fail" in name:
            raise ResolveError(f"manifest unknown: {name}")
        return _Res("sha256:" + hashlib.sha256(name.encode()).hexdigest())


def _context_dirs() -> dict[str, Path]:
    base = Path(tempfile.mkdtemp(prefix="dockerfix-fuzz-"))
    dirs = {}
    npm = base / "npm"
    npm.mkdir()
    (npm / "package.json").write_text(json.dumps({
        "name": "app", "main": "server.js", "scripts": {"start": "node server.js", "build": "tsc"},
        "engines": {"node": ">=20"}, "dependencies": {"express": "^4"}, "devDependencies": {"typescript": "^5"}}))
    (npm / "package-lock.json").write_text(json.dumps({"name": "app", "lockfileVersion": 3, "packages": {}}))
    (npm / "server.js").write_text("require('http').createServer().listen(3000)\n")
    dirs["npm+lock"] = npm
    yarn = base / "yarn"
    yarn.mkdir()
    (yarn / "package.json").write_text(json.dumps({"name": "y", "scripts": {"start": "node index.js"}}))
    (yarn / "yarn.lock").write_text("# yarn lockfile v1\n")
    (yarn / ".dockerignore").write_text("node_modules\n")
    dirs["yarn+lock"] = yarn
    empty = base / "empty"
    empty.mkdir()
    dirs["no package.json"] = empty
    broken = base / "broken"
    broken.mkdir()
    (broken / "package.json").write_text("{not json")
    dirs["invalid package.json"] = broken
    return dirs


CONTEXTS = _context_dirs()


def make_ctx(kind: str, online: bool):
    d = CONTEXTS[kind]
    return load_context(d / "Dockerfile", d, Config(), offline=not online,
                        digests=FakeResolver().lookup if online else None, today=date(2026, 11, 26))


def check_pipeline(text: str, kind: str, online: bool, pipe: Pipeline = PIPE) -> None:
    STATS["pipeline: inputs tried"] += 1
    result = pipe.run(text, make_ctx(kind, online))  # must not raise
    if result.error_kind == "input":
        STATS["pipeline: refused as input errors"] += 1
        assert result.after == text
        return
    assert result.error is None, f"internal error ({kind}, online={online}): {result.error}"
    if result.status != "changed":
        assert result.after == text
        return
    STATS["pipeline: changed"] += 1
    after = result.after
    assert after.startswith("\ufeff") == text.startswith("\ufeff") and after.count("\ufeff") == text.count("\ufeff")
    if "\r" not in text:
        assert "\r" not in after, "CR added to an LF file"
    elif text.count("\n") == text.count("\r\n") > 0:
        assert after.count("\n") == after.count("\r\n"), "bare LF added to a CRLF file"
    assert after.endswith("\n") == text.endswith("\n"), "final newline added or removed"
    if buildkit_available() and "\x00" not in result.after:
        validate(result.after)  # parses, and BuildKit's boundaries equal ours
    second = pipe.run(result.after, make_ctx(kind, online))
    assert second.error is None, second.error
    assert second.after == result.after, "a second run changed the output again"
    assert second.status == "unchanged" or (second.status == "changed" and second.extra_files)


KINDS = sorted(CONTEXTS)


@FUZZ
@given(S.dockerfiles(), S.st.sampled_from(KINDS), S.st.booleans())
def test_generated_through_all_transforms(text, kind, online):
    check_pipeline(text, kind, online)


@FUZZ
@given(S.mutated(), S.st.sampled_from(KINDS), S.st.booleans())
def test_mutated_through_all_transforms(text, kind, online):
    check_pipeline(text, kind, online)


@FUZZ
@given(S.dockerfiles(), S.st.sampled_from(KINDS))
def test_safe_fixes_only(text, kind):
    check_pipeline(text, kind, True, SAFE_PIPE)


def test_ten_thousand_line_file():
    lines = ["FROM node:18 AS build", "WORKDIR /app", "COPY . .", "RUN npm install"]
    for i in range(10_000):
        lines.append(f"RUN echo {i} \\" if i % 2 == 0 else f"  && echo done{i}")
    lines += ["FROM node", "COPY --from=build /app /app", "CMD npm start"]
    text = "\n".join(lines) + "\n"
    check_pipeline(text, "npm+lock", True)


@pytest.mark.parametrize("name,text", REGRESSION_INPUTS, ids=[n for n, _ in REGRESSION_INPUTS])
@pytest.mark.parametrize("kind", KINDS)
def test_regression_inputs(name, text, kind):
    check_pipeline(text, kind, True)


@pytest.mark.parametrize("text", [
    "FROM --platform=linux/amd64 node:22@sha256:" + "a" * 64 + " \\",
    "FROM node:22@sha256:" + "a" * 64 + " \\\n# trailing comment\n",
    "# escape=`\nFROM node:22@sha256:" + "a" * 64 + " `\n  AS x `",
])
def test_line_added_after_a_continuation_into_eof(text):
    """Found by the fuzzer: the last instruction ends with an escape at the end of the file;
    DFX005 added ``ENV NODE_ENV=production`` after it, BuildKit joined that line to the FROM
    (``FROM ... ENV NODE_ENV=production``) and the run ended in an internal error."""
    result = PIPE.run(text, make_ctx("npm+lock", False))
    assert result.error is None, result.error
    assert "\nENV NODE_ENV=production" in result.after
    if buildkit_available():
        doc = validate(result.after)
        assert [i.keyword for i in doc.instructions][:2] == ["FROM", "ENV"]
