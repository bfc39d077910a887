"""The pre-commit hook definitions and the composite GitHub Action are consistent with the CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the YAML files")


def test_pre_commit_hooks():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    fix = hooks["dockerfix"]
    assert fix["entry"] == "dockerfix --write --exit-non-zero-on-fix"
    assert fix["language"] == "python"
    files, exclude = re.compile(fix["files"]), re.compile(fix["exclude"])
    from dockerfix.fixer.files import is_dockerfile_name

    for name in ["Dockerfile", "app/Dockerfile", "Dockerfile.prod", "svc/api.Dockerfile", "Containerfile",
                 "Containerfile.dev", "README.md", ".dockerignore", "Dockerfile.dockerignore", "docs/Dockerfile.md",
                 "mydockerfile", "Dockerfiles/x"]:
        hook_takes = bool(files.search(name)) and not exclude.search(name)
        # Dockerfile.md is a Dockerfile.* name for discovery too: both agree
        assert hook_takes == is_dockerfile_name(name.rsplit("/", 1)[-1]), name
    assert hooks["dockerfix-check"]["entry"] == "dockerfix --check"


def test_hook_entry_behaves_as_pre_commit_expects(tmp_path):
    """pre-commit runs the entry with the file names: exit 1 when it rewrote one, 0 on the next run."""
    d = tmp_path / "app"
    shutil.copytree(ROOT / "examples" / "seed", d)
    cmd = [sys.executable, "-c", "from dockerfix.fixer.cli import main; main()", "--write",
           "--exit-non-zero-on-fix", "--offline", "Dockerfile"]
    assert subprocess.run(cmd, cwd=d, capture_output=True).returncode == 1
    assert subprocess.run(cmd, cwd=d, capture_output=True).returncode == 0


def test_action():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {"mode", "args", "token"}
    assert action["inputs"]["mode"]["default"] == "check"
    script = "\n".join(s.get("run", "") for s in action["runs"]["steps"])
    assert "dockerfix pr" in script and "--format github" in script and "--format sarif" in script
    assert "${{ inputs." not in script  # inputs go through env, never interpolated into the script
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step["shell"] == "bash"


def _action_step(mode: str, args: str, cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """The action's "Run dockerfix" step as GitHub runs it: its script under bash with the inputs
    in the environment, dockerfix from this interpreter's environment on PATH."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "dockerfix").exists():
        pytest.skip(f"no dockerfix console script beside {sys.executable} (install the package)")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "GITHUB_OUTPUT": str(tmp_path / "github_output"), "DOCKERFIX_MODE": mode, "DOCKERFIX_ARGS": args,
           "GITHUB_TOKEN": ""}
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_action_fails_exactly_as_its_description_says(tmp_path):
    """mode check fails on report-only findings too (what action.yml says), not on skipped checks;
    mode sarif fails only on errors."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    mode_doc = action["inputs"]["mode"]["description"]
    assert "report-only" in mode_doc and "fails when fixes are available" not in mode_doc
    app = tmp_path / "app"
    shutil.copytree(ROOT / "examples" / "seed", app)
    # fixable findings
    r = _action_step("check", "--offline .", app, tmp_path)
    assert r.returncode == 1 and "::warning file=Dockerfile" in r.stdout, r.stdout + r.stderr
    # after the fixes only report-only findings remain (DFX007 init, DFX008 SIGTERM handler): still fails
    fixed = subprocess.run([sys.executable, "-m", "dockerfix", "--write", "--unsafe-fixes", "--offline", "."], cwd=app,
                           capture_output=True, text=True, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert fixed.returncode == 0, fixed.stderr
    r = _action_step("check", "--offline --unsafe-fixes .", app, tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "::notice" in r.stdout and "[to fix by hand]" in r.stdout and "::warning" not in r.stdout
    # suppressed, they no longer count; the skipped checks (DFX002 offline, DFX012) never did
    r = _action_step("check", "--offline --unsafe-fixes --ignore DFX007,DFX008 .", app, tmp_path)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr
    # sarif: findings do not fail the step, an error does
    r = _action_step("sarif", "--offline .", app, tmp_path)
    assert r.returncode == 0 and (app / "dockerfix.sarif").read_text().lstrip().startswith("{"), r.stderr
    r = _action_step("sarif", "--offline --select NOPE .", app, tmp_path)
    assert r.returncode != 0
