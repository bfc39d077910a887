"""The shared types of the call-site rewrites (:mod:`callsites` and its sibling modules).

:class:`Migration` is one build argument that DFX009 turned into a secret, :class:`Change` one call
site (what it said, what it says now or should say), :class:`FileRewrite` one repository file with
call sites.  They live here, apart from :mod:`callsites`, so that the rewrite modules
(:mod:`callsite_shell`, :mod:`callsite_yaml`) can use them without importing :mod:`callsites`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .edits import SecretMigration


@dataclass(frozen=True)
class Migration:
    """One build argument that became a secret, for one Dockerfile."""

    dockerfile: Path  # absolute, resolved
    context: Path | None  # the build context dockerfix used (absolute), for file secrets
    secret: SecretMigration

    @property
    def name(self) -> str | None:
        return self.secret.build_arg

    @property
    def sid(self) -> str:
        return self.secret.secret_id


@dataclass(frozen=True)
class Change:
    """One call site: what it said, what it says now (or should say), and whether it was edited."""

    path: str  # repository-relative, POSIX
    line: int  # 1-based, in the file as read
    kind: str  # compose | workflow-action | workflow-run | makefile | script | package-script | docs | ci
    before: str
    after: str
    applied: bool
    reason: str = ""  # why it is only reported

    def describe(self) -> str:
        where = f"{self.path}:{self.line}"
        if self.applied:
            return f"{where} ({self.kind}): `{self.before}` -> `{self.after}`"
        return f"{where} ({self.kind}): change `{self.before}` to `{self.after}` by hand: {self.reason}"


@dataclass
class FileRewrite:
    """A repository file with call sites: its text as read, its new text, and the changes."""

    path: Path  # absolute, inside the repository root
    rel: str
    old: str
    new: str
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.new != self.old
