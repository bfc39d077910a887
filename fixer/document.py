"""Lossless Dockerfile document model.

``parse(text)`` turns Dockerfile text into a :class:`Document` that knows, for every instruction,
its exact span in the source (continuation lines, comment lines inside continuations and heredoc
bodies included), the keyword as written, its flags and arguments with spans, exec (JSON) or shell
form, heredocs, and the stage it belongs to.  The document also knows the parser directives
(``# syntax=``, ``# escape=``, ``# check=``), the escape character, the newline style, whether the
file ends with a newline, the global ``ARG``s and the stage names.

Nothing is ever rebuilt from the model: transforms produce edits against ``Document.source`` and
every byte outside an edit stays as it was.  ``Document.segments`` covers the source exactly, so
``"".join(s.text for s in doc.segments) == doc.source`` for every input.

The scanner that builds it (``fixer/scanner.py``) follows BuildKit's parser for instruction
boundaries.  On top of the model, the command layer (``fixer/commands.py``) gives each instruction
its parsed arguments once per parse: ``Instruction.commands``/``shell``/``heredoc_scripts`` (RUN
commands), ``assignments`` (ARG/ENV pairs) and ``mounts`` (``--mount`` options);
``Document.stage_chain`` gives a stage's FROM chain.

Offsets are indices into the decoded text (``str``), not into the encoded bytes; the byte order
mark is not part of ``source`` (``Document.bom`` records it).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # the command layer imports this module; it is loaded on first use
    from .commands import Assignment, Mount, ShellCommand, ShellScript

#: Go's ``unicode.IsSpace`` (what BuildKit trims lines with); Python's ``str.isspace`` also counts
#: U+001C..U+001F, which BuildKit keeps as part of a word.
GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


class ParseError(ValueError):
    """The text is not a Dockerfile BuildKit would accept; ``line`` is 1-based (0 = whole file)."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(f"line {line}: {message}" if line else message)
        self.reason = message
        self.line = line


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open range ``[start, end)`` of character offsets into ``Document.source``."""

    start: int
    end: int

    def __len__(self) -> int:
        return self.end - self.start

    def contains(self, other: "Span") -> bool:
        return self.start <= other.start and other.end <= self.end

    def overlaps(self, other: "Span") -> bool:
        if self.start == self.end or other.start == other.end:  # insertions touch, never overlap
            return self.start < other.end and other.start < self.end
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class Word:
    """One argument word.  ``text`` is the logical text (continuations removed, quotes kept);
    ``value`` has quotes and escapes removed; ``span`` covers it in the source."""

    text: str
    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Flag:
    """A builder flag such as ``--from=build`` or ``--chown=node:node``."""

    name: str
    value: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Heredoc:
    name: str
    strip_tabs: bool
    body: str
    body_span: Span  # the body lines, terminator excluded
    terminator_span: Span


@dataclass(frozen=True, slots=True)
class Instruction:
    """One logical instruction.

    ``span`` runs from the first character of the keyword line to the end of its last line
    (continuations, inner comments and heredoc bodies included), without the final newline.
    """

    index: int
    keyword: str  # upper-case, e.g. "FROM"
    keyword_as_written: str
    keyword_span: Span
    span: Span
    line: int  # 1-based first line
    end_line: int  # 1-based last line
    logical: str  # the joined logical line, as BuildKit sees it (no inner comments)
    flags: tuple[Flag, ...]
    args_span: Span  # the arguments after the flags (stripped), in the source
    args_text: str  # the logical arguments after the flags (stripped)
    words: tuple[Word, ...]  # shell-style words of args_text
    json_args: tuple[str, ...] | None  # exec/JSON form values, or None for shell form
    heredocs: tuple[Heredoc, ...]
    comment_spans: tuple[Span, ...]  # comment lines inside the continuation
    stage: int  # index into Document.stages; -1 for global ARGs before the first FROM
    onbuild: "Instruction | None" = None  # the trigger instruction of an ONBUILD
    #: The parsed forms below, computed on first use (one per parse: the document is rebuilt
    #: after every round of edits).
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_json(self) -> bool:
        return self.json_args is not None

    # -- the command layer (fixer/commands.py), computed once ------------------------------------
    def _parsed(self, name: str) -> Any:  # each property below states its type
        """``commands.parse_<name>(self)``, computed on first use and kept for this parse."""
        memo = self._memo
        if name not in memo:
            from . import commands

            memo[name] = getattr(commands, "parse_" + name)(self)
        return memo[name]

    @property
    def shell(self) -> "ShellScript":
        """The simple commands of a shell-form RUN (empty for anything else)."""
        return self._parsed("shell")

    @property
    def commands(self) -> "tuple[ShellCommand, ...]":
        return self.shell.commands

    @property
    def heredoc_scripts(self) -> "tuple[ShellScript, ...]":
        """The shell scripts a RUN runs from its heredoc (``RUN <<EOF``, ``RUN sh <<EOF``)."""
        return self._parsed("heredoc_scripts")

    @property
    def assignments(self) -> "tuple[Assignment, ...]":
        """The ``NAME[=value]`` pairs of an ARG or ENV (empty for anything else)."""
        return self._parsed("assignments")

    @property
    def mounts(self) -> "tuple[Mount, ...]":
        """The ``--mount`` flags with their options split."""
        return self._parsed("mounts")

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None

    @property
    def is_upper(self) -> bool:
        return self.keyword_as_written.isupper()


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    name: str | None
    base: str  # the image (or stage name) as written after FROM flags
    base_span: Span
    platform: str | None
    from_: Instruction
    instructions: tuple[Instruction, ...]  # FROM included


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of the source: "directive", "comment", "blank" or "instruction" (with its newline)."""

    kind: str
    span: Span
    text: str


