"""Every position in every format refers to the file as read (DESIGN §3), on a multi-round unsafe
fix: the seed, where later fixes run on text that earlier ones changed (the tag, ENV, USER and
init lines move every instruction below them)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import parse
from dockerfix.fixer.edits import Applicability, Edit, Fix
from dockerfix.fixer.pipeline import Pipeline
from dockerfix.fixer.positions import Origin, source_line
from dockerfix.fixer.transform import Transform

ROOT = Path(__file__).resolve().parents[1]
SEED = (ROOT / "examples" / "seed" / "Dockerfile").read_text()
LINES = SEED.splitlines()

#: what each finding on the seed concerns: the keyword of the instruction on its line of the input
CONCERNS = {"DFX001": "CMD", "DFX002": "FROM", "DFX003": "FROM", "DFX004": "RUN", "DFX005": "FROM",
            "DFX006": "FROM", "DFX007": "CMD", "DFX008": "CMD", "DFX011": "FROM", "DFX012": "FROM"}
#: numbers inside messages: the instruction they name in the input
MENTIONS = {"DFX005": "RUN npm install", "DFX006": "RUN npm install"}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dockerfix", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def seed(tmp_path):
    d = tmp_path / "app"
    shutil.copytree(ROOT / "examples" / "seed", d)
    return d


def check_position(code: str, line: int, column: int | None = None) -> None:
    assert 1 <= line <= len(LINES), (code, line)
    assert LINES[line - 1].split()[0] == CONCERNS[code], (code, line, LINES[line - 1])
    if column is not None:
        assert column == 1, (code, column)


def check_message(code: str, text: str) -> None:
    for m in re.finditer(r"(?<!LTS )\bline (\d+)", text):
        n = int(m.group(1))
        assert 1 <= n <= len(LINES), (code, text)
        if code in MENTIONS:
            assert LINES[n - 1] == MENTIONS[code], (code, text, LINES[n - 1])


MODES = [["--unsafe-fixes"], ["--diff", "--unsafe-fixes"], []]


@pytest.mark.parametrize("mode", MODES, ids=["check-unsafe", "diff-unsafe", "check"])
def test_text_json_sarif_github_markdown_name_lines_of_the_input(seed, mode):
    seen: dict[str, set] = {}

    # text: path:line:col: CODE [tag] message
    p = cli("--offline", "--show-skips", *mode, ".", cwd=seed)
    assert p.returncode == 1, p.stderr
    for m in re.finditer(r"^Dockerfile:(\d+):(\d+): (DFX\d+) \[[^\]]+\] (.*)$", p.stderr, re.M):
        check_position(m.group(3), int(m.group(1)), int(m.group(2)))
        check_message(m.group(3), m.group(4))
        seen.setdefault("text", set()).add(m.group(3))

    # JSON: line, column, messages, skips; edit offsets against the step's text
    p = cli("--offline", "--format", "json", *mode, ".", cwd=seed)
    doc = json.loads(p.stdout)
    entry = doc["files"][0]
    for f in entry["fixes"]:
        check_position(f["code"], f["line"], f["column"])
        check_message(f["code"], f["message"])
        seen.setdefault("json", set()).add(f["code"])
    for s in entry["skips"]:
        check_position(s["code"], s["line"], s["column"])
        check_message(s["code"], s["reason"])
        seen.setdefault("json", set()).add(s["code"])
    texts = {0: SEED, **{int(k): v for k, v in entry["step_texts"].items()}}
    own = [f for f in entry["fixes"] if f["status"] == "fixable" and f["code"] != "DFX011"]
    by_step: dict[int, list] = {}
    for f in own:
        by_step.setdefault(f["step"], []).extend(f["edits"])
    written = seed.parent / "written"
    shutil.copytree(seed, written)
    cli("--offline", "--write", *[a for a in mode if a != "--diff"], ".", cwd=written)
    final = (written / "Dockerfile").read_text()
    steps = sorted(by_step)
    assert steps and steps[0] == 0
    for i, k in enumerate(steps):  # each step's edits turn its text into the next step's
        text = texts[k]
        for e in sorted(by_step[k], key=lambda e: e["start"], reverse=True):
            assert 0 <= e["start"] <= e["end"] <= len(text)
            text = text[: e["start"]] + e["text"] + text[e["end"]:]
        assert text == (texts[steps[i + 1]] if i + 1 < len(steps) else final)
    if "--unsafe-fixes" in mode:
        assert len(steps) > 1  # really a multi-step fix

    # SARIF: startLine / startColumn
    p = cli("--offline", "--format", "sarif", "--show-skips", *mode, ".", cwd=seed)
    for res in json.loads(p.stdout)["runs"][0]["results"]:
        region = res["locations"][0]["physicalLocation"]["region"]
        check_position(res["ruleId"], region["startLine"], region["startColumn"])
        check_message(res["ruleId"], res["message"]["text"])
        seen.setdefault("sarif", set()).add(res["ruleId"])

    # GitHub workflow commands
    p = cli("--offline", "--format", "github", "--show-skips", *mode, ".", cwd=seed)
    for m in re.finditer(r"^::\w+ file=Dockerfile,line=(\d+),col=(\d+),title=(DFX\d+)[^:]*::(.*)$", p.stdout, re.M):
        check_position(m.group(3), int(m.group(1)), int(m.group(2)))
        check_message(m.group(3), m.group(4))
        seen.setdefault("github", set()).add(m.group(3))

    # Markdown: "(line N)" in the table, "- CODE line N:" in the lists
    p = cli("--offline", "--format", "markdown", *mode, ".", cwd=seed)
    for m in re.finditer(r"^\| (DFX\d+) `[^`]+` \| (.*?) \(line (\d+)\) \|", p.stdout, re.M):
        check_position(m.group(1), int(m.group(3)))
        check_message(m.group(1), m.group(2))
        seen.setdefault("markdown", set()).add(m.group(1))
    for m in re.finditer(r"^- (DFX\d+) line (\d+): (.*)$", p.stdout, re.M):
        check_position(m.group(1), int(m.group(2)))
        check_message(m.group(1), m.group(3))
        seen.setdefault("markdown", set()).add(m.group(1))

    # every format saw the same findings
    assert seen["text"] == seen["json"] == seen["github"] and seen["json"] <= seen["sarif"]
    assert {"DFX004", "DFX007"} <= seen["json"] or "--unsafe-fixes" not in mode
    assert seen["markdown"] >= seen["json"] - {"DFX011"}  # DFX011 names its file, not a line


def test_line_mentioned_in_a_message_is_the_input_line():
    # "USER node before line 4": the install is line 4 of the input, whatever moved it down
    p = subprocess.run([sys.executable, "-m", "dockerfix", "--offline", "--unsafe-fixes", "--format", "json",
                        str(ROOT / "examples" / "seed")], capture_output=True, text=True, timeout=120)
    fixes = {f["code"]: f for f in json.loads(p.stdout)["files"][0]["fixes"]}
    assert "USER node before line 4;" in fixes["DFX006"]["message"]
    assert "before the install on line 4," in fixes["DFX005"]["message"]
    assert (fixes["DFX007"]["line"], fixes["DFX004"]["line"]) == (5, 4)


def test_origin_maps_through_steps():
    src = "FROM node\nWORKDIR /app\nCMD x\n"
    o = Origin(src)
    # step 1: insert a line before WORKDIR and rewrite "x" to "[\"x\"]"
    o1 = o.then([Edit(10, 10, "RUN a\n"), Edit(27, 28, '["x"]')])
    text1 = 'FROM node\nRUN a\nWORKDIR /app\nCMD ["x"]\n'
    assert o1.line_col(text1.index("WORKDIR")) == (2, 1)
    assert o1.line_col(text1.index("RUN a")) == (2, 1)  # inserted: where it was inserted
    assert o1.line_col(text1.index("CMD")) == (3, 1)
    assert o1.line_col(text1.index('"x"')) == (3, 5)  # inside replaced text: the start of the span
    # step 2: replace the inserted line; the CMD still maps home
    o2 = o1.then([Edit(10, 16, "RUN b && c\n")])
    text2 = 'FROM node\nRUN b && c\nWORKDIR /app\nCMD ["x"]\n'
    assert o2.line_col(text2.index("CMD")) == (3, 1)
    assert o2.line_col(text2.index("&&")) == (2, 1)
    assert o2.line_col(len(text2)) == (4, 1)


class _Mover(Transform):
    """Round 1 inserts a line at the top; round 2 reports the CMD and names the WORKDIR line."""

    code, name, summary = "DFX901", "mover", "test"

    def fix(self, doc, ctx):
        if not doc.source.startswith("# top\n"):
            yield Fix(self.code, "add a header", 1, (Edit(0, 0, "# top\n"),))
            return
        cmd = doc.instructions[-1]
        wd = doc.instructions[1]
        yield Fix(self.code, f"CMD after WORKDIR on line {source_line(doc, wd.line)}", cmd.line, (),
                  Applicability.DISPLAY_ONLY)


def test_pipeline_places_later_findings_and_message_numbers_in_the_input():
    text = "FROM node:22\n  WORKDIR /app\nCMD x\n"
    r = Pipeline([_Mover()]).run(text, Context(), path="Dockerfile")
    assert r.status == "changed"
    [applied] = r.applied
    assert (applied.line, applied.column, applied.step) == (1, 1, 0)
    [report] = r.pending
    assert (report.line, report.column) == (3, 1)
    assert report.message == "CMD after WORKDIR on line 2"
    assert r.step_text(0) == text and r.step_text(1) == r.after
    assert parse(r.after).instructions[1].line == 3  # moved down in the result, reported as line 2


def test_check_after_write_is_consistent_in_every_format(seed):
    """After `dockerfix --write`, `dockerfix --check` on the seed: the same 8 findings (6 fixable
    with --unsafe-fixes, 2 to fix by hand: DFX007's `docker run --init` and DFX008), exit 1 and a
    hint that repeats --unsafe-fixes, in every format; nothing says "applied"."""
    assert cli("--write", "--offline", ".", cwd=seed).returncode == 0
    p = cli("--check", "--offline", ".", cwd=seed)
    assert p.returncode == 1
    assert "Found 8 issues in 1 file (6 fixable with --unsafe-fixes, 2 to fix by hand)." in p.stderr
    assert "Apply with `dockerfix --write --unsafe-fixes --offline .`" in p.stderr
    assert "applied" not in p.stderr
    p = cli("--check", "--offline", "--format", "json", ".", cwd=seed)
    s = json.loads(p.stdout)["summary"]
    assert p.returncode == 1 and (s["issues"], s["fixable"], s["unsafe"], s["manual"], s["fixed"]) == (8, 0, 6, 2, 0)
    assert (s["fixes_applied"], s["written"]) == (0, 0)
    p = cli("--check", "--offline", "--format", "sarif", ".", cwd=seed)
    statuses = [r["properties"]["status"] for r in json.loads(p.stdout)["runs"][0]["results"]
                if not r["properties"].get("skipped")]
    assert p.returncode == 1 and sorted(statuses) == ["manual"] * 2 + ["unsafe"] * 6
    p = cli("--check", "--offline", "--format", "github", ".", cwd=seed)
    assert p.returncode == 1 and p.stdout.count("[fixable with --unsafe-fixes]") == 6
    assert p.stdout.count("[to fix by hand]") == 2
    p = cli("--check", "--offline", "--format", "markdown", ".", cwd=seed)
    assert p.returncode == 1 and "8 issues (0 fixable, 6 with --unsafe-fixes, 2 to fix by hand)" in p.stdout
    assert "applied" not in p.stdout
    # --diff: nothing to show with these settings (exit 0), and it says where the rest is
    p = cli("--diff", "--offline", ".", cwd=seed)
    assert (p.returncode, p.stdout) == (0, "")
    assert "`dockerfix --diff --unsafe-fixes --offline .` shows 6 more fixes." in p.stderr


def test_stdin_write_summary_after_the_fixed_text(seed):
    p = subprocess.run([sys.executable, "-m", "dockerfix", "--write", "--offline", "--select", "DFX001", "-"],
                       input=SEED, capture_output=True, text=True, cwd=seed, timeout=60)
    assert p.returncode == 0 and p.stdout.endswith('CMD ["npm", "start"]\n')
    assert p.stderr == "Found 1 issue in 1 file (1 fixed).\n"
