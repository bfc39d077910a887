"""Discovery and running of ``fixtures/<transform>/<case>/`` cases (shared by tests and tools).

A case folder holds ``before.Dockerfile``, an optional ``after.Dockerfile`` (absent: the file must
not change), an optional ``context/`` folder (the build context: package.json, lockfiles, ...)
and an optional ``case.toml``::

    unsafe = true                 # run with --unsafe-fixes
    pipeline = true               # run every transform in order (default: only the folder's one)
    select = ["DFX004"]           # or exactly these transforms
    expect_skip = "no lockfile"   # a skip whose reason contains this text must be reported
    expect_pending = ["DFX001"]   # fixes that must be reported but not applied
    config = { user = "1000" }    # [tool.dockerfix] settings for the case
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from dockerfix.fixer.config import Config, parse_config
from dockerfix.fixer.context import Context, load_context
from dockerfix.fixer.edits import Applicability
from dockerfix.fixer.pipeline import FileResult, Pipeline
from dockerfix.transforms import ALL

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@dataclass
class Case:
    slug: str
    name: str
    folder: Path

    @property
    def id(self) -> str:
        return f"{self.slug}/{self.name}"

    @property
    def before(self) -> str:
        return (self.folder / "before.Dockerfile").read_bytes().decode("utf-8")

    @property
    def after(self) -> str | None:
        p = self.folder / "after.Dockerfile"
        return p.read_bytes().decode("utf-8") if p.exists() else None

    @property
    def options(self) -> dict:
        p = self.folder / "case.toml"
        return tomllib.loads(p.read_text()) if p.exists() else {}

    def transforms(self):
        opts = self.options
        if opts.get("pipeline") or self.slug.startswith("_"):
            return [t() for t in ALL]
        codes = opts.get("select")
        if codes:
            return [t() for t in ALL if t.code in codes]
        chosen = [t() for t in ALL if t.name == self.slug]
        assert chosen, f"fixtures/{self.slug}: no transform named {self.slug!r}"
        return chosen

    def context(self) -> Context:
        opts = self.options
        cfg = parse_config(opts.get("config", {}), self.folder / "case.toml") if "config" in opts else Config()
        ctx_dir = self.folder / "context"
        return load_context(self.folder / "before.Dockerfile", ctx_dir if ctx_dir.is_dir() else None, cfg,
                            offline=True)

    def run(self, text: str | None = None) -> FileResult:
        required = Applicability.UNSAFE if self.options.get("unsafe") else Applicability.SAFE
        pipe = Pipeline(self.transforms(), required=required)
        return pipe.run(self.before if text is None else text, self.context(), path=self.id)


def discover() -> list[Case]:
    cases = []
    for slug_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name != "_parser"):
        for case_dir in sorted(p for p in slug_dir.iterdir() if (p / "before.Dockerfile").exists()):
            cases.append(Case(slug_dir.name, case_dir.name, case_dir))
    return cases


def parser_samples() -> list[Path]:
    """Every Dockerfile-ish file under fixtures/ (round-trip and boundary checks)."""
    return sorted(p for p in FIXTURES.rglob("*.Dockerfile"))
