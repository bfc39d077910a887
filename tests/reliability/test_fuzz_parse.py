"""Any input: ``parse`` succeeds or raises ParseError (nothing else), the round trip is byte
exact, and where BuildKit's own parser accepts the text our instruction boundaries equal its."""

from __future__ import annotations

import pytest
from hypothesis import given

from dockerfix.fixer.document import ParseError, parse
from dockerfix.fixer.validate import buildkit_available, buildkit_boundaries, oracle_text

from . import strategies as S
from .conftest import FUZZ, STATS
from .regressions import REGRESSION_INPUTS


def check_parse(text: str) -> None:
    STATS["parse: inputs tried"] += 1
    try:
        doc = parse(text)
    except ParseError as e:
        assert e.reason and "\n" not in str(e)
        STATS["parse: refused (ParseError)"] += 1
        return
    # byte-exact round trip, segments tile the source
    rendered = ("\ufeff" if doc.bom else "") + "".join(s.text for s in doc.segments)
    assert rendered == text
    pos = 0
    for seg in doc.segments:
        assert seg.span.start == pos
        pos = seg.span.end
    assert pos == len(doc.source)
    for ins in doc.instructions:
        written = doc.text(ins.keyword_span)
        if "\n" not in written:  # a keyword split by a continuation ("A\\\nRG") spans both lines
            assert written == ins.keyword_as_written
        for w in ins.words:
            assert 0 <= w.span.start <= w.span.end <= len(doc.source)
    if buildkit_available():
        try:
            theirs = buildkit_boundaries(oracle_text(doc))
        except ParseError as e:  # we would fix a file BuildKit refuses: we must refuse it too
            raise AssertionError(f"parse() accepted a text BuildKit's parser refuses: {e}") from None
        STATS["parse: boundaries compared with BuildKit"] += 1
        assert [(i.keyword, i.line, i.end_line) for i in doc.instructions] == theirs


@FUZZ
@given(S.dockerfiles())
def test_grammar_generated(text):
    check_parse(text)


@FUZZ
@given(S.mutated())
def test_mutated(text):
    check_parse(text)


@FUZZ
@given(S.st.text(max_size=300))
def test_arbitrary_text(text):
    check_parse(text)


@FUZZ
@given(S.st.binary(max_size=300))
def test_arbitrary_bytes_through_decode(raw):
    """What the CLI does with bytes: decode (InputError) then parse (ParseError)."""
    from dockerfix.fixer.files import InputError, decode

    try:
        text = decode(raw, "Dockerfile")
    except InputError:
        STATS["parse: bytes refused by decode"] += 1
        return
    check_parse(text)


def test_ten_thousand_lines():
    lines = ["# syntax=docker/dockerfile:1", "FROM node:22 AS build"]
    for i in range(10_000):
        lines.append(f"RUN echo {i} \\" if i % 3 == 0 else f"  && echo {i}" if i % 3 == 1 else f"ENV V{i}=x")
    text = "\n".join(lines) + "\n"
    check_parse(text)
    assert len(parse(text).instructions) > 6000


@pytest.mark.parametrize("name,text", REGRESSION_INPUTS, ids=[n for n, _ in REGRESSION_INPUTS])
def test_regression_inputs(name, text):
    check_parse(text)


@pytest.mark.parametrize("name", ["escape", "syntax", "check"])
def test_repeated_directive_is_refused_like_buildkit(name):
    """Found by the fuzzer: a second ``# escape=`` was taken for a comment, so the continuation
    rules of the first applied; BuildKit refuses the file ("only one escape parser directive
    can be used")."""
    value = {"escape": "`", "syntax": "docker/dockerfile:1", "check": "skip=all"}[name]
    with pytest.raises(ParseError) as e:
        parse(f"# {name}={value}\n# {name}={value}\nFROM node:22\n")
    assert e.value.reason == f"only one {name} parser directive can be used" and e.value.line == 2
    if buildkit_available() and name == "escape":
        with pytest.raises(ParseError):
            buildkit_boundaries(f"# {name}={value}\n# {name}={value}\nFROM node:22\n")


@pytest.mark.parametrize("text,outcome", [
    ("\x1c", "refused"),  # was an IndexError: Python's split() takes U+001C for whitespace
    ("FROM\x1cnode\n", "refused"),  # BuildKit's keyword is "FROM\x1cnode": unknown instruction
    ("\xa0\nFROM node\n", [("FROM", 2, 2)]),  # Go's unicode.IsSpace: a no-break space line is blank
    ("FROM node\n \x85# comment\nRUN x\n", [("FROM", 1, 1), ("RUN", 3, 3)]),
])
def test_whitespace_is_gos_not_pythons(text, outcome):
    if outcome == "refused":
        with pytest.raises(ParseError):
            parse(text)
        return
    assert [(i.keyword, i.line, i.end_line) for i in parse(text).instructions] == outcome
    if buildkit_available():
        assert buildkit_boundaries(text) == outcome


def test_check_directive_before_escape_is_judged_like_current_buildkit():
    """Found by the fuzzer: the run-time BuildKit check (BuildKit v0.12 inside PyPI `dockerfile`)
    does not know ``# check=`` and stops reading directives there, so a file with ``# check=``
    above ``# escape=`` and a continuation was reported as an internal error and never fixed."""
    from dockerfix.fixer.validate import validate

    text = "# check=skip=JSONArgsRecommended\n# escape=`\nFROM node:22 `\n  AS build\nCMD node a.js\n"
    doc = validate(text)
    assert [(i.keyword, i.line, i.end_line) for i in doc.instructions] == [("FROM", 3, 4), ("CMD", 5, 5)]
    assert validate("FROM node\nRUN a\x00b \\\n c\n").instructions[1].end_line == 3  # NUL: no C-string cut


