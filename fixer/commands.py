"""The command layer of a document: the parsed form of an instruction's arguments.

Computed once per parse and read by every transform (``Instruction.commands``,
``Instruction.assignments``, ``Instruction.mounts``): the simple commands of a shell-form RUN with
their argv words and the operators between them, the ``NAME=value`` pairs of ARG/ENV, and the
options of ``--mount`` flags.  Nothing here re-reads the source: it works on the words the scanner
made (``Instruction.words``, ``Instruction.flags``), which carry their source spans.

The module imports nothing heavy and compiles one small pattern at import; ``document.py`` imports
it lazily, on the first use of a property.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from .document import Flag, Instruction, Span, Word

#: A leading ``NAME=value`` shell assignment (or an ARG/ENV pair).
ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")

#: Words that separate simple commands in a shell-form RUN.
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", "{", "}", ";;"})
#: The separators of a plain list of simple commands (no grouping, no ``case``).
_LIST_OPERATORS = frozenset({"&&", "||", ";", "|", "&"})
#: Reserved words that make a compound command (``if``/``for``/``while``/``case``...).
_COMPOUND_WORDS = frozenset({"if", "then", "fi", "for", "while", "do", "done", "case", "esac"})
#: Words that may precede the program of a simple command.
_PREFIX_WORDS = frozenset({"then", "do", "else", "elif", "if", "while", "until", "!", "time", "exec", "command"})
#: A redirection word: optional fd, the POSIX operators (``>``, ``>>``, ``>|``, ``<``, ``<>``, ``>&``,
#: ``<&``) and bash's ``&>``/``&>>``, then the target when it is written in the same word.
_REDIRECT_RE = re.compile(r"^(\d*)(&>>|&>|>>|>\||>&|>|<>|<&|<)(.*)$", re.S)


@dataclass(frozen=True)
class ShellCommand:
    """One simple command of a shell-form RUN.

    ``words`` is its argv (leading ``VAR=value`` assignments, ``if``/``then``-style keywords and
    redirections left out), ``all_words`` every word of it (assignments and redirections
    included: what deleting the command removes); ``before``/``after`` are the operator words
    around it (``&&``, ``;``...), None at the ends.  Every word has its span in the source."""

    words: tuple[Word, ...]
    all_words: tuple[Word, ...] = ()
    before: Word | None = None
    after: Word | None = None

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(w.value for w in self.words)

    @property
    def program(self) -> str:
        """The program's name: the first argv word without its directory (``/usr/bin/npm``: npm)."""
        return self.words[0].value.rsplit("/", 1)[-1]

    @property
    def start(self) -> int:
        return self.words[0].span.start

    @property
    def end(self) -> int:
        return self.words[-1].span.end

    @property
    def stdout_target(self) -> tuple[str, bool] | None:
        """(file, appends) of the last ``>``/``>>``/``>|`` redirection of standard output."""
        found = None
        words = self.all_words
        for i, w in enumerate(words):
            m = _REDIRECT_RE.match(w.text)
            if not m or m.group(1) not in ("", "1") or m.group(2) not in (">", ">>", ">|"):
                continue
            if m.group(3):
                found = (w.value[len(m.group(1)) + len(m.group(2)):], m.group(2) == ">>")
            elif i + 1 < len(words):
                found = (words[i + 1].value, m.group(2) == ">>")
        return found


@dataclass(frozen=True)
class ShellScript:
    """The commands of a shell-form RUN.  ``commands`` are its simple commands wherever they stand
    (inside ``if``, subshells and ``;``-joined words too); ``simple`` is true when the RUN is only
    a list of simple commands joined by ``&&``, ``||``, ``;``, ``|`` or ``&`` (no grouping,
    compound command, heredoc or empty command), so that commands can be removed one by one."""

    commands: tuple[ShellCommand, ...]
    segments: tuple[ShellCommand, ...]
    simple: bool

    @property
    def simple_commands(self) -> tuple[ShellCommand, ...] | None:
        """Every command of a simple list, empty-argv ones included (``FOO=1 && ...``); None
        when the RUN is not a simple list."""
        return self.segments if self.simple else None


