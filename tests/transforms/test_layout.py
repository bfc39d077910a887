"""The shape of the transforms package: transforms never import each other; modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "transforms"
TRANSFORMS = sorted(PACKAGE.glob("dfx*.py"))


def _imported_modules(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("path", TRANSFORMS, ids=lambda p: p.stem)
def test_a_transform_imports_no_other_transform(path):
    others = {p.stem for p in TRANSFORMS} - {path.stem}
    imported = {m.rsplit(".", 1)[-1] for m in _imported_modules(path)}
    assert not imported & others, f"{path.name} imports {sorted(imported & others)}: share a _helper module instead"


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.stem)
def test_modules_stay_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 600, f"{path.name}: split it by topic"