@dataclass(frozen=True, slots=True)
class Directive:
    name: str
    value: str
    span: Span


@dataclass(frozen=True)
class Document:
    source: str
    bom: bool
    newline: str
    final_newline: bool
    escape: str
    directives: tuple[Directive, ...]
    instructions: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    segments: tuple[Segment, ...]
    global_args: dict[str, str | None]
    _line_starts: tuple[int, ...] = field(repr=False, default=())

    # -- navigation -------------------------------------------------------------------------
    def text(self, span: Span) -> str:
        return self.source[span.start : span.end]

    def directive(self, name: str) -> Directive | None:
        for d in self.directives:
            if d.name == name:
                return d
        return None

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages if s.name)

    def stage_chain(self, stage: Stage) -> tuple[Stage, ...]:
        """The stage and the stages it is built ``FROM`` (by stage name), nearest first."""
        return self._stage_chains[stage.index]

    @cached_property
    def _stage_chains(self) -> tuple[tuple[Stage, ...], ...]:
        out: list[tuple[Stage, ...]] = []
        for stage in self.stages:
            chain = [stage]
            parent = next((s for s in self.stages[: stage.index] if s.name == stage.base.lower()), None)
            if parent is not None:  # an earlier stage: its chain is known and cannot hold this one
                chain.extend(out[parent.index])
            out.append(tuple(chain))
        return tuple(out)

    def line_of(self, offset: int) -> int:
        """1-based line number of a source offset."""
        return bisect_right(self._line_starts, offset)

    def line_start(self, line: int) -> int:
        return self._line_starts[line - 1]

    def instruction_at_line(self, line: int) -> Instruction | None:
        for ins in self.instructions:
            if ins.line <= line <= ins.end_line:
                return ins
        return None

    def comment_spans(self) -> Iterator[Span]:
        """Comment lines (parser directives are not comments here: edits to them are deliberate)."""
        for seg in self.segments:
            if seg.kind == "comment":
                yield seg.span
        for ins in self.instructions:
            yield from ins.comment_spans

    def comments_before(self, ins: Instruction) -> list[str]:
        """The comment lines directly above an instruction (no blank line in between)."""
        return list(self._comments_above.get(ins.span.start, ()))

    @cached_property
    def _comments_above(self) -> dict[int, tuple[str, ...]]:
        out: dict[int, tuple[str, ...]] = {}
        run: list[str] = []
        for seg in self.segments:
            if seg.kind in ("comment", "directive"):
                run.append(seg.text.strip())
            else:
                if seg.kind == "instruction" and run:
                    out[seg.span.start] = tuple(run)
                run = []
        return out

    def line_indent(self, ins: Instruction) -> str:
        start = self.line_start(ins.line)
        return self.source[start : ins.keyword_span.start]


def parse(text: str) -> Document:
    """Parse Dockerfile text.  Raises :class:`ParseError` when BuildKit would refuse it.  The
    scanner lives in ``fixer/scanner.py`` (loaded on the first parse)."""
    from .scanner import parse as scan

    return scan(text)
