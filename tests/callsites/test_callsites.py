"""Call-site rewrites (fixer/callsites.py): each kind of call site, before/after and no-change.

Every case in ``data/cases/<case>/`` is a small repository (``repo/``; a Dockerfile whose
``ARG NPM_TOKEN`` DFX009 turns into the secret ``npm_token`` is added when the case has none),
the files expected after ``dockerfix --write --unsafe-fixes --select DFX009`` (``after/``; every
other file must stay byte for byte) and, in ``case.toml``, the call sites that must be reported
instead of edited (``reported = ["path:line"]``).  Compose files that come out are validated
against the Compose Specification schema and workflows against SchemaStore's workflow schema
(both vendored in tests/data, see its README).
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from dockerfix.fixer import callsites
from dockerfix.fixer.cli import OutputFormat, invoke
from dockerfix.fixer.edits import SecretMigration

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SCHEMAS = HERE.parent / "data"
CASES = sorted(p for p in (DATA / "cases").iterdir() if p.is_dir())

DOCKERFILE = """FROM node:22-slim
ARG NPM_TOKEN
WORKDIR /app
COPY package.json ./
RUN echo "//npm.pkg.github.com/:_authToken=${NPM_TOKEN}" > .npmrc && npm install && rm -f .npmrc
COPY . .
CMD ["node", "server.js"]
"""


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file() and ".git" not in p.relative_to(folder).parts}


def make_repo(tmp_path: Path, case: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(case / "repo", repo)
    if not (repo / "Dockerfile").exists():
        (repo / "Dockerfile").write_text(DOCKERFILE)
    if not (repo / "package.json").exists():
        (repo / "package.json").write_text('{"name": "api", "version": "1.0.0"}\n')
    (repo / ".git").mkdir()
    return repo


def run_fix(repo: Path, capsys, monkeypatch, *, select=("DFX009",), write=True, diff=False) -> tuple[int, dict]:
    monkeypatch.chdir(repo)
    capsys.readouterr()
    code = invoke(paths=[str(repo / "Dockerfile")], write=write, diff=diff, unsafe_fixes=True,
                  select=list(select) if select else None, offline=True, output_format=OutputFormat.json, quiet=True)
    out = capsys.readouterr().out
    return code, json.loads(out[out.index("{"):]) if not diff else {}


def call_site_entries(doc: dict) -> tuple[list[str], list[str]]:
    """(applied "path:line", reported "path:line") from the JSON report."""
    applied, reported = [], []
    for f in doc["files"]:
        for fx in f["fixes"]:
            for n in fx["notes"]:
                m = re.match(r"^(\S+?):(\d+) \(", n)
                if m and fx["message"].startswith("call site"):
                    (applied if fx["applied"] else reported).append(f"{m.group(1)}:{m.group(2)}")
    return applied, reported


def validate_compose(text: str) -> None:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    data = YAML(typ="safe", pure=True).load(text)
    jsonschema.validators.validator_for(schema)(schema).validate(data)


def validate_workflow(before: str, after: str) -> None:
    schema = json.loads((SCHEMAS / "github-workflow.json").read_text())
    data = YAML(typ="safe", pure=True).load(after)
    # YAML 1.2 (ruamel) keeps `on` a string key, as GitHub reads it
    jsonschema.validators.validator_for(schema)(schema).validate(data)
    comments = [ln.strip() for ln in before.splitlines() if ln.strip().startswith("#")]
    assert all(c in after for c in comments), "a comment was lost"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path, tmp_path, capsys, monkeypatch):
    repo = make_repo(tmp_path, case)
    before = _files(repo)
    opts = tomllib.loads((case / "case.toml").read_text()) if (case / "case.toml").exists() else {}
    code, doc = run_fix(repo, capsys, monkeypatch)
    assert code == 0, doc
    after = _files(repo)
    expected = _files(case / "after") if (case / "after").is_dir() else {}
    assert "ARG NPM_TOKEN" not in after["Dockerfile"] and ",required=true" in after["Dockerfile"]
    if not (case / "repo" / "Dockerfile").exists():
        assert "--mount=type=secret,id=npm_token,required=true" in after["Dockerfile"]
    for rel, text in before.items():
        if rel == "Dockerfile":
            continue
        assert after[rel] == expected.get(rel, text), f"{rel} differs from what the case expects"
    for rel, text in expected.items():  # files the run creates (.dockerignore)
        assert after.get(rel) == text, rel
    applied, reported = call_site_entries(doc)
    assert sorted(reported) == sorted(opts.get("reported", []))
    changed = sorted(rel for rel in expected if rel in before)
    assert sorted({a.split(":")[0] for a in applied}) == changed
    for rel, text in after.items():
        if rel.endswith((".yml", ".yaml")) and "compose" in rel:
            validate_compose(text)
        if rel.startswith(".github/workflows/"):
            validate_workflow(before[rel], text)
    # a second run changes nothing (and reports the same hand-made changes)
    code, doc2 = run_fix(repo, capsys, monkeypatch)
    assert code == 0 and _files(repo) == after
    assert call_site_entries(doc2) == ([], [])


def test_done_when_one_write_fixes_every_call_site(tmp_path, capsys, monkeypatch):
    """Dockerfile + compose + workflow + Makefile passing NPM_TOKEN: one `--write --unsafe-fixes`
    (every transform) leaves the token a secret everywhere, and the report lists all four files."""
    repo = tmp_path / "repo"
    shutil.copytree(DATA / "repo", repo)
    (repo / ".git").mkdir()
    code, doc = run_fix(repo, capsys, monkeypatch, select=None)
    assert code == 0
    files = _files(repo)
    assert "--build-arg" not in files["Makefile"] + files["package.json"] + files[".github/workflows/ci.yml"]
    assert "NPM_TOKEN: ${NPM_TOKEN}" not in files["compose.yaml"]
    assert "ARG NPM_TOKEN" not in files["Dockerfile"]
    assert "--mount=type=secret,id=npm_token,required=true" in files["Dockerfile"]
    assert "$(cat /run/secrets/npm_token)" in files["Dockerfile"]
    assert "@acme:registry=https://npm.pkg.github.com" in files["Dockerfile"]  # the scope line stays
    validate_compose(files["compose.yaml"])
    validate_workflow((DATA / "repo/.github/workflows/ci.yml").read_text(), files[".github/workflows/ci.yml"])
    applied, reported = call_site_entries(doc)
    listed = {a.split(":")[0] for a in applied}
    assert {"Dockerfile", "compose.yaml", ".github/workflows/ci.yml", "Makefile"} <= listed | {"Dockerfile"}
    assert {"compose.yaml", ".github/workflows/ci.yml", "Makefile", "package.json"} <= listed
    assert sorted(reported) == [".gitlab-ci.yml:4", "README.md:6"]
    # untouched: documentation and GitLab CI (reported only)
    assert files["README.md"] == (DATA / "repo/README.md").read_text()
    assert files[".gitlab-ci.yml"] == (DATA / "repo/.gitlab-ci.yml").read_text()
    # the token is passed as a secret everywhere it was a build-arg
    assert "secrets:\n  npm_token:\n    environment: NPM_TOKEN\n" in files["compose.yaml"]
    assert "npm_token=${{ secrets.NPM_TOKEN }}" in files[".github/workflows/ci.yml"]
    assert "--secret id=npm_token,env=NPM_TOKEN" in files["Makefile"]
    # and a second run has nothing left to do
    code, _doc = run_fix(repo, capsys, monkeypatch, select=None)
    assert code == 0 and _files(repo) == files


def test_diff_shows_call_sites_and_writes_nothing(tmp_path, capsys, monkeypatch):
    repo = make_repo(tmp_path, DATA / "cases" / "compose-mapping")
    before = _files(repo)
    monkeypatch.chdir(repo)
    capsys.readouterr()
    code = invoke(paths=["Dockerfile"], diff=True, unsafe_fixes=True, select=["DFX009"], offline=True, quiet=True)
    out = capsys.readouterr().out
    assert code == 1
    assert "--- a/compose.yaml\n+++ b/compose.yaml\n" in out and "-        NPM_TOKEN: ${NPM_TOKEN}\n" in out
    assert _files(repo) == before


def test_without_unsafe_fixes_no_call_site_changes(tmp_path, capsys, monkeypatch):
    repo = make_repo(tmp_path, DATA / "cases" / "compose-mapping")
    before = _files(repo)
    monkeypatch.chdir(repo)
    code = invoke(paths=["Dockerfile"], write=True, select=["DFX009"], offline=True, quiet=True)
    assert code == 0 and _files(repo) == before


# -- the pure functions ----------------------------------------------------------------------------

def _mig(tmp_path: Path, name="NPM_TOKEN", sid="npm_token") -> callsites.Migration:
    return callsites.Migration(tmp_path / "Dockerfile", tmp_path, SecretMigration(name, sid))


def test_shell_keeps_everything_but_the_flag(tmp_path):
    m = _mig(tmp_path)
    text = "set -e\nsudo docker build --pull --build-arg NPM_TOKEN -f Dockerfile . # comment\necho done\n"
    sr = callsites.rewrite_shell(text, [m], rel="b.sh", kind="script", builds=lambda _c: m.dockerfile)
    assert sr.text == text.replace("--build-arg NPM_TOKEN", "--secret id=npm_token,env=NPM_TOKEN")
    assert [(c.line, c.applied) for c in sr.changes] == [(2, True)]


@pytest.mark.parametrize("arg,expect", [
    ("--build-arg NPM_TOKEN=$GH_PACKAGES_TOKEN", "--secret id=npm_token,env=GH_PACKAGES_TOKEN"),
    ("--build-arg 'NPM_TOKEN=${NPM_TOKEN:?set it}'", "--secret id=npm_token,env=NPM_TOKEN"),
    ("--build-arg NPM_TOKEN=$(cat .secrets/npm)", "--secret id=npm_token,src=.secrets/npm"),
])
def test_shell_value_sources(tmp_path, arg, expect):
    m = _mig(tmp_path)
    sr = callsites.rewrite_shell(f"docker build {arg} .\n", [m], rel="b.sh", kind="script",
                                 builds=lambda _c: m.dockerfile)
    assert sr.text == f"docker build {expect} .\n"


@pytest.mark.parametrize("arg", ["--build-arg NPM_TOKEN=abc123", "--build-arg NPM_TOKEN=${NPM_TOKEN:-x}"])
def test_shell_values_it_cannot_follow_are_reported(tmp_path, arg):
    m = _mig(tmp_path)
    text = f"docker build {arg} .\n"
    sr = callsites.rewrite_shell(text, [m], rel="b.sh", kind="script", builds=lambda _c: m.dockerfile)
    assert sr.text == text and [c.applied for c in sr.changes] == [False]
    assert "abc123" not in sr.changes[0].after


def test_shell_other_dockerfile_and_other_args_untouched(tmp_path):
    m = _mig(tmp_path)
    text = "docker build --build-arg NPM_TOKEN=$NPM_TOKEN -f other/Dockerfile other\ndocker build --build-arg X=1 .\n"
    sr = callsites.rewrite_shell(text, [m], rel="b.sh", kind="script",
                                 builds=lambda c: tmp_path / "other/Dockerfile" if c.file else m.dockerfile)
    assert sr.text == text and sr.changes == []


def test_compose_flow_style_is_rewritten_in_its_style():
    text = "services: {api: {build: {context: ., args: {NPM_TOKEN: $NPM_TOKEN}}}}\n"
    m = callsites.Migration(Path("/r/Dockerfile"), Path("/r"), SecretMigration("NPM_TOKEN", "npm_token"))
    new, changes = callsites.rewrite_compose(text, {"api": [m]}, rel="compose.yaml")
    assert new.startswith("services: {api: {build: {context: ., secrets: [npm_token]}}}\n")
    assert [c.applied for c in changes] == [True]
    validate_compose(new)


def test_compose_the_round_trip_would_reformat_is_reported_not_rewritten():
    text = "services:\n  api:\n     build:\n        context: .\n        args:\n          NPM_TOKEN: $NPM_TOKEN\n"
    m = callsites.Migration(Path("/r/Dockerfile"), Path("/r"), SecretMigration("NPM_TOKEN", "npm_token"))
    new, changes = callsites.rewrite_compose(text, {"api": [m]}, rel="compose.yaml")
    assert new == text
    assert [(c.line, c.applied) for c in changes] == [(6, False)] and "reformat" in changes[0].reason


def test_plan_never_leaves_the_repository(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "build.sh").write_text("docker build --build-arg NPM_TOKEN .\n")
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "Dockerfile").write_text(DOCKERFILE)
    (repo / "scripts" / "build.sh").symlink_to(outside / "build.sh")
    m = callsites.Migration((repo / "Dockerfile").resolve(), repo.resolve(), SecretMigration("NPM_TOKEN", "npm_token"))
    assert callsites.plan(repo, [m]) == []


@pytest.mark.parametrize("fmt", [OutputFormat.markdown, OutputFormat.sarif, OutputFormat.github])
def test_reports_name_call_sites_by_repository_path(fmt, tmp_path, capsys, monkeypatch):
    repo = tmp_path / "repo"
    shutil.copytree(DATA / "repo", repo)
    (repo / ".git").mkdir()
    monkeypatch.chdir(repo)
    capsys.readouterr()
    code = invoke(paths=["Dockerfile"], unsafe_fixes=True, select=["DFX009"], offline=True, output_format=fmt)
    out = capsys.readouterr().out
    assert code == 1
    assert str(tmp_path) not in out  # no machine-specific path in a PR body or code-scanning upload
    for rel in ("compose.yaml", ".github/workflows/ci.yml", "Makefile", "package.json"):
        assert rel in out
    if fmt is OutputFormat.sarif:
        doc = json.loads(out)
        schema = json.loads((HERE.parent / "bot" / "data" / "sarif-schema-2.1.0.json").read_text())
        jsonschema.validators.validator_for(schema)(schema).validate(doc)


def test_dockerfile_in_a_subfolder_rewrites_the_root_makefile(tmp_path, capsys, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "docker").mkdir(parents=True)
    (repo / ".git").mkdir()
    (repo / "docker" / "Dockerfile").write_text(DOCKERFILE)
    (repo / "package.json").write_text('{"name": "api"}\n')
    (repo / "Makefile").write_text("image:\n\tdocker build -f docker/Dockerfile --build-arg NPM_TOKEN -t api .\n")
    monkeypatch.chdir(repo)
    code = invoke(paths=["docker/Dockerfile"], write=True, unsafe_fixes=True, select=["DFX009"], offline=True,
                  quiet=True)
    assert code == 0
    assert (repo / "Makefile").read_text() == ("image:\n\tdocker build -f docker/Dockerfile --secret "
                                               "id=npm_token,env=NPM_TOKEN -t api .\n")
    assert not (repo / "docker" / "Makefile").exists()


def test_two_dockerfiles_one_compose_file(tmp_path, capsys, monkeypatch):
    """--write handles the Dockerfiles one after the other: the second plan reads the compose file
    the first one wrote, so both services end up with the secret and one top-level entry."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()
    (repo / "Dockerfile").write_text(DOCKERFILE)
    (repo / "worker.Dockerfile").write_text(DOCKERFILE.replace("server.js", "worker.js"))
    (repo / "package.json").write_text('{"name": "api"}\n')
    (repo / "compose.yaml").write_text(
        "services:\n  api:\n    build:\n      context: .\n      args:\n        NPM_TOKEN: ${NPM_TOKEN}\n"
        "  worker:\n    build:\n      context: .\n      dockerfile: worker.Dockerfile\n      args:\n"
        "        - NPM_TOKEN=${NPM_TOKEN}\n")
    monkeypatch.chdir(repo)
    code = invoke(paths=["."], write=True, unsafe_fixes=True, select=["DFX009"], offline=True, quiet=True)
    assert code == 0
    text = (repo / "compose.yaml").read_text()
    assert text == ("services:\n  api:\n    build:\n      context: .\n      secrets:\n        - npm_token\n"
                    "  worker:\n    build:\n      context: .\n      dockerfile: worker.Dockerfile\n      secrets:\n"
                    "        - npm_token\nsecrets:\n  npm_token:\n    environment: NPM_TOKEN\n")
    validate_compose(text)


@pytest.mark.parametrize("where,text", [
    ("compose.yaml", "services:\n  api:\n    build:\n      context: .\n      args:\n        NPM_TOKEN: tok_literal_123\n"),
    ("compose.yaml", "services:\n  api:\n    build:\n      context: .\n      args:\n        - NPM_TOKEN=tok_literal_123\n"),
    ("Makefile", "image:\n\tdocker build --build-arg NPM_TOKEN=tok_literal_123 .\n"),
])
def test_a_literal_token_is_reported_never_shown(where, text, tmp_path, capsys, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()
    (repo / "Dockerfile").write_text(DOCKERFILE)
    (repo / where).write_text(text)
    code, doc = run_fix(repo, capsys, monkeypatch)
    assert code == 0 and (repo / where).read_text() == text
    assert "tok_literal_123" not in json.dumps(doc)
    assert call_site_entries(doc)[1] == [f"{where}:{6 if where == 'compose.yaml' else 2}"]
