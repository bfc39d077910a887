"""The Dockerfile scanner: source text to the :class:`~.document.Document` model.

It follows BuildKit's parser (``moby/buildkit/frontend/dockerfile/parser``) for instruction
boundaries: a line ending in the escape character (optionally followed by blanks) continues; blank
and comment lines inside a continuation are skipped; ``RUN``/``COPY``/``ADD`` lines with ``<<WORD``
words are followed by heredoc bodies that end at a line equal to ``WORD`` (leading tabs removed for
``<<-``).  Tests cross-check these boundaries against BuildKit's own parser.  Callers use
``document.parse``.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right

from .document import (
    GO_SPACE,
    Directive,
    Document,
    Flag,
    Heredoc,
    Instruction,
    ParseError,
    Segment,
    Span,
    Stage,
    Word,
)

KNOWN_INSTRUCTIONS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL "
    "STOPSIGNAL USER VOLUME WORKDIR".split()
)
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
#: Instructions whose arguments may be a JSON array (exec form for CMD/ENTRYPOINT/RUN).
JSON_INSTRUCTIONS = frozenset({"CMD", "ENTRYPOINT", "RUN", "SHELL", "COPY", "ADD", "VOLUME"})
KNOWN_DIRECTIVES = ("syntax", "escape", "check")

#: BuildKit splits the keyword from its arguments on ``[\t\v\f\r ]+`` only.
_KEYWORD_SEP = " \t\v\f\r"
#: BuildKit's directive pattern; Go's ``\s`` is ``[\t\n\f\r ]`` (a lone CR counts as a blank).
_DIRECTIVE_RE = re.compile(r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$")
_HEREDOC_WORD_RE = re.compile(r"^(\d*)<<(-?)([^<]*)$")

# ---------------------------------------------------------------------------------------------
# scanning


def _split_lines(src: str) -> list[tuple[int, int, int]]:
    """(start, content_end, next_start) for each line; content excludes ``\\r\\n``/``\\n``."""
    lines = []
    pos, n = 0, len(src)
    while pos < n:
        nl = src.find("\n", pos)
        if nl == -1:
            end = n
            lines.append((pos, end, n))
            break
        end = nl - 1 if nl > pos and src[nl - 1] == "\r" else nl
        lines.append((pos, end, nl + 1))
        pos = nl + 1
    return lines


class _Logical:
    """A logical line assembled from pieces of the source, with an offset map back to it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.starts: list[int] = []  # logical offsets where each piece begins
        self.src_starts: list[int] = []
        self.length = 0

    def add(self, text: str, src_start: int) -> None:
        self.starts.append(self.length)
        self.src_starts.append(src_start)
        self.parts.append(text)
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def to_source(self, offset: int, *, end: bool = False) -> int:
        """Map a logical offset to a source offset (``end=True`` maps an exclusive end, which
        belongs to the piece holding the character before it)."""
        probe = offset - 1 if end and offset > 0 else offset
        if len(self.starts) == 1:  # one physical line: the common case
            i = 0
        else:
            i = max(bisect_right(self.starts, probe) - 1, 0)
        return self.src_starts[i] + (offset - self.starts[i])


def _continues(content: str, escape: str) -> int | None:
    """If the line ends with the escape character (plus blanks), return its index.

    BuildKit's rule is ``([^E])E[ \t]*$|^E[ \t]*$``: an escape preceded by another escape
    (``foo \\``) does not continue the line."""
    stripped = content.rstrip(" \t")
    if stripped.endswith(escape) and not stripped.endswith(escape * 2):
        return len(stripped) - 1
    return None


def _is_comment(content: str) -> bool:
    return content.lstrip(GO_SPACE).startswith("#")


def _is_blank(content: str) -> bool:
    return content.strip(GO_SPACE) == ""


def _keyword_of(text: str) -> str:
    """The first word of a logical line, split the way BuildKit splits it."""
    body = text.lstrip(GO_SPACE)
    end = 0
    while end < len(body) and body[end] not in _KEYWORD_SEP:
        end += 1
    return body[:end]


_WORD_SPACE = " \t\r\n\f\v"


def _scan_word(text: str, i: int, escape: str, spaces: str, escape_in_single_quotes: bool) -> tuple[int, str]:
    """Read one word starting at ``i``: quotes group, ``escape`` takes the next character
    literally (inside double quotes always, inside single quotes only if asked).  Returns the
    offset after the word and its unquoted value."""
    n = len(text)
    value: list[str] = []
    quote = ""
    while i < n:
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and i + 1 < n and (quote == '"' or escape_in_single_quotes):
                i += 1
                value.append(text[i])
            else:
                value.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == escape and i + 1 < n:
            i += 1
            value.append(text[i])
        elif ch in spaces:
            break
        else:
            value.append(ch)
        i += 1
    return i, "".join(value)