@pytest.mark.parametrize("text,reason", [
    ('FROM a\nLABEL k=""dq \\" x""\n', "can't find = in"),
    ("FROM a\nENV A=b c\n", "can't find = in 'c'"),
    ("FROM a\nONBUILD ENV a=b c\n", "can't find = in"),
    ("FROM a\nENV A\n", "ENV must have two arguments"),
    ("FROM a\nLABEL a\n", "LABEL must have two arguments"),
    ("FROM a\nENV\n", "ENV requires at least one argument"),
])
def test_env_and_label_need_name_value_pairs(text, reason):
    """Found by the fuzzer: ENV/LABEL words without ``=`` were accepted, so such a file got
    rewritten and then rejected by the BuildKit check as a dockerfix internal error, instead of
    being reported as a file BuildKit refuses."""
    with pytest.raises(ParseError) as e:
        parse(text)
    assert reason in e.value.reason


@pytest.mark.parametrize("text", ["FROM a\nENV A \\\n  b=c\n", "FROM a\nLABEL a b\n", 'FROM a\nENV a="x y" b=c\n',
                                  "FROM a\nENV a=\\ b\n", 'FROM a\nENV "a b"=c\n'])
def test_env_and_label_forms_buildkit_accepts(text):
    parse(text)


def test_oracle_binding_decode_error_is_not_a_crash():
    """Found by the fuzzer: PyPI ``dockerfile`` raised UnicodeDecodeError (not GoParseError) for
    ``FROM --<U+29800>platform=...``, and validate() let it out of Pipeline.run."""
    from dockerfix.fixer.pipeline import Pipeline
    from dockerfix.fixer.context import Context
    from dockerfix.transforms import ALL

    text = "FROM --\U00029800platform=linux/amd64 node:22\nCMD node server.js\n"
    if buildkit_available():
        assert buildkit_boundaries(text) == [("FROM", 1, 1), ("CMD", 2, 2)]
    result = Pipeline([t() for t in ALL]).run(text, Context(offline=True))
    assert result.error is None and result.after.endswith('CMD ["node", "server.js"]\n')


@pytest.mark.parametrize("text,boundaries", [
    ('FROM node:22\nENTRYPOINT ["0", \\\n  "00", "a\\\\\n b"]\n', "refused"),
    ("FROM x\nRUN echo a\\\\\nRUN echo b\n", [("FROM", 1, 1), ("RUN", 2, 2), ("RUN", 3, 3)]),
    ("FROM x\nRUN a \\\n\\\n b\n", [("FROM", 1, 1), ("RUN", 2, 4)]),
    ("# escape=`\nFROM x\nRUN a ``\nRUN b `\n c\n", [("FROM", 2, 2), ("RUN", 3, 3), ("RUN", 4, 5)]),
])
def test_doubled_escape_at_end_of_line_does_not_continue(text, boundaries):
    """Found by the fuzzer: a line ending in two escape characters (``a\\\\``) was taken for a
    continuation; BuildKit's rule ``([^E])E[ \\t]*$|^E[ \\t]*$`` ends the instruction there, so
    our boundaries differed and every fix of such a file ended in an internal error."""
    if boundaries == "refused":
        with pytest.raises(ParseError):
            parse(text)
    else:
        assert [(i.keyword, i.line, i.end_line) for i in parse(text).instructions] == boundaries
    if buildkit_available() and boundaries != "refused":
        assert buildkit_boundaries(text) == boundaries


@pytest.mark.parametrize("text,boundaries", [
    ('FROM x\nCOPY <<EOF "/app/0\nEOF\n', "refused"),
    ("FROM x\nCOPY <<EOF '/app/0\nEOF\n", "refused"),
    ('FROM x\nRUN <<EOF echo "a\\"\nEOF\n', "refused"),
    ("FROM x\nRUN <<EOF echo 'a\\'\nEOF\n", [("FROM", 1, 1), ("RUN", 2, 3)]),
    ('FROM x\nRUN <<EOF echo a\\"\nEOF\n', [("FROM", 1, 1), ("RUN", 2, 3)]),
])
def test_no_heredoc_on_a_line_with_an_open_quote(text, boundaries):
    """Found by the fuzzer: ``COPY <<EOF "/app/0`` (quote never closed) opened a heredoc for us;
    BuildKit's word lexer fails on the line and finds no heredoc, so ``EOF`` is the next
    instruction (an unknown one: the file is refused)."""
    if boundaries == "refused":
        with pytest.raises(ParseError):
            parse(text)
    else:
        assert [(i.keyword, i.line, i.end_line) for i in parse(text).instructions] == boundaries
        if buildkit_available():
            assert buildkit_boundaries(text) == boundaries


def test_directive_after_leading_blanks_of_any_kind():
    """Found by the fuzzer: a directive line starting with a lone CR (or VT) was a comment for us;
    BuildKit trims the line with unicode.IsSpace first, so it is a directive (here: escape=`,
    and a repeated one is refused)."""
    doc = parse("\r# escape=`\nFROM node:22 `\n  AS build\n")
    assert doc.escape == "`" and [(i.keyword, i.line, i.end_line) for i in doc.instructions] == [("FROM", 2, 3)]
    with pytest.raises(ParseError):
        parse("\r# escape=\\\n# escape=\\\nFROM x\n")


def test_directive_pattern_uses_gos_blank_class():
    """Found by the fuzzer: ``#\\r escape=`` is a directive for BuildKit (Go's ``\\s`` includes CR)."""
    doc = parse("#\r escape=`\nFROM node:22 `\n  AS build\n")
    assert doc.escape == "`" and doc.instructions[0].end_line == 3
