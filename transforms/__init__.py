"""The rewrite passes, one module each.  ``ALL`` is the single ordered registry: the pipeline runs
the transforms in this order (codes are permanent and independent of the order)."""

from __future__ import annotations

from dockerfix.fixer.transform import Transform

from .dfx001_exec_form import ExecForm

ALL: tuple[type[Transform], ...] = (
    ExecForm,
)


def by_code() -> dict[str, type[Transform]]:
    return {t.code: t for t in ALL}
