"""The three free checks for every fixture case: expected output, second run changes nothing,
output parses with BuildKit's parser (and agrees with ours on instruction boundaries)."""

from __future__ import annotations

import pytest

from dockerfix.fixer.validate import buildkit_boundaries, validate
from dockerfix.fixer.edits import Applicability
from dockerfix.transforms import ALL

from fixture_cases import FIXTURES, discover

CASES = discover()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_expected_output(case):
    result = case.run()
    assert result.error is None, result.error
    expected = case.after
    ignore_expected = case.after_dockerignore
    if expected is None:
        assert result.after == case.before, "a no-change case changed"
        assert result.status == ("unchanged" if ignore_expected is None else "changed")
    else:
        assert result.after == expected
        assert result.status == "changed"
    ignore_result = result.extra_files.get(".dockerignore")
    if ignore_expected is not None:
        assert ignore_result is not None, "the .dockerignore was not written"
        assert ignore_result[1] == ignore_expected
    elif case.has_dockerignore:
        assert ignore_result is None, "the existing .dockerignore changed"
    opts = case.options
    if "expect_skip" in opts:
        reasons = [s.reason for s in result.skips]
        assert any(opts["expect_skip"] in r for r in reasons), reasons
    for code in opts.get("expect_pending", []):
        assert code in {f.code for f in result.pending}, result.pending


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_second_run_changes_nothing(case):
    first = case.run()
    second = case.run(first.after, {path: new for path, (_old, new) in first.extra_files.items()})
    assert second.error is None, second.error
    assert second.after == first.after
    assert second.status == "unchanged"
    assert not second.extra_files


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_output_parses_with_buildkit(case):
    pytest.importorskip("dockerfile", reason="BuildKit's parser (PyPI `dockerfile`) is not installed")
    out = case.run().after
    doc = validate(out)
    assert [(i.keyword, i.line, i.end_line) for i in doc.instructions] == buildkit_boundaries(doc.source)


def test_every_transform_has_fixtures():
    for t in ALL:
        folder = FIXTURES / t.name
        assert folder.is_dir(), f"{t.code} has no fixtures/{t.name}/"
        cases = [c for c in CASES if c.slug == t.name]
        if t.default_applicability == Applicability.DISPLAY_ONLY:
            # a report-only transform never edits: it needs cases that report and cases that don't
            reporting = [c for c in cases if t.code in c.options.get("expect_pending", [])]
            assert reporting and len(cases) - len(reporting) >= 1, f"{t.code}: needs reporting and quiet cases"
            assert all(c.after is None for c in cases), f"{t.code} is display-only but a case expects edits"
            continue
        positive = [c for c in cases if c.after is not None or c.after_dockerignore is not None]
        negative = [c for c in cases if c.after is None and c.after_dockerignore is None]
        assert positive, f"{t.code}: no before/after case"
        assert len(negative) >= len(positive), f"{t.code}: fewer no-change cases than positive ones"
