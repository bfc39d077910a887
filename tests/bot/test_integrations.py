"""The pre-commit hook definitions and the composite GitHub Action are consistent with the CLI."""

from __future__ import annotations

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
