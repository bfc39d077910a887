"""Discovery and running of ``fixtures/<transform>/<case>/`` cases (shared by tests and tools).

A case folder holds ``before.Dockerfile``, an optional ``after.Dockerfile`` (absent: the file must
not change), an optional ``context/`` folder (the build context: package.json, lockfiles, ...),
an optional ``after.dockerignore`` (the build context's ``.dockerignore`` expected after the run;
absent while ``context/.dockerignore`` exists: that file must not change) and an optional
``case.toml``::

    unsafe = true                 # run with --unsafe-fixes
    pipeline = true               # run every transform in order (default: only the folder's one)
    select = ["DFX004"]           # or exactly these transforms
    expect_skip = "no lockfile"   # a skip whose reason contains this text must be reported
    expect_pending = ["DFX001"]   # fixes that must be reported but not applied
    config = { user = "1000" }    # [tool.dockerfix] settings for the case
    today = "2026-11-26"          # the date release-line decisions are made on (default: that one)
    [digests]                     # what the registry answers, for digest pinning cases
    "node:22-alpine" = "sha256:..."            # or a table: { digest = "...", missing = ["linux/arm64"] }
    "node:99" = "error: manifest unknown"      # a failed look-up
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
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
    def after_dockerignore(self) -> str | None:
        p = self.folder / "after.dockerignore"
        return p.read_bytes().decode("utf-8") if p.exists() else None

    @property
    def has_dockerignore(self) -> bool:
        return (self.folder / "context" / ".dockerignore").is_file()

    @property
    def options(self) -> dict:
        p = self.folder / "case.toml"
        return tomllib.loads(p.read_text()) if p.exists() else {}

    @property
    def is_pipeline(self) -> bool:
        return bool(self.options.get("pipeline")) or self.slug.startswith("_")

    def transforms(self):
        opts = self.options
        if self.is_pipeline:
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
        resolver = DictResolver(opts["digests"]) if "digests" in opts else None
        return load_context(self.folder / "before.Dockerfile", ctx_dir if ctx_dir.is_dir() else None, cfg,
                            offline=resolver is None, digests=resolver.lookup if resolver else None,
                            today=date.fromisoformat(opts.get("today", "2026-11-26")))

    def run(self, text: str | None = None, files: dict[str, str] | None = None) -> FileResult:
        """Run the case; ``files`` replaces context files (e.g. a first run's .dockerignore)."""
        required = Applicability.UNSAFE if self.options.get("unsafe") else Applicability.SAFE
        pipe = Pipeline(self.transforms(), required=required)
        ctx = self.context()
        if files:
            ctx = ctx.with_files(files)
        return pipe.run(self.before if text is None else text, ctx, path=self.id)


def discover() -> list[Case]:
    cases = []
    for slug_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name != "_parser"):
        for case_dir in sorted(p for p in slug_dir.iterdir() if (p / "before.Dockerfile").exists()):
            cases.append(Case(slug_dir.name, case_dir.name, case_dir))
    return cases


def parser_samples() -> list[Path]:
    """Every Dockerfile-ish file under fixtures/ (round-trip and boundary checks)."""
    return sorted(p for p in FIXTURES.rglob("*.Dockerfile"))


@dataclass
class _Resolution:
    digest: str
    kind: str = "index"
    media_type: str = "application/vnd.oci.image.index.v1+json"
    platforms: list = field(default_factory=lambda: ["linux/amd64", "linux/arm64"])
    missing_platforms: list = field(default_factory=list)
    children: dict = field(default_factory=dict)
    created: str | None = None

    def child_for(self, platform: str) -> str | None:
        return self.children.get(platform)


class DictResolver:
    """Registry answers written down in a fixture's case.toml (the real client is tested against
    a real registry in tests/registry/; fixtures test what a transform does with an answer)."""

    def __init__(self, table: dict):
        self.table = table

    def lookup(self, ref, platforms):
        """What the run's look-up before the pipeline would hold: the answer or the error."""
        try:
            return self.resolve(ref, platforms)
        except Exception as e:
            return e

    def resolve(self, ref, platforms):
        from dockerfix.fixer.registry import ResolveError

        # a tag is looked up by name:tag, a pinned image (no tag) by name@sha256:...
        key = ref.format() if ref.tag is None and ref.digest else ref.format(digest=False)
        answer = self.table.get(key)
        if answer is None:
            raise ResolveError(f"manifest unknown: {key}")
        if isinstance(answer, str):
            if answer.startswith("error:"):
                raise ResolveError(answer[6:].strip())
            return _Resolution(answer)
        return _Resolution(answer["digest"], missing_platforms=answer.get("missing", []),
                           kind=answer.get("kind", "index"), created=answer.get("created"),
                           platforms=answer.get("platforms", ["linux/amd64", "linux/arm64"]),
                           children=answer.get("children", {}))
