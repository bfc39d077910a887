"""Rule documentation: generated from the transform docstrings; docs/transforms.md kept current."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfix.fixer import docs
from dockerfix.fixer.transform import DOC_SECTIONS
from dockerfix.transforms import ALL

REPO = Path(__file__).resolve().parent.parent


def test_committed_docs_are_up_to_date():
    committed = (REPO / "docs/transforms.md").read_text(encoding="utf-8")
    assert committed == docs.markdown(), "docs/transforms.md is stale: run python -m dockerfix.fixer.docs --write"


@pytest.mark.parametrize("t", ALL, ids=lambda t: t.code)
def test_every_transform_documents_every_section(t):
    secs = t.doc_sections()
    missing = [s for s in DOC_SECTIONS if not secs.get(s)]
    assert not missing, f"{t.code} docstring lacks sections {missing}"
    md = docs.transform_markdown(t)
    assert md.startswith(f"## {t.code} `{t.name}`")
    for s in DOC_SECTIONS:
        assert f"### {s}" in md
    txt = docs.transform_text(t)
    assert txt.startswith(f"{t.code} ({t.name}): {t.summary}")
    assert "``" not in txt  # inline-code marks stripped for terminals


def test_index_lists_every_code_in_order():
    md = docs.markdown()
    codes = sorted(t.code for t in ALL)
    positions = [md.index(f"| [{c}](#") for c in codes]
    assert positions == sorted(positions)
    assert docs.find("exec-form") is docs.find("dfx001") is not None
    assert docs.find("DFX999") is None


def test_docs_module_write_and_check(tmp_path):
    out = tmp_path / "transforms.md"
    assert docs.main(["--check", "--output", str(out)]) == 1
    assert docs.main(["--write", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == docs.markdown()
    assert docs.main(["--check", "--output", str(out)]) == 0
    assert docs.write(out) is False  # unchanged: not rewritten
