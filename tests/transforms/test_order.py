"""The run order is data: each transform's ``after`` declarations, sorted by the registry."""

from __future__ import annotations

import pytest
from dockerfix.fixer.transform import OrderError, Transform, run_order
from dockerfix.transforms import ALL, REGISTERED

#: The order the pipeline needs (the hand-written ALL before it was derived, plus DFX012 after the
#: split and before the init picks apt-get or apk); the fixture harness was written against it.
EXPECTED = ("DFX003", "DFX002", "DFX009", "DFX010", "DFX004", "DFX005", "DFX012", "DFX007", "DFX001", "DFX006",
            "DFX008", "DFX011")


def test_derived_order_is_the_pipeline_order():
    assert tuple(t.code for t in ALL) == EXPECTED


def test_every_after_names_a_registered_code_and_runs_earlier():
    codes = {t.code for t in REGISTERED}
    position = {t.code: i for i, t in enumerate(ALL)}
    for t in REGISTERED:
        assert t.code not in t.after, t.code
        for code in t.after:
            if code == "*":  # after every transform that does not say "*" itself
                assert all(position[o.code] < position[t.code] for o in REGISTERED if "*" not in o.after)
                continue
            assert code in codes, f"{t.code} after unknown {code}"
            assert position[code] < position[t.code]


def test_registry_lists_each_transform_once():
    assert len({t.code for t in REGISTERED}) == len(REGISTERED) == len(ALL)


def _t(code: str, after: tuple[str, ...] = ()) -> type[Transform]:
    return type(code, (Transform,), {"code": code, "name": code.lower(), "summary": "", "after": after})


def test_ties_break_by_code_and_order_is_deterministic():
    order = run_order([_t("B"), _t("A"), _t("C", ("B",))])
    assert [t.code for t in order] == ["A", "B", "C"]
    assert [t.code for t in run_order([_t("C", ("B",)), _t("B"), _t("A")])] == ["A", "B", "C"]


def test_star_runs_after_every_other():
    order = run_order([_t("Z", ("*",)), _t("B"), _t("A", ("B",)), _t("Y", ("*",))])
    assert [t.code for t in order] == ["B", "A", "Y", "Z"]


def test_cycle_is_refused():
    with pytest.raises(OrderError, match="cycle"):
        run_order([_t("A", ("B",)), _t("B", ("A",))])


def test_unknown_code_is_refused():
    with pytest.raises(OrderError, match="unknown"):
        run_order([_t("A", ("Z",))])
