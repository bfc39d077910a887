"""Suppression comments.

* ``# dockerfix: ignore=DFX003,DFX004`` in the comment block directly above an instruction
  silences those codes for that instruction (``# dockerfix: ignore`` alone silences all).
* ``# dockerfix: ignore-file=DFX008`` anywhere in the file silences a code for the whole file
  (``# dockerfix: ignore-file`` alone: dockerfix leaves the file alone).
* Users' existing pragmas for peers are respected where a transform lists the peer's code in
  ``related``: ``# hadolint ignore=DL3025`` above an instruction, ``# hadolint global ignore=...``,
  and BuildKit's ``# check=skip=JSONArgsRecommended`` directive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .document import Document

_DFX_RE = re.compile(r"#\s*dockerfix:\s*(ignore-file|ignore)\b(?:\s*=\s*([A-Za-z0-9_, ]+))?", re.I)
_HADOLINT_RE = re.compile(r"#\s*hadolint\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9_, ]+)", re.I)
ALL = "*"


def _codes(text: str | None) -> set[str]:
    if not text:
        return {ALL}
    return {c.strip().upper() for c in text.split(",") if c.strip()}


@dataclass
class Suppressions:
    file_codes: set[str] = field(default_factory=set)
    by_line: dict[int, set[str]] = field(default_factory=dict)  # instruction first line -> codes

    def suppressed(self, code: str, related: tuple[str, ...], line: int) -> bool:
        keys = {code.upper(), *(r.upper() for r in related)}
        if ALL in self.file_codes or keys & self.file_codes:
            return True
        codes = self.by_line.get(line, set())
        return ALL in codes or bool(keys & codes)


def collect(doc: Document) -> Suppressions:
    sup = Suppressions()
    check = doc.directive("check")
    if check:
        for part in check.value.split(";"):
            k, _, v = part.partition("=")
            if k.strip().lower() == "skip":
                if v.strip().lower() == "all":
                    pass  # "skip all checks" is about linting, not about fixing
                else:
                    sup.file_codes |= {c.strip().upper() for c in v.split(",") if c.strip()}
    for seg in doc.segments:
        if seg.kind != "comment":
            continue
        m = _DFX_RE.search(seg.text)
        if m and m.group(1).lower() == "ignore-file":
            sup.file_codes |= _codes(m.group(2))
        h = _HADOLINT_RE.search(seg.text)
        if h and h.group(1):
            sup.file_codes |= _codes(h.group(2))
    for ins in doc.instructions:
        codes: set[str] = set()
        for comment in doc.comments_before(ins):
            m = _DFX_RE.search(comment)
            if m and m.group(1).lower() == "ignore":
                codes |= _codes(m.group(2))
            h = _HADOLINT_RE.search(comment)
            if h and not h.group(1):
                codes |= _codes(h.group(2))
        if codes:
            for line in range(ins.line, ins.end_line + 1):
                sup.by_line[line] = codes
    return sup
