"""Shared set-up for the reliability suite: the example budget (``DOCKERFIX_FUZZ_EXAMPLES``,
default 200 per property) and counters printed at the end of the run (inputs tried, faults
injected, outputs scanned for secrets)."""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("DOCKERFIX_FUZZ_EXAMPLES", "200"))

settings.register_profile(
    "dockerfix-fuzz",
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    derandomize=os.environ.get("DOCKERFIX_FUZZ_RANDOM") != "1" and EXAMPLES <= 500,
    print_blob=True,
)
FUZZ = settings.get_profile("dockerfix-fuzz")

#: Figures collected by the tests of this folder (printed by pytest_terminal_summary).
STATS: Counter = Counter()


def pytest_terminal_summary(terminalreporter):
    if STATS:
        terminalreporter.section("dockerfix reliability figures")
        for key in sorted(STATS):
            terminalreporter.write_line(f"{key}: {STATS[key]}")
