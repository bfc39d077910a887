"""DFX002 --update-pins: what the messages say (outputs are in fixtures/pin-digest/update-pins-*)."""

from __future__ import annotations

from fixture_cases import discover


def _case(slug: str):
    (case,) = [c for c in discover() if c.id == f"pin-digest/{slug}"]
    return case


def test_refresh_message_gives_both_ages():
    result = _case("update-pins-moved").run()
    (fix,) = [f for f in result.applied if f.code == "DFX002"]
    assert "tag has moved to a newer index" in fix.message
    assert "pinned image built 2026-09-01, 86 days old" in fix.message
    assert "new one built 2026-11-20" in fix.message


def test_per_platform_pin_names_its_platform():
    result = _case("update-pins-per-platform").run()
    (fix,) = [f for f in result.applied if f.code == "DFX002"]
    assert "linux/amd64 manifest" in fix.message


def test_pin_without_tag_is_reported_not_touched():
    result = _case("update-pins-no-tag").run()
    assert result.after == result.before
    assert any("pinned without a tag" in f.message for f in result.pending)
