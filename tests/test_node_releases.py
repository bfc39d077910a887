"""Node.js release lines: range parsing, LTS choice, and the live schedule refresh (served by a
local HTTP server, as the Release WG's schedule.json is)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dockerfix.fixer.node_releases import bundled, live_table, major_filter, table_from_schedule

DAY = date(2026, 11, 26)
SCHEDULE = {
    "v0.12": {"start": "2015-02-06", "end": "2016-12-31"},
    "v22": {"start": "2024-04-24", "lts": "2024-10-29", "maintenance": "2025-10-21", "end": "2027-04-30"},
    "v26": {"start": "2026-04-22", "lts": "2026-10-28", "maintenance": "2027-10-20", "end": "2029-04-30"},
    "v28": {"start": "2026-04-01", "lts": "2026-11-01", "maintenance": "2027-10-20", "end": "2029-04-30"},
}


@pytest.mark.parametrize("spec,majors", [
    (">=18 <25", [18, 19, 20, 21, 22, 23, 24]),
    ("^20.11.0", [20]),
    ("20.x || 22.x", [20, 22]),
    ("18 - 22", [18, 19, 20, 21, 22]),
    ("v22.3.0", [22]),
    ("lts/iron", [20]),
    (">20", [21, 22, 23, 24, 25, 26]),
    (">20.1", [20, 21, 22, 23, 24, 25, 26]),
    ("*", list(range(14, 27))),
])
def test_ranges(spec, majors):
    f = major_filter(spec)
    assert [m for m in range(14, 27) if f(m)] == majors


def test_unknown_range_is_none():
    assert major_filter("whenever") is None and major_filter("lts/unknown") is None


def test_bundled_choice_on_a_fixed_day():
    t = bundled()
    assert t.recommended(DAY).major == 26  # 26 became Active LTS on 2026-10-28
    assert t.recommended(DAY, major_filter(">=20 <25")).major == 24  # maintenance LTS still counts
    assert t.recommended(DAY, major_filter("^20")) is None  # 20 reached end-of-life 2026-04-30
    assert t.get(18).is_eol_on(DAY) and not t.get(22).is_eol_on(DAY)


class _Schedule(BaseHTTPRequestHandler):
    body = json.dumps(SCHEDULE).encode()
    hits = 0
    status = 200

    def do_GET(self):
        type(self).hits += 1
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *a):
        pass


@pytest.fixture
def schedule_server():
    handler = type("H", (_Schedule,), {"hits": 0, "status": 200})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/schedule.json", handler
    srv.shutdown()
    srv.server_close()


def test_live_table_is_fetched_once_then_cached(tmp_path, schedule_server):
    url, handler = schedule_server
    t, why = live_table(tmp_path, url=url, now=1_790_000_000)
    assert why is None and t.origin == "live" and t.label.endswith("(live)")
    assert t.get(28) is not None and t.get(0) is None  # old lines left out
    assert t.recommended(DAY).major == 28
    t2, _ = live_table(tmp_path, url=url, now=1_790_000_000 + 3600)
    assert handler.hits == 1 and t2.get(28) is not None  # from the disk cache
    live_table(tmp_path, url=url, now=1_790_000_000 + 8 * 86400)  # a week later: fetched again
    assert handler.hits == 2
    live_table(tmp_path, url=url, refresh=True, now=1_790_000_000 + 8 * 86400)
    assert handler.hits == 3


def test_failure_falls_back_to_bundled_and_is_remembered(tmp_path, schedule_server):
    url, handler = schedule_server
    handler.status = 500
    t, why = live_table(tmp_path, url=url, now=1_790_000_000)
    assert t.origin == "bundled" and "unavailable" in why
    t, why = live_table(tmp_path, url=url, now=1_790_000_000 + 60)
    assert handler.hits == 1 and why  # no second wait within the hour
    closed = "http://127.0.0.1:9/schedule.json"
    t, why = live_table(tmp_path / "other", url=closed, now=1_790_000_000)
    assert t is bundled() and "unavailable" in why


def test_schedule_line_without_start_or_end_is_left_out():
    """A line with a null or empty start/end used to become a Release whose end was None, and the
    first end-of-life check then raised TypeError; it is a malformed entry like any other."""
    good = {"start": "2024-04-24", "lts": "2024-10-29", "maintenance": "2025-10-21", "end": "2027-04-30"}
    data = {"v22": good, "v24": {**good, "end": None}, "v26": {**good, "start": ""}}
    t = table_from_schedule(data, date(2026, 1, 1))
    assert [r.major for r in t.releases] == [22]
    assert not t.releases[0].is_eol_on(date(2026, 1, 1))


def test_schedule_without_usable_lines_is_rejected():
    with pytest.raises(ValueError):
        table_from_schedule({"v0.10": {"start": "2013-03-11", "end": "2016-10-31"}}, DAY)


def test_cli_uses_the_live_schedule_and_names_it(tmp_path, schedule_server):
    url, _ = schedule_server
    (tmp_path / "Dockerfile").write_text("FROM node:lts-alpine\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "DOCKERFIX_NODE_SCHEDULE_URL": url, "DOCKERFIX_REGISTRY_MIRROR": "docker.io=http://127.0.0.1:9"}
    p = subprocess.run([sys.executable, "-m", "dockerfix", "--diff", "--show-skips", "--select", "DFX003",
                        "Dockerfile"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    # the live schedule names 28, a line dockerfix's table of the image's tags does not know yet:
    # a tag that cannot be proved to exist is never written, and the report says so
    assert p.returncode == 0, p.stderr
    assert "`node:28-alpine` cannot be proved to exist" in p.stderr and "(live)" in p.stderr and not p.stdout
    off = subprocess.run([sys.executable, "-m", "dockerfix", "--diff", "--offline", "--select", "DFX003",
                          "Dockerfile"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert "+FROM node:26-alpine" in off.stdout and "(live)" not in off.stderr  # --offline: the bundled table
