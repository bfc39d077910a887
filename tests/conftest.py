import os
import sys
from pathlib import Path

import pytest

# tests import their helper modules (fixture_cases, ...) by plain name
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: CI sets this (scripts/test.sh under CI=true, and .ci/run): a skipped test is then a failure,
#: unless it is marked ``skip_ok_in_ci`` (skips that depend on running as root, not on a tool).
REQUIRE_REAL = os.environ.get("DOCKERFIX_REQUIRE_REAL") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "skip_ok_in_ci(reason): this test may skip even in CI")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (REQUIRE_REAL and report.skipped and not hasattr(report, "wasxfail")
            and item.get_closest_marker("skip_ok_in_ci") is None):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under DOCKERFIX_REQUIRE_REAL=1 (CI must run every test): {reason}"
