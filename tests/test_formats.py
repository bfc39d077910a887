"""``--format sarif|github|markdown`` (fixer/formats.py).

The SARIF output is validated against the official OASIS SARIF 2.1.0 schema vendored in
``tests/bot/data`` (see its README for provenance) with ``jsonschema`` when it is installed;
the structural checks below run regardless.  Attached fixes are checked by applying them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.formats import (body_fingerprint, escape_data, escape_property, render_github,
                                     render_markdown, render_sarif, why_first_sentence)
from dockerfix.fixer.pipeline import FileResult
from dockerfix.fixer.report import Outcome

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "seed"
SCHEMA = ROOT / "tests" / "bot" / "data" / "sarif-schema-2.1.0.json"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from dockerfix.fixer.cli import main; main()", *args],
                          cwd=cwd, capture_output=True, text=True)


def validate_sarif(doc: dict) -> None:
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-schema-2.1.0.json")
    run = doc["runs"][0]
    assert run["tool"]["driver"]["name"] == "dockerfix"
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for res in run["results"]:
        assert res["ruleId"] in ids and ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("warning", "note")
        assert res["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    try:
        import jsonschema
    except ImportError:  # structural checks above only
        return
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(doc)


def apply_replacements(text: str, replacements: list[dict]) -> str:
    for rep in sorted(replacements, key=lambda r: r["deletedRegion"]["charOffset"], reverse=True):
        reg = rep["deletedRegion"]
        start, end = reg["charOffset"], reg["charOffset"] + reg["charLength"]
        # line/column agree with the offsets
        for off, line_key, col_key in ((start, "startLine", "startColumn"), (end, "endLine", "endColumn")):
            assert reg[line_key] == text.count("\n", 0, off) + 1
            assert reg[col_key] == off - (text.rfind("\n", 0, off) + 1) + 1
        text = text[:start] + rep["insertedContent"]["text"] + text[end:]
    return text


@pytest.fixture
def seed(tmp_path):
    d = tmp_path / "app"
    shutil.copytree(SEED, d)
    return d


def test_schema_file_is_the_oasis_one():
    s = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert s["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


@pytest.mark.parametrize("extra", [[], ["--unsafe-fixes"]])
def test_sarif_cli_valid_and_fixes_apply(seed, extra):
    p = run_cli("--offline", "--format", "sarif", *extra, ".", cwd=seed)
    assert p.returncode == 1, p.stderr
    assert p.stderr == ""  # the text summary is not printed alongside a machine format
    doc = json.loads(p.stdout)
    validate_sarif(doc)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["DFX001"]["name"] == "exec-form"
    assert rules["DFX001"]["helpUri"] == "docs/transforms.md#dfx001-exec-form"
    assert "## Why" in rules["DFX001"]["help"]["markdown"]
    results = run["results"]
    skips = [r for r in results if r.get("properties", {}).get("skipped")]
    assert skips and all(r["level"] == "note" for r in skips)  # DFX002 offline
    applied = [r for r in results if r["properties"].get("status") == "fixable"]
    assert not any(r["properties"].get("applied") for r in results)  # check mode: nothing applied
    before = (seed / "Dockerfile").read_text()
    diff = run_cli("--offline", "--diff", *extra, ".", cwd=seed)
    after_write = seed.parent / "written"
    shutil.copytree(seed, after_write)
    run_cli("--offline", "--write", *extra, ".", cwd=after_write)
    expected = (after_write / "Dockerfile").read_text()
    assert diff.returncode == 1
    reps = [rep for r in applied for f in r.get("fixes", []) for ch in f["artifactChanges"]
            if ch["artifactLocation"]["uri"] == "Dockerfile" for rep in ch["replacements"]]
    assert reps
    assert apply_replacements(before, reps) == expected
    if not extra:  # safe run: the pending unsafe fixes' offsets refer to the fixed text, not the file on disk
        pending = [r for r in results if r["properties"].get("applicability") == "unsafe"]
        assert pending and all("fixes" not in r for r in pending)


def test_sarif_pending_fixes_attached_when_text_unchanged(tmp_path):
    before = "FROM node:22\nCMD node server.js\n"
    f = Fix("DFX001", "use exec form", 2, (Edit(17, 31, '["node", "server.js"]'),), Applicability.UNSAFE)
    r = FileResult(path="Dockerfile", before=before, after=before, pending=[f])
    doc = render_sarif([Outcome(r)], mode="check", unsafe_fixes=False)
    validate_sarif(doc)
    res = doc["runs"][0]["results"][0]
    assert res["properties"] == {"applicability": "unsafe", "applied": False, "status": "unsafe"}
    reps = res["fixes"][0]["artifactChanges"][0]["replacements"]
    assert apply_replacements(before, reps) == 'FROM node:22\nCMD ["node", "server.js"]\n'


def test_sarif_multi_round_falls_back_to_one_combined_fix():
    before = "FROM node\nCMD npm start\n"
    after = "FROM node:26\nENV NODE_ENV=production\nCMD [\"npm\", \"start\"]\n"
    # offsets of the second fix refer to the text after the first (a later round)
    f1 = Fix("DFX003", "tag", 1, (Edit(9, 9, ":26"),))
    f2 = Fix("DFX005", "env", 1, (Edit(13, 13, "ENV NODE_ENV=production\n"),))
    f3 = Fix("DFX001", "exec", 3, (Edit(41, 50, '["npm", "start"]'),))
    r = FileResult(path="sub/Dockerfile", before=before, after=after, status="changed", applied=[f1, f2, f3])
    doc = render_sarif([Outcome(r)], mode="check", unsafe_fixes=True)
    validate_sarif(doc)
    with_fixes = [x for x in doc["runs"][0]["results"] if "fixes" in x]
    assert len(with_fixes) == 1 and "apply together" in with_fixes[0]["fixes"][0]["description"]["text"]
    change = with_fixes[0]["fixes"][0]["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == "sub/Dockerfile"
    assert apply_replacements(before, change["replacements"]) == after


def test_sarif_extra_file_and_bom_and_errors():
    before = "\ufeffFROM node:22\nCMD node a.js\n"
    after = '\ufeffFROM node:22\nCMD ["node", "a.js"]\n'
    f = Fix("DFX001", "exec", 2, (Edit(17, 26, '["node", "a.js"]'),))
    ign = Fix("DFX009", "ignore .npmrc", 1, (Edit(0, 0, ".npmrc\n"),), path=".dockerignore")
    r = FileResult(path="svc/Dockerfile", before=before, after=after, status="changed", applied=[f, ign],
                   skips=[Skip("DFX002", "offline", 1)], extra_files={".dockerignore": (None, ".npmrc\n")})
    bad = FileResult(path="broken/Dockerfile", before="", after="", status="error", error="does not parse:\nx")
    doc = render_sarif([Outcome(r), Outcome(bad)], mode="check", unsafe_fixes=False)
    validate_sarif(doc)
    results = {x["ruleId"]: x for x in doc["runs"][0]["results"]}
    own = results["DFX001"]["fixes"][0]["artifactChanges"][0]
    assert apply_replacements(before[1:], own["replacements"]) == after[1:]  # BOM not counted
    other = results["DFX009"]["fixes"][0]["artifactChanges"][0]
    assert other["artifactLocation"]["uri"] == "svc/.dockerignore"
    assert apply_replacements("", other["replacements"]) == ".npmrc\n"
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert "broken/Dockerfile: does not parse: x" in inv["toolExecutionNotifications"][0]["message"]["text"]
    # --write: applied fixes are already on disk, no fixes attached
    doc = render_sarif([Outcome(r, written=True)], mode="write", unsafe_fixes=False)
    validate_sarif(doc)
    assert all("fixes" not in x for x in doc["runs"][0]["results"])


def test_github_escaping():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    f = Fix("DFX001", "use exec, form: 100%\nsecond line", 5, (Edit(0, 1, "x"),),
            notes=("docker build --secret id=npm,src=$HOME/.npmrc .",))
    r = FileResult(path="odd,name:Dockerfile", before="a", after="x", status="changed", applied=[f],
                   skips=[Skip("DFX002", "no network", 1)])
    out = render_github([Outcome(r)], mode="check", show_skips=True)
    lines = out.splitlines()
    assert lines[1] == ("::warning file=odd%2Cname%3ADockerfile,line=5,title=DFX001 (exec-form)::"
                        "use exec, form: 100%25%0Asecond line [fixable]%0Adocker build --secret id=npm,src=$HOME/.npmrc .")
    assert lines[0] == "::notice file=odd%2Cname%3ADockerfile,line=1,title=DFX002 (pin-digest)::skipped: no network"
    assert len(lines) == 2
    assert len(render_github([Outcome(r)], mode="check").splitlines()) == 1  # skips only on demand


def test_github_cli(seed):
    p = run_cli("--offline", "--format", "github", ".", cwd=seed)
    assert p.returncode == 1
    assert "::warning file=Dockerfile,line=5,col=1,title=DFX001 (exec-form)::" in p.stdout
    assert "[unsafe: use --unsafe-fixes]" not in p.stdout and "skipped" not in p.stdout
    assert all(line.startswith("::") for line in p.stdout.splitlines())


def test_markdown_body_sections():
    f = Fix("DFX009", "use a build secret for the npm token", 3, (Edit(0, 1, "x"),), Applicability.UNSAFE,
            notes=("build with: docker build --secret id=npmrc,src=.npmrc .",))
    p = Fix("DFX006", "run as node", 1, (Edit(0, 0, "USER node\n"),), Applicability.UNSAFE)
    d = Fix("DFX008", "no SIGTERM | handler", 9, (), Applicability.DISPLAY_ONLY)
    r = FileResult(path="api/Dockerfile", before="a", after="x", status="changed", applied=[f], pending=[p, d],
                   skips=[Skip("DFX004", "no lockfile in the build context", 4)])
    body = render_markdown([Outcome(r)], fingerprint_value="ab" * 32, unsafe_fixes=True)
    assert "### `api/Dockerfile`" in body
    assert "| Code | What | Why | Safety |" in body
    assert "**Not applied**" in body and "DFX006 line 1: run as node (unsafe: needs `--unsafe-fixes`" in body
    assert body.startswith("dockerfix applied **1 fix**") and "Opened by `dockerfix pr`" in body
    assert "no SIGTERM | handler (report only" in body
    assert "- DFX004 line 4: no lockfile in the build context" in body
    assert "### Build command changes" in body and "docker build --secret id=npmrc" in body
    assert "`# dockerfix: ignore=DFX009`" in body and "[tool.dockerfix]" in body
    assert body_fingerprint(body) == "ab" * 32
    assert body.rstrip().endswith(f"<!-- dockerfix-fingerprint: {'ab' * 32} -->")


def test_markdown_cli(seed):
    p = run_cli("--offline", "--format", "markdown", ".", cwd=seed)
    assert p.returncode == 1
    # check mode: nothing was written, so nothing is "applied", and no pull request was opened
    assert p.stdout.startswith("# dockerfix report: 9 issues (1 fixable, 6 with --unsafe-fixes, 2 to fix by hand)\n")
    assert "dockerfix would apply **1 fix** to 1 file" in p.stdout and "applied" not in p.stdout
    assert "Opened by" not in p.stdout and body_fingerprint(p.stdout)


def test_why_first_sentence():
    from dockerfix.transforms import ALL

    for t in ALL:
        s = why_first_sentence(t)
        assert len(s) > 20 and s.endswith((".", "!", "?")), (t.code, s)
        assert "``" not in s and "\n" not in s


def test_stdin_write_refuses_machine_formats(seed):
    p = subprocess.run([sys.executable, "-c", "from dockerfix.fixer.cli import main; main()", "--write",
                        "--format", "sarif", "-"], input="FROM node:22\n", capture_output=True, text=True, cwd=seed)
    assert p.returncode == 2 and "--format sarif cannot be combined" in p.stderr


def test_why_first_sentence_ignores_periods_in_code():
    from dockerfix.fixer.formats import why_first_sentence
    from dockerfix.transforms import by_code

    why = why_first_sentence(by_code()["DFX011"])
    assert "`COPY . .`" in why and why.endswith(".")