_EMPTY = ShellScript((), (), False)


def _argv_words(words: list[tuple[Word, str]]) -> tuple[Word, ...]:
    out: list[Word] = []
    for w, role in words:
        if role != "word":
            continue
        if not out and (w.text in _PREFIX_WORDS or ASSIGNMENT_RE.match(w.text)):
            continue
        out.append(w)
    return tuple(out)


def parse_shell(ins: Instruction) -> ShellScript:
    """Split a shell-form ``RUN`` into simple commands (see :class:`ShellScript`).  Exec-form RUNs
    and other instructions have none; heredoc bodies are not looked into here (see
    :func:`parse_heredoc_scripts`).  Read it through ``Instruction.shell`` (computed once per
    parse)."""
    if ins.keyword != "RUN" or ins.is_json:
        return _EMPTY
    return _split(ins.words, simple=not ins.heredocs)


def _split(words: Iterable[Word | None], simple: bool) -> ShellScript:
    """The segmentation behind :func:`parse_shell`; a None in ``words`` is a line break of a
    script (it ends a command like ``;``)."""
    segments: list[ShellCommand] = []
    cur: list[tuple[Word, str]] = []
    before: Word | None = None
    target_next = False

    def end(after: Word | None) -> None:
        nonlocal before
        if cur:
            segments.append(ShellCommand(_argv_words(cur), tuple(w for w, _ in cur), before, after))
        cur.clear()
        before = after

    for w in words:
        if w is None:
            target_next = False
            end(None)
            continue
        text = w.text
        if target_next:
            target_next = False
            if text not in _SEPARATORS:
                cur.append((w, "target"))
                continue
            simple = False  # `> &&`: a syntax error
        if text in _SEPARATORS:
            if text not in _LIST_OPERATORS or not cur:
                simple = False
            end(w)
            continue
        if text in _COMPOUND_WORDS or text.endswith(";") or text.startswith("("):
            simple = False  # `(cd x && ...)`: a subshell even when the parenthesis touches a word
        trailing_sep = False
        if text.endswith(";") and not text.endswith("\\;") and len(text) > 1 and text[0] not in "\"'":
            text = text[:-1]
            w = Word(text, w.value[:-1], Span(w.span.start, w.span.end - 1))
            trailing_sep = True
        if text.startswith("<<"):  # heredoc marker: the body is not part of the words
            simple = False
            end(None)
            continue
        m = _REDIRECT_RE.match(text)
        if m:
            cur.append((w, "redirect"))
            target_next = not m.group(3)  # `> file`: the next word is the target
        else:
            cur.append((w, "word"))
        if trailing_sep:
            end(None)
    if cur:
        end(None)
    elif before is not None:
        simple = False  # a trailing operator
    return ShellScript(tuple(c for c in segments if c.words), tuple(segments), simple)


#: Programs that read a heredoc on standard input as a shell script (``RUN sh <<EOF``).
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})


