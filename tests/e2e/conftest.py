"""Session fixtures for the real-engine (e2e) tests.

The stack (loopback registry with the node test images, verdaccio, a private dockerd) is started once per
session by ``scripts/containers.sh up`` and stopped at the end, or reused when
``DOCKERFIX_E2E_ENV=/path/to/env.sh`` names one that is already running (it is then left running).

Missing tools skip the tests with the exact reason, unless ``DOCKERFIX_REQUIRE_REAL=1`` (CI sets it):
then the session fails loudly instead, so a CI machine without the engine cannot pass silently.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Appended, not prepended: the repo's own dockerfix/ folder must not shadow the installed package.
if str(REPO_ROOT) not in sys.path:
    sys.path.append(str(REPO_ROOT))

from tests.infra import stack as stack_mod  # noqa: E402
from tests.infra.engine import Engine  # noqa: E402

APPS_DIR = Path(__file__).parent / "apps"
REQUIRE_REAL = os.environ.get("DOCKERFIX_REQUIRE_REAL") == "1"

# Rows measured by `dockerfix verify` (its JSON), printed as a before/after table at the end of the session.
RESULTS: list[dict] = []


def _unavailable(reason: str):
    if REQUIRE_REAL:
        pytest.fail(f"DOCKERFIX_REQUIRE_REAL=1 but the e2e stack is unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def e2e_stack():
    env_file = os.environ.get("DOCKERFIX_E2E_ENV")
    if env_file:
        if not Path(env_file).is_file():
            _unavailable(f"DOCKERFIX_E2E_ENV={env_file} does not exist")
        stack = stack_mod.attach(Path(env_file))
        if not Path(stack.docker_host.removeprefix("unix://")).exists():
            _unavailable(f"{env_file}: dockerd socket {stack.docker_host} is gone (stack stopped?)")
        yield stack
        return
    missing = stack_mod.missing_tools()
    if missing:
        _unavailable("e2e tools missing: " + ", ".join(missing)
                     + " (run `bash scripts/containers.sh install`)")
    try:
        stack = stack_mod.start()
    except RuntimeError as exc:
        # the tools are there, so this is a real failure, not a reason to skip
        pytest.fail(str(exc), pytrace=False)
    print(f"\n[e2e] stack up in {stack.up_seconds:.1f}s (registry {stack.registry})")
    try:
        yield stack
    finally:
        stack_mod.stop(stack)


@pytest.fixture(scope="session")
def engine(e2e_stack) -> Engine:
    return Engine(e2e_stack)


@pytest.fixture(scope="session")
def results() -> list[dict]:
    return RESULTS


COLUMNS = [("app", "app"), ("variant", "variant"), ("user", "uid PID1/app"), ("pid1", "PID 1"),
           ("stop_s", "stop s (-t 4)"), ("exit", "exit"), ("node_env", "NODE_ENV"), ("size_mb", "size MB")]


def format_table(rows: list[dict], columns=COLUMNS) -> str:
    header = [title for _, title in columns]
    body = [[str(r.get(key, "")) for key, _ in columns] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, body)])


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not RESULTS:
        return
    rows = sorted(RESULTS, key=lambda r: (r["app"], r["variant"]))
    table = format_table(rows)
    # image size before (original) and after (dockerfix's output), one line per app
    sizes: dict[str, dict] = {}
    for r in rows:
        sizes.setdefault(r["app"], {"app": r["app"]})[r["variant"]] = r["size_mb"]
    for s in sizes.values():
        if "original" in s and "dockerfix" in s:
            s["delta"] = f"{int(s['dockerfix']) - int(s['original']):+d}"
    table += "\n\nimage size (MB)\n" + format_table(
        list(sizes.values()), [("app", "app"), ("original", "original"), ("dockerfix", "dockerfix"),
                               ("delta", "delta"), ("expected-shape", "expected-shape")])
    terminalreporter.section("dockerfix e2e: before / after")
    terminalreporter.write_line(table)
    out = Path(config.rootpath) / ".pytest_cache" / "dockerfix-e2e-table.md"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(table + "\n")
        terminalreporter.write_line(f"(also written to {out})")
    except OSError:
        pass