def shell_words(text: str, escape: str) -> list[tuple[int, int, str]]:
    """Split on unquoted whitespace; return (start, end, unquoted value) in ``text`` offsets."""
    words = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in _WORD_SPACE:
            i += 1
        if i >= n:
            break
        start = i
        i, value = _scan_word(text, i, escape, _WORD_SPACE, escape_in_single_quotes=False)
        words.append((start, i, value))
    return words


def _extract_flags(text: str) -> tuple[list[tuple[int, int, str]], int]:
    """BuildKit's ``extractBuilderFlags``: leading ``--words`` (Go's whitespace, ``\\`` escapes
    in any quotes).  Returns flags and the offset where the remaining arguments start."""
    flags: list[tuple[int, int, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in GO_SPACE:
            i += 1
        if i >= n or not text.startswith("--", i) or i + 1 >= n:
            return flags, i
        start = i
        i, word = _scan_word(text, i, "\\", GO_SPACE, escape_in_single_quotes=True)
        if word == "--":
            return flags, i
        flags.append((start, i, word))


def _parse_json_array(text: str) -> tuple[str, ...] | None:
    t = text.strip()
    if not t.startswith("["):
        return None
    try:
        val = json.loads(t)
    except ValueError:
        return None
    if isinstance(val, list) and all(isinstance(v, str) for v in val):
        return tuple(val)
    return None


def open_quote(text: str) -> bool:
    """Does ``text`` end inside a quoted string (BuildKit's word lexer, escape ``\\``)?"""
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote == "'":
            if ch == "'":
                quote = ""
        elif ch == "\\":
            i += 1
        elif quote == '"':
            if ch == '"':
                quote = ""
        elif ch in "\"'":
            quote = ch
        i += 1
    return bool(quote)


def _heredoc_names(logical: str) -> list[tuple[str, bool]]:
    if open_quote(logical):  # BuildKit's lexer fails on the line: it finds no heredoc at all
        return []
    out = []
    for _start, _end, _v in shell_words(logical, "\\"):
        raw = logical[_start:_end]
        m = _HEREDOC_WORD_RE.match(raw)
        if not m or not m.group(3):
            continue
        rest = m.group(3)
        inner = shell_words(rest, "\\")
        if len(inner) != 1:
            continue
        out.append((inner[0][2], m.group(2) == "-"))
    return out


def _build_instruction(
    src: str,
    logical: _Logical,
    span: Span,
    line: int,
    end_line: int,
    heredocs: tuple[Heredoc, ...],
    comment_spans: tuple[Span, ...],
    escape: str,
    index: int,
    stage: int,
    logical_offset: int = 0,
) -> Instruction:
    text = logical.text
    body = text[logical_offset:]
    lead = len(body) - len(body.lstrip(GO_SPACE))
    kw_start = logical_offset + lead
    kw_end = kw_start
    while kw_end < len(text) and text[kw_end] not in _KEYWORD_SEP:
        kw_end += 1
    keyword_written = text[kw_start:kw_end]
    keyword = keyword_written.upper()
    keyword_span = Span(logical.to_source(kw_start), logical.to_source(kw_end, end=True))

    onbuild = None
    rest_start = kw_end
    if keyword == "ONBUILD":
        onbuild = _build_instruction(
            src, logical, span, line, end_line, heredocs, comment_spans, escape, index, stage, kw_end
        )
        flags: tuple[Flag, ...] = ()
        flag_end = kw_end
    else:
        raw_flags, rel = _extract_flags(text[rest_start:])
        flags = tuple(
            Flag(
                name=w[2:].split("=", 1)[0],
                value=w[2:].split("=", 1)[1] if "=" in w else None,
                span=Span(logical.to_source(rest_start + s), logical.to_source(rest_start + e, end=True)),
            )
            for s, e, w in raw_flags
        )
        flag_end = rest_start + rel

    args_raw = text[flag_end:]
    a_lead = len(args_raw) - len(args_raw.lstrip())
    args_text = args_raw.strip()
    a_start = flag_end + a_lead
    a_end = a_start + len(args_text)
    if a_end > a_start:
        args_span = Span(logical.to_source(a_start), logical.to_source(a_end, end=True))
    else:
        pos = logical.to_source(a_start, end=True) if a_start else span.start
        args_span = Span(pos, pos)

    words = tuple(
        Word(
            text=args_text[s:e],
            value=v,
            span=Span(logical.to_source(a_start + s), logical.to_source(a_start + e, end=True)),
        )
        for s, e, v in shell_words(args_text, escape)
    ) if keyword != "ONBUILD" else ()
    json_args = _parse_json_array(args_text) if keyword in JSON_INSTRUCTIONS else None

    return Instruction(
        index=index,
        keyword=keyword,
        keyword_as_written=keyword_written,
        keyword_span=keyword_span,
        span=span,
        line=line,
        end_line=end_line,
        logical=text,
        flags=flags,
        args_span=args_span,
        args_text=args_text,
        words=words,
        json_args=json_args,
        heredocs=heredocs if keyword != "ONBUILD" else (),
        comment_spans=comment_spans,
        stage=stage,
        onbuild=onbuild,
    )


def parse(text: str) -> Document:
    """Parse Dockerfile text.  Raises :class:`ParseError` when BuildKit would refuse it."""
    bom = text.startswith("\ufeff")
    src = text[1:] if bom else text
    lines = _split_lines(src)
    line_starts = tuple(s for s, _, _ in lines) or (0,)
    newline = "\r\n" if lines and src[lines[0][1] : lines[0][2]] == "\r\n" else "\n"
    final_newline = src.endswith("\n")

    segments: list[Segment] = []
    directives: list[Directive] = []
    escape = "\\"

    def seg(kind: str, start: int, end: int) -> None:
        segments.append(Segment(kind, Span(start, end), src[start:end]))

    i = 0
    # parser directives: only at the very top, each name once
    seen: set[str] = set()
    while i < len(lines):
        s, e, nxt = lines[i]
        m = _DIRECTIVE_RE.match(src[s:e].lstrip(GO_SPACE))
        if not m or m.group(1).lower() not in KNOWN_DIRECTIVES:
            break
        name = m.group(1).lower()
        if name in seen:  # BuildKit refuses a repeated directive (it is not a comment)
            raise ParseError(f"only one {name} parser directive can be used", i + 1)
        seen.add(name)
        directives.append(Directive(name, m.group(2), Span(s, e)))
        if name == "escape":
            if m.group(2) not in ("\\", "`"):
                raise ParseError(f"invalid escape token {m.group(2)!r} does not match ` or \\", i + 1)
            escape = m.group(2)
        seg("directive", s, nxt)
        i += 1

    raw: list[tuple[_Logical, Span, int, int, tuple[Heredoc, ...], tuple[Span, ...]]] = []
    while i < len(lines):
        s, e, nxt = lines[i]
        content = src[s:e]
        if _is_blank(content):
            seg("blank", s, nxt)
            i += 1
            continue
        if _is_comment(content):
            seg("comment", s, nxt)
            i += 1
            continue
        first_line = i
        logical = _Logical()
        comments: list[Span] = []
        cur_s, cur_e = s, e
        while True:
            piece = src[cur_s:cur_e]
            cont = _continues(piece, escape)
            if cont is None:
                logical.add(piece, cur_s)
                last_content_end = cur_e
                break
            logical.add(piece[:cont], cur_s)
            last_content_end = cur_e
            # look for the next line that carries content
            i += 1
            found = False
            while i < len(lines):
                ls, le, _ = lines[i]
                c = src[ls:le]
                if _is_blank(c):
                    i += 1
                    continue
                if _is_comment(c):
                    comments.append(Span(ls, le))
                    last_content_end = le
                    i += 1
                    continue
                found = True
                break
            if not found:
                # escape at end of file: the instruction simply ends there
                i = len(lines) - 1 if i >= len(lines) else i
                break
            cur_s, cur_e, _ = lines[i]
        end_idx = i
        # heredocs
        heredocs: list[Heredoc] = []
        kw = _keyword_of(logical.text).upper()
        kw_for_heredoc = kw
        if kw == "ONBUILD":
            kw_for_heredoc = _keyword_of(logical.text.lstrip(GO_SPACE)[len("ONBUILD"):]).upper()
        if kw_for_heredoc in HEREDOC_INSTRUCTIONS and "<<" in logical.text:
            for name, strip_tabs in _heredoc_names(logical.text):
                body_start_idx = end_idx + 1
                j = body_start_idx
                while j < len(lines):
                    ls, le, _ = lines[j]
                    c = src[ls:le]
                    if strip_tabs:
                        c = c.lstrip("\t")
                    if c == name:
                        break
                    j += 1
                if j >= len(lines):
                    raise ParseError(f"unterminated heredoc <<{name}", first_line + 1)
                bstart = lines[body_start_idx][0] if body_start_idx < len(lines) else len(src)
                bend = lines[j][0]
                heredocs.append(
                    Heredoc(name, strip_tabs, src[bstart:bend], Span(bstart, bend), Span(lines[j][0], lines[j][1]))
                )
                last_content_end = lines[j][1]
                end_idx = j
        span = Span(s, last_content_end)
        raw.append((logical, span, first_line + 1, end_idx + 1, tuple(heredocs), tuple(comments)))
        seg("instruction", s, lines[end_idx][2])
        i = end_idx + 1

    # build instructions and stages
    instructions: list[Instruction] = []
    stage = -1
    for idx, (logical, span, line, end_line, ins_heredocs, ins_comments) in enumerate(raw):
        kw = _keyword_of(logical.text).upper()
        if kw == "FROM":
            stage += 1
        instructions.append(
            _build_instruction(src, logical, span, line, end_line, ins_heredocs, ins_comments, escape, idx, stage)
        )

    doc_stages, global_args = _stages(instructions)
    _validate(instructions)
    return Document(
        source=src,
        bom=bom,
        newline=newline,
        final_newline=final_newline,
        escape=escape,
        directives=tuple(directives),
        instructions=tuple(instructions),
        stages=doc_stages,
        segments=tuple(segments),
        global_args=global_args,
        _line_starts=line_starts,
    )


def _stages(instructions: list[Instruction]) -> tuple[tuple[Stage, ...], dict[str, str | None]]:
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    current: list[Instruction] = []
    for ins in instructions:
        if ins.stage == -1:
            if ins.keyword == "ARG":
                for a in ins.assignments:
                    global_args[a.name] = a.value
            continue
        if ins.keyword == "FROM":
            if current:
                stages.append(_make_stage(len(stages), current))
            current = [ins]
        else:
            current.append(ins)
    if current:
        stages.append(_make_stage(len(stages), current))
    return tuple(stages), global_args


def _make_stage(index: int, instructions: list[Instruction]) -> Stage:
    frm = instructions[0]
    words = frm.words
    name = None
    if len(words) >= 3 and words[-2].value.lower() == "as":
        name = words[-1].value.lower()
    base_word = words[0] if words else None
    platform = frm.flag("platform")
    return Stage(
        index=index,
        name=name,
        base=base_word.value if base_word else "",
        base_span=base_word.span if base_word else frm.args_span,
        platform=platform.value if platform else None,
        from_=frm,
        instructions=tuple(instructions),
    )


def _validate(instructions: list[Instruction]) -> None:
    """The checks BuildKit makes before a build starts (parser plus instruction parsing)."""
    if not instructions:
        raise ParseError("file with no instructions")
    for ins in instructions:
        targets = [ins]
        if ins.onbuild is not None:
            trig = ins.onbuild
            if not trig.keyword:
                raise ParseError("ONBUILD needs an instruction", ins.line)
            if trig.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
                raise ParseError(f"{trig.keyword} isn't allowed as an ONBUILD trigger", ins.line)
            targets.append(trig)
        for t in targets:
            if t.keyword not in KNOWN_INSTRUCTIONS:
                raise ParseError(f"unknown instruction: {t.keyword_as_written}", ins.line)
        if ins.stage == -1 and ins.keyword != "ARG":
            raise ParseError(f"{ins.keyword_as_written} before the first FROM (only ARG may come first)", ins.line)
        if ins.keyword == "FROM" and not ins.words:
            raise ParseError("FROM requires the name of an image", ins.line)
        if ins.keyword == "FROM" and len(ins.words) not in (1, 3):
            raise ParseError("FROM takes an image and an optional `AS name`", ins.line)
        if ins.keyword == "FROM" and len(ins.words) == 3 and ins.words[1].value.lower() != "as":
            raise ParseError("FROM takes an image and an optional `AS name`", ins.line)
        if ins.keyword == "SHELL" and ins.json_args is None:
            raise ParseError("SHELL requires the arguments to be a JSON array", ins.line)
        for t in targets:
            if t.keyword in ("ENV", "LABEL"):
                _check_name_values(t, ins.line)
    if not any(i.keyword == "FROM" for i in instructions):
        raise ParseError("no FROM instruction: there is no build stage")


def _check_name_values(ins: Instruction, line: int) -> None:
    """BuildKit's ``parseNameVal``: ``KEY name value`` (two parts), or only ``name=value`` words."""
    if not ins.words:
        raise ParseError(f"{ins.keyword} requires at least one argument", line)
    if "=" not in ins.words[0].text:
        if len(ins.words) < 2:
            raise ParseError(f"{ins.keyword} must have two arguments", line)
        return
    for w in ins.words:
        if "=" not in w.text:
            raise ParseError(f"syntax error - can't find = in {w.text!r}; must be of the form name=value", line)
