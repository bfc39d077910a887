"""The outcome model and the text report: one line per finding, skips on demand, wrapping only
on a terminal, one summary and hints that repeat the run's flags."""

from __future__ import annotations

from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.pipeline import FileResult
from dockerfix.fixer.report import Outcome, counts, file_findings, render_text, rerun_flags, to_json

LONG = "word " * 60


def outcome(**kw) -> Outcome:
    r = FileResult(path="app/Dockerfile", before="FROM node\n", after="FROM node:26\n", status="changed", **kw)
    return Outcome(r)


def test_a_skip_on_a_fixed_instruction_is_a_note_not_a_second_finding():
    fix = Fix("DFX004", "use npm ci", 4, (Edit(0, 0, "x"),), Applicability.UNSAFE, column=1)
    o = outcome(pending=[fix], skips=[Skip("DFX004", "devDependencies kept: the build needs them", 4),
                                      Skip("DFX002", "offline", 1)])
    found = file_findings(o, "check")
    assert [(f.code, f.status) for f in found] == [("DFX002", "skipped"), ("DFX004", "unsafe")]
    assert found[1].notes == ("devDependencies kept: the build needs them",)
    text = render_text([o], mode="check", unsafe_fixes=False)
    assert text.count("DFX004") == 1 and "DFX002" not in text.split("\n")[0]
    assert "1 check skipped (1 DFX002: offline); --show-skips lists them." in text
    assert "devDependencies kept" not in text  # a note: shown with -v
    assert "devDependencies kept" in render_text([o], mode="check", unsafe_fixes=False, verbose=True)
    doc = to_json([o], mode="check", unsafe_fixes=False)
    assert doc["files"][0]["fixes"][0]["notes"] == ["devDependencies kept: the build needs them"]
    assert [s["code"] for s in doc["files"][0]["skips"]] == ["DFX002"]


def test_statuses_and_summary_per_mode():
    applied = Fix("DFX003", "tag", 1, (Edit(9, 9, ":26"),), column=1)
    unsafe = Fix("DFX006", "non-root", 1, (Edit(0, 0, "x"),), Applicability.UNSAFE, column=1)
    manual = Fix("DFX008", "no SIGTERM handler", 5, (), Applicability.DISPLAY_ONLY, column=1)
    o = outcome(applied=[applied], pending=[unsafe, manual])
    c = counts([o], "check")
    assert (c["issues"], c["fixable"], c["unsafe"], c["manual"], c["fixed"]) == (3, 1, 1, 1, 0)
    text = render_text([o], mode="check", unsafe_fixes=False, rerun=["--offline", "app"])
    assert "app/Dockerfile:1:1: DFX003 [*] tag" in text and "DFX006 [unsafe] non-root" in text
    assert "DFX008 [by hand]" in text and "use --unsafe-fixes]" not in text
    assert "Found 3 issues in 1 file (1 fixable, 1 fixable with --unsafe-fixes, 1 to fix by hand)." in text
    assert "`dockerfix --write --offline app`" in text and "`dockerfix --write --unsafe-fixes --offline app`" in text
    assert "applied" not in text
    o.written = True
    text = render_text([o], mode="write", unsafe_fixes=False, rerun=["--offline", "app"])
    assert "Found 3 issues in 1 file (1 fixed, 1 fixable with --unsafe-fixes, 1 to fix by hand). 1 file written." in text
    assert "DFX003" not in text.split("Found")[0]  # fixed findings: with -v
    assert "Apply the other 1 with `dockerfix --write --unsafe-fixes --offline app`" in text
    # with --unsafe-fixes the hint keeps the flag
    o2 = outcome(applied=[applied, unsafe.with_applicability(Applicability.UNSAFE)])
    text = render_text([o2], mode="diff", unsafe_fixes=True, rerun=["."])
    assert "Apply with `dockerfix --write --unsafe-fixes .`." in text


def test_long_messages_wrap_on_a_terminal_only():
    o = outcome(pending=[Fix("DFX008", LONG.strip(), 5, (), Applicability.DISPLAY_ONLY, column=1)])
    one = render_text([o], mode="check", unsafe_fixes=False)
    assert sum(line.startswith("app/Dockerfile:") for line in one.splitlines()) == 1 and LONG.strip() in one
    wrapped = render_text([o], mode="check", unsafe_fixes=False, width=80).splitlines()
    body = [line for line in wrapped if "word" in line]
    assert len(body) > 2 and all(len(line) <= 80 for line in body)
    assert body[1].startswith(" ") and " ".join(" ".join(body).split()).endswith(LONG.strip())


def test_quiet_is_the_summary_line_only():
    o = outcome(pending=[Fix("DFX008", "x", 5, (), Applicability.DISPLAY_ONLY)])
    assert render_text([o], mode="check", unsafe_fixes=False, quiet=True) == \
        "Found 1 issue in 1 file (1 to fix by hand).\n"


def test_rerun_flags_repeat_what_decides_the_fixes():
    assert rerun_flags(paths=["a b"], select=["DFX001"], offline=True, config_path="c.toml") == \
        ["--select", "DFX001", "--offline", "--config", "c.toml", "'a b'"]
    assert rerun_flags(paths=[f"services/app{i}/Dockerfile" for i in range(10)])[-1] == "PATH..."


def test_step_texts_mask_secrets_and_keep_offsets():
    from dockerfix.fixer.report import _mask_keeping_offsets

    text = "FROM node:22\nARG NPM_TOKEN=npm_s3cr3tvalue\nCMD x\n"
    masked = _mask_keeping_offsets(text)
    assert "s3cr3t" not in masked and len(masked) == len(text)
    assert masked.index("CMD") == text.index("CMD") and "NPM_TOKEN=" in masked