def parse_heredoc_scripts(ins: Instruction) -> tuple[ShellScript, ...]:
    """The shell scripts a RUN runs from a heredoc, split like a RUN line (each line ends a
    command; comments and ``\\``-newline continuations are handled), with spans in the source:
    ``RUN <<EOF`` (BuildKit runs the body with the shell, unless it starts with a ``#!`` line for
    another program) and ``RUN sh <<EOF`` / ``bash <<EOF``.  One heredoc per RUN is read; a body
    with a quote open across lines is not split.  Read it through ``Instruction.heredoc_scripts``."""
    if ins.keyword != "RUN" or ins.is_json or len(ins.heredocs) != 1:
        return ()
    before = []
    for w in ins.words:
        if w.text.startswith("<<"):
            break
        before.append(w.value)
    if before and (len(before) > 1 or before[0].rsplit("/", 1)[-1] not in _SHELLS):
        return ()
    h = ins.heredocs[0]
    body = h.body
    first = body.split("\n", 1)[0]
    if first.startswith("#!"):  # `#!/bin/sh -e`, `#!/usr/bin/env bash`: a shell; else another program
        parts = first[2:].split() or [""]
        prog = parts[0].rsplit("/", 1)[-1]
        if prog == "env" and len(parts) > 1:
            prog = parts[1]
        if prog not in _SHELLS:
            return ()
    from .scanner import (  # the scanner's word splitter, shared
        open_quote,
        shell_words,
    )

    words: list[Word | None] = []
    flat = body.replace("\\\n", "  ")  # a continuation: same length, so offsets stay true
    offset = h.body_span.start
    for line in flat.split("\n"):
        if open_quote(line):
            return ()
        for s, e, value in shell_words(line, "\\"):
            if line[s] == "#":
                break  # a comment to the end of the line
            words.append(Word(line[s:e], value, Span(offset + s, offset + e)))
        words.append(None)
        offset += len(line) + 1
    return (_split(words, simple=True),)


def shell_commands(ins: Instruction) -> tuple[ShellCommand, ...]:
    """The simple commands of a shell-form ``RUN``, in order (``Instruction.commands``)."""
    return ins.shell.commands


# -- ARG / ENV pairs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """One ``NAME[=value]`` of an ARG or ENV: ``value`` is None for ``ARG NAME`` (no default);
    ``word`` is the word it is written in (for the legacy ``ENV NAME value words``, the name)."""

    name: str
    value: str | None
    word: Word


def parse_assignments(ins: Instruction) -> tuple[Assignment, ...]:
    """The pairs an ``ARG`` or ``ENV`` sets, the way BuildKit reads them: ``ARG a b=1`` declares
    each word; ``ENV`` is either ``NAME=value`` words or, when its first word has no ``=``, the
    legacy ``ENV NAME value with spaces``.  Read it through ``Instruction.assignments``."""
    words = ins.words
    if ins.keyword == "ARG":
        out = []
        for w in words:
            name, eq, value = w.value.partition("=")
            out.append(Assignment(name, value if eq else None, w))
        return tuple(out)
    if ins.keyword != "ENV" or not words:
        return ()
    if "=" not in words[0].text:
        return (Assignment(words[0].value, " ".join(w.value for w in words[1:]), words[0]),)
    pairs = (w.value.partition("=") + (w,) for w in words if "=" in w.value)
    return tuple(Assignment(name, value, w) for name, _eq, value, w in pairs)


# -- --mount flags --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MountOption:
    """``key=value`` inside a ``--mount`` flag; ``start``/``end`` locate the value in the flag's
    value text (``Flag.value``)."""

    key: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Mount:
    """A ``RUN --mount=...`` flag with its comma-separated options split (keys lower-cased, as
    BuildKit reads them; the type is ``bind`` when not given)."""

    flag: Flag
    options: tuple[MountOption, ...]

    def get(self, *keys: str) -> str | None:
        """The value of the first of ``keys`` given (``get("source", "src")``)."""
        for key in keys:
            for o in self.options:
                if o.key == key:
                    return o.value
        return None

    @property
    def type(self) -> str:
        return self.get("type") or "bind"


def parse_mounts(ins: Instruction) -> tuple[Mount, ...]:
    """The ``--mount`` flags of a RUN (``Instruction.mounts``)."""
    out = []
    for f in ins.flags:
        if f.name != "mount" or not f.value:
            continue
        options = []
        offset = 0
        for part in f.value.split(","):
            key, eq, value = part.partition("=")
            start = offset + len(key) + len(eq)
            options.append(MountOption(key.lower(), value, start, start + len(value)))
            offset += len(part) + 1
        out.append(Mount(f, tuple(options)))
    return tuple(out)
