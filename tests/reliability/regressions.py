"""Inputs hypothesis once found failing, kept in ``fixtures/_regressions/``: ``*.Dockerfile`` files
parse (they are also round-trip and boundary samples for tests/test_document.py); ``*.txt`` files
are inputs that are refused (ParseError) or that the installed BuildKit oracle misjudges without
``validate.oracle_text`` (so they cannot be plain boundary samples for tests/test_document.py)."""

from __future__ import annotations

from pathlib import Path

REGRESSIONS = Path(__file__).resolve().parents[2] / "fixtures" / "_regressions"


def _load() -> list[tuple[str, str]]:
    out = []
    for p in sorted(REGRESSIONS.glob("*")):
        if p.suffix in (".Dockerfile", ".txt"):
            out.append((p.name, p.read_bytes().decode("utf-8")))
    return out or [("none-yet", "FROM node\n")]


REGRESSION_INPUTS = _load()
