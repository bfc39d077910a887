"""Positions in the file as read.

The pipeline applies fixes in steps (one transform's non-overlapping fixes at a time), and every
transform sees the text of its step.  Each step's edits compose into an :class:`Origin`: an exact
map from offsets in the current text back to offsets in the text as read (without its byte order
mark).  A position in text a step inserted or replaced maps to the start of the replaced span in
the text that step changed, and so on back to the input.

Transforms name other instructions in their messages ("USER node before line 4"); they write the
number as ``source_line(doc, ins.line)`` so that it is the line of the file as read, whatever
earlier steps changed.  The pipeline attaches the map to every document it parses
(:func:`attach`); a document parsed anywhere else has none and its lines are returned as they are.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

_ATTR = "_dfx_origin"


class Origin:
    """Current text offsets -> offsets of the text as read, through ``steps`` (each a sorted
    tuple of non-overlapping ``(start, end, inserted_length)`` edits of the step's input)."""

    __slots__ = ("original", "steps", "_starts")

    def __init__(self, original: str, steps: tuple[tuple[tuple[int, int, int], ...], ...] = ()):
        self.original = original
        self.steps = steps
        self._starts: list[int] | None = None

    def then(self, edits: Sequence) -> Origin:
        """The map after applying ``edits`` (objects with start, end, text) to the current text."""
        step = tuple(sorted((e.start, e.end, len(e.text)) for e in edits))
        return Origin(self.original, self.steps + (step,))

    def to_original(self, pos: int) -> int:
        for step in reversed(self.steps):
            pos = _back(step, pos)
        return pos

    def line_col(self, pos: int) -> tuple[int, int]:
        """1-based line and column (code points) in the text as read of current offset ``pos``."""
        if self._starts is None:
            self._starts = [0] + [i + 1 for i, ch in enumerate(self.original) if ch == "\n"]
        p = self.to_original(pos)
        line = bisect_right(self._starts, p)
        return line, p - self._starts[line - 1] + 1


def _back(step: tuple[tuple[int, int, int], ...], pos: int) -> int:
    delta = 0
    for start, end, n in step:
        new_start = start + delta
        if pos < new_start:
            break
        if pos < new_start + n:
            return start  # inside inserted or replacing text: the start of the replaced span
        delta += n - (end - start)
    return pos - delta


def attach(doc, origin: Origin) -> None:
    object.__setattr__(doc, _ATTR, origin)


def origin_of(doc) -> Origin | None:
    return getattr(doc, _ATTR, None)


def position(doc, line: int) -> tuple[int, int]:
    """(line, column) in the file as read of the first non-blank character of ``line`` of
    ``doc`` (its instruction's keyword); ``(line, 1)`` when the document has no map."""
    if line <= 0:
        return line, 0
    origin = origin_of(doc)
    try:
        start = doc.line_start(line)
    except (IndexError, AttributeError):
        return line, 1
    src = doc.source
    pos = start
    while pos < len(src) and src[pos] in " \t":
        pos += 1
    if origin is None:
        return line, pos - start + 1
    return origin.line_col(pos)


def source_line(doc, line: int) -> int:
    """``line`` of ``doc`` as a line of the file as read (for numbers inside messages)."""
    origin = origin_of(doc)
    if origin is None or not origin.steps or line <= 0:
        return line
    return position(doc, line)[0]


__all__ = ["Origin", "attach", "origin_of", "position", "source_line"]
