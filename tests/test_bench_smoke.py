"""Smoke test for the benchmark harness (bench/): a tiny corpus, one run, peers skipped.

No timing assertions: only that the harness runs end to end and prints the markdown tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_bench_run_prints_a_table_with_a_dockerfix_row(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--files", "5", "--repeat", "1", "--startup-runs", "1",
         "--no-peers", "--base", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("| tool | invocation | files |") for line in lines), proc.stdout
    row = next(line for line in lines if line.startswith("| dockerfix |"))
    assert "| 5 |" in row  # five files, measured
    assert any(line.startswith("| dockerfix --diff --offline SMALL |") for line in lines)


def test_corpus_is_deterministic(tmp_path):
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import corpus
    finally:
        sys.path.remove(str(REPO / "bench"))
    a = corpus.generate(tmp_path / "a", 8, seed=3)
    b = corpus.generate(tmp_path / "b", 8, seed=3)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    from dockerfix.fixer.document import parse

    for p in a:
        assert 5 <= len(parse(p.read_text()).instructions) <= 60
