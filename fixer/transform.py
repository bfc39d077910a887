"""The transform contract.

A transform is one rewrite pass, in its own module under ``transforms/``.  Its module docstring
is its documentation, with the sections ``What it does``, ``Why``, ``Example``, ``Fix safety``
and ``Related codes``; ``dockerfix rules`` and ``docs/transforms.md`` are generated from it.
"""

from __future__ import annotations

import re
import sys
from typing import ClassVar, Iterable

from .context import Context
from .document import Document
from .edits import Applicability, Fix, Skip

DOC_SECTIONS = ("What it does", "Why", "Example", "Fix safety", "Related codes")


class OrderError(ValueError):
    """The ``after`` declarations name an unknown code or form a cycle."""


def run_order(transforms: Iterable[type["Transform"]]) -> tuple[type["Transform"], ...]:
    """The transforms in an order that honours every ``after``: a topological sort (Kahn's),
    ties broken by code, so the order is the same on every run."""
    by_code = {t.code: t for t in transforms}
    not_last = {code for code, t in by_code.items() if "*" not in t.after}
    waiting: dict[str, set[str]] = {}
    for code, t in by_code.items():
        unknown = [c for c in t.after if c not in by_code and c != "*"]
        if unknown:
            raise OrderError(f"{code} runs after unknown code(s) {', '.join(unknown)}")
        waiting[code] = {c for c in t.after if c != "*"} | (not_last if "*" in t.after else set())
    order: list[type[Transform]] = []
    while waiting:
        ready = sorted(c for c, deps in waiting.items() if not deps)
        if not ready:
            raise OrderError("the `after` declarations form a cycle among " + ", ".join(sorted(waiting)))
        code = ready[0]
        order.append(by_code[code])
        del waiting[code]
        for deps in waiting.values():
            deps.discard(code)
    return tuple(order)


class Transform:
    """Base class: subclasses set the class variables and implement :meth:`fix`."""

    code: ClassVar[str]  # permanent, e.g. "DFX001"; never reused
    name: ClassVar[str]  # slug; also the fixtures/ folder name
    summary: ClassVar[str]  # one imperative line
    default_applicability: ClassVar[Applicability] = Applicability.SAFE
    #: Peer rule codes this transform fixes (hadolint DLxxxx, BuildKit check names); an existing
    #: ``# hadolint ignore=`` or ``# check=skip=`` for one of them also silences this transform.
    related: ClassVar[tuple[str, ...]] = ()
    #: Codes of the transforms that must run before this one in a round, each with a one-line
    #: reason beside it; ``"*"`` means every transform that does not say ``"*"`` itself (for a
    #: pass that must see the final Dockerfile).  The registry (``transforms.ALL``) derives the
    #: order from these.
    after: ClassVar[tuple[str, ...]] = ()

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- documentation -------------------------------------------------------------------
    @classmethod
    def docstring(cls) -> str:
        mod = sys.modules[cls.__module__]
        return (mod.__doc__ or "").strip()

    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """Split the module docstring into its sections (``## Title`` headings)."""
        out: dict[str, str] = {}
        current = "_intro"
        buf: list[str] = []
        for line in cls.docstring().splitlines():
            m = re.match(r"^##\s+(.+?)\s*$", line)
            if m:
                out[current] = "\n".join(buf).strip()
                current, buf = m.group(1), []
            else:
                buf.append(line)
        out[current] = "\n".join(buf).strip()
        return out
