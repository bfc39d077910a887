"""Text layout that matches the file: keyword case, where a new line goes, its indentation."""

from __future__ import annotations

from dockerfix.fixer.document import Document, Instruction
from dockerfix.fixer.edits import Edit


def keyword(doc: Document, word: str, like: Instruction | None = None) -> str:
    """An instruction keyword in the case the file uses (lower-case files stay lower-case)."""
    ref = like or (doc.instructions[0] if doc.instructions else None)
    if ref is not None and ref.keyword_as_written.islower():
        return word.lower()
    return word.upper()



def line_insert_offset(doc: Document, ins: Instruction) -> int:
    """Where a new line belongs that should come before ``ins``: the start of the comment block
    directly above it (comments describe the instruction below them), else its own line start."""
    idx = next(i for i, s in enumerate(doc.segments) if s.kind == "instruction" and s.span.start == ins.span.start)
    start = doc.line_start(ins.line)
    for seg in reversed(doc.segments[:idx]):
        if seg.kind != "comment":
            break
        start = seg.span.start
    return start


def new_line_before(doc: Document, ins: Instruction, text: str) -> Edit:
    """An insertion of the line ``text`` (no newline) before ``ins`` with its indentation."""
    return Edit.insert(line_insert_offset(doc, ins), doc.line_indent(ins) + text + doc.newline)


def new_line_after(doc: Document, ins: Instruction, text: str) -> Edit:
    """An insertion of the line ``text`` (no newline) after ``ins`` (after its whole span,
    continuation lines and heredoc bodies included) with its indentation.

    When ``ins`` is the last instruction and its last line ends with the escape character (a
    continuation into the end of the file), a new line would be joined to it; the dangling
    escape is removed in the same edit."""
    dangling = _dangling_escape(doc, ins)
    if dangling is not None:
        rest = doc.source[dangling + 1 : ins.span.end]
        return Edit(dangling, ins.span.end, rest + doc.newline + doc.line_indent(ins) + text)
    return Edit.insert(ins.span.end, doc.newline + doc.line_indent(ins) + text)


def _dangling_escape(doc: Document, ins: Instruction) -> int | None:
    """Offset of an escape character that continues ``ins`` into the end of the file, if any."""
    if ins.heredocs or ins.index != len(doc.instructions) - 1:
        return None
    for number in range(ins.end_line, ins.line - 1, -1):
        start = doc.line_start(number)
        content = doc.source[start:].split("\n", 1)[0].rstrip("\r")
        if not content.strip(" \t") or content.lstrip(" \t").startswith("#"):
            if number != ins.line:
                continue
        stripped = content.rstrip(" \t")
        continues = stripped.endswith(doc.escape) and not stripped.endswith(doc.escape * 2)
        return start + len(stripped) - 1 if continues else None
    return None
