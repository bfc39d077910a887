"""Edits, fixes and their safety levels.

A transform never changes text.  It returns :class:`Fix` objects (each a list of :class:`Edit`
s against ``Document.source``) and :class:`Skip` notes; the pipeline alone applies edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

from .document import Span


class Applicability(IntEnum):
    """How sure a fix is.  Ordered like ruff: a run applies every fix at or above its level."""

    DISPLAY_ONLY = 0  # shown in reports and PR bodies, never applied
    UNSAFE = 1  # applied with --unsafe-fixes: may change behaviour the user relies on
    SAFE = 2  # applied by default: the image behaves the same or strictly better

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``source[start:end]`` with ``text`` (an insertion when start == end)."""

    start: int
    end: int
    text: str

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    @classmethod
    def insert(cls, at: int, text: str) -> Edit:
        return cls(at, at, text)

    @classmethod
    def replace(cls, span: Span, text: str) -> Edit:
        return cls(span.start, span.end, text)

    @classmethod
    def delete(cls, span: Span) -> Edit:
        return cls(span.start, span.end, "")


@dataclass(frozen=True, slots=True)
class SecretMigration:
    """A build input a fix turned into a build secret, for rewriting the commands that build the
    Dockerfile (``fixer/callsites.py``).  ``source``: ``"value"`` when the secret holds the
    build-arg's value as is (``--build-arg NPM_TOKEN=x`` becomes ``--secret id=npm_token,env=...``),
    ``"file"`` when it is a whole file (``file`` names it in the build context when known)."""

    build_arg: str | None  # e.g. "NPM_TOKEN"; None when no build-arg fed it (a copied .npmrc)
    secret_id: str  # e.g. "npm_token"
    source: str = "value"  # "value" | "file"
    file: str | None = None  # context-relative file the secret is read from (source == "file")
    content: str = ""  # for "file" secrets: what the file must hold (tokens masked), one line per line


@dataclass(frozen=True, slots=True)
class Fix:
    """One reviewable change.  All its edits apply together or not at all."""

    code: str
    message: str
    line: int
    edits: tuple[Edit, ...] = ()
    applicability: Applicability = Applicability.SAFE
    #: Extra lines for reports (e.g. the build command the user must now run).
    notes: tuple[str, ...] = field(default=())
    #: The file the edits apply to: None for the Dockerfile, else a path relative to the build
    #: context (e.g. ".dockerignore"; a missing file counts as empty text and is created).
    path: str | None = None
    #: Build-args this fix turned into build secrets (DFX009): the call sites that pass them
    #: are rewritten with the Dockerfile.
    secrets: tuple[SecretMigration, ...] = ()
    #: Set by the pipeline, never by a transform: the column (1-based, in the file as read) of the
    #: instruction the fix concerns (``line`` is rewritten to the file as read too), and the step
    #: whose text the edit offsets refer to (0: the file as read; see ``FileResult.step_text``).
    column: int = 0
    step: int = 0

    @property
    def has_edits(self) -> bool:
        return bool(self.edits)

    def with_applicability(self, a: Applicability) -> Fix:
        return replace(self, applicability=a)


@dataclass(frozen=True, slots=True)
class Skip:
    """A place a transform looked at but could not prove safe: no edit, and the reason."""

    code: str
    reason: str
    line: int = 0
    #: Network facts the transform would have needed (image references whose digest was not
    #: looked up before the run); the session looks them up and runs the file once more.
    wants: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    column: int = 0  # set by the pipeline (the file as read), like Fix.column


def apply_edits(source: str, edits: list[Edit]) -> str:
    """Apply non-overlapping edits (sorted or not) from the end backwards."""
    out = source
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        out = out[: e.start] + e.text + out[e.end :]
    return out


def select_non_overlapping(fixes: list[Fix]) -> tuple[list[Fix], list[Fix]]:
    """Keep fixes in order whose edits overlap no edit kept before (ruff's rule); the rest wait
    for the next round of the pipeline."""
    taken: list[Edit] = []
    kept, deferred = [], []
    for fix in fixes:
        if any(_clash(e, t) for e in fix.edits for t in taken):
            deferred.append(fix)
            continue
        kept.append(fix)
        taken.extend(fix.edits)
    return kept, deferred


def _clash(a: Edit, b: Edit) -> bool:
    if a.start == a.end and b.start == b.end:
        return a.start == b.start  # two insertions at one point: order would be ambiguous
    if a.start == a.end:
        return b.start < a.start < b.end
    if b.start == b.end:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end
