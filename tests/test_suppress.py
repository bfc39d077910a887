"""Suppressions silence every transform that would fix the suppressed rule, and skips too."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def seed_with(tmp_path: Path, edit) -> Path:
    d = tmp_path / "app"
    shutil.copytree(ROOT / "examples" / "seed", d)
    f = d / "Dockerfile"
    f.write_text(edit(f.read_text()))
    return d


def dockerfix(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dockerfix", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_hadolint_dl3025_ignore_stops_every_transform_rewriting_that_cmd(tmp_path):
    d = seed_with(tmp_path, lambda t: t.replace('CMD "npm"', '# hadolint ignore=DL3025\nCMD "npm"'))
    p = dockerfix("--diff", "--unsafe-fixes", "--offline", ".", cwd=d)
    assert p.returncode == 1  # the other fixes still apply
    assert '\n # hadolint ignore=DL3025\n CMD "npm" "start"\n' in p.stdout  # context lines: untouched
    assert "DFX001" not in p.stderr and "DFX007" not in p.stderr


def test_buildkit_check_skip_directive_stops_exec_form_rewrites(tmp_path):
    d = seed_with(tmp_path, lambda t: "# check=skip=JSONArgsRecommended\n" + t)
    p = dockerfix("--diff", "--unsafe-fixes", "--offline", ".", cwd=d)
    assert 'CMD "npm" "start"' in (d / "Dockerfile").read_text() and '+CMD [' not in p.stdout


def test_ignore_file_is_silent(tmp_path):
    d = seed_with(tmp_path, lambda t: "# dockerfix: ignore-file\n" + t)
    p = dockerfix("--check", "--unsafe-fixes", "--offline", "--show-skips", ".", cwd=d)
    assert (p.returncode, p.stderr) == (0, "No issues found (1 file checked).\n")
    p = dockerfix("--check", "--offline", "--format", "json", ".", cwd=d)
    entry = __import__("json").loads(p.stdout)["files"][0]
    assert entry["fixes"] == [] and entry["skips"] == []
