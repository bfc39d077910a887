"""The command layer of a document: the parsed form of an instruction's arguments.

Computed once per parse and read by every transform (``Instruction.commands``,
``Instruction.assignments``, ``Instruction.mounts``): the simple commands of a shell-form RUN with
their argv words and the operators between them, the ``NAME=value`` pairs of ARG/ENV, and the
options of ``--mount`` flags.  Nothing here re-reads the source: it works on the words the scanner
made (``Instruction.words``, ``Instruction.flags``), which carry their source spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .document import Instruction, Span, Word

#: A leading ``NAME=value`` shell assignment (or an ARG/ENV pair).
ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")

#: Words that separate simple commands in a shell-form RUN.
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", "{", "}", ";;"})
#: Words that may precede the program of a simple command.
_PREFIX_WORDS = frozenset({"then", "do", "else", "elif", "if", "while", "until", "!", "time", "exec", "command"})
_REDIRECT_RE = re.compile(r"^\d*(?:>>?|<<?|>&|<&|&>)")


@dataclass(frozen=True)
class ShellCommand:
    """One simple command of a shell-form RUN: its argv words (leading ``VAR=value`` assignments,
    ``if``/``then``-style keywords and redirections left out), each with its span in the source."""

    words: tuple[Word, ...]

    @property
    def argv(self) -> tuple[str, ...]:
        return tuple(w.value for w in self.words)

    @property
    def start(self) -> int:
        return self.words[0].span.start

    @property
    def end(self) -> int:
        return self.words[-1].span.end


def shell_commands(ins: Instruction) -> list[ShellCommand]:
    """The simple commands of a shell-form ``RUN`` (split on ``&&``, ``||``, ``;``, ``|``...), in
    order.  Empty for exec-form RUNs; heredoc bodies are not looked into."""
    if ins.keyword != "RUN" or ins.is_json:
        return []
    out: list[ShellCommand] = []
    cur: list[Word] = []
    skip_next = False

    def flush() -> None:
        if cur:
            out.append(ShellCommand(tuple(cur)))
        cur.clear()

    for w in ins.words:
        text = w.text
        if skip_next:
            skip_next = False
            continue
        if text in _SEPARATORS:
            flush()
            continue
        trailing_sep = False
        if text.endswith(";") and not text.endswith("\\;") and len(text) > 1 and text[0] not in "\"'":
            text = text[:-1]
            w = Word(text, w.value[:-1], Span(w.span.start, w.span.end - 1))
            trailing_sep = True
        if text.startswith("<<"):  # heredoc marker: the body is not part of the words
            flush()
            continue
        if _REDIRECT_RE.match(text):
            if _REDIRECT_RE.fullmatch(text):
                skip_next = True  # `> file`: the next word is the target
        elif not cur and (text in _PREFIX_WORDS or ASSIGNMENT_RE.match(text)):
            pass
        else:
            cur.append(w)
        if trailing_sep:
            flush()
    flush()
    return out
