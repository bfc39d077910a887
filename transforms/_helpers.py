"""Small helpers shared by transforms: shell-word analysis and text layout matching the file."""

from __future__ import annotations

import json
import shlex

from dockerfix.fixer.document import Document, Instruction

#: Characters that make a shell command depend on the shell (expansion, control, redirection).
SHELL_META = set("$`|&;<>()*?[]{}~!\\\n")


def shell_reason(cmd: str) -> str | None:
    """Why ``cmd`` needs a shell to run as intended, or None if it is plain words."""
    quote = ""
    for i, ch in enumerate(cmd):
        if quote == "'":
            if ch == "'":
                quote = ""
            continue
        if quote == '"':
            if ch == '"':
                quote = ""
            elif ch in "$`":
                return "expands variables or commands at run time"
            elif ch == "\\":
                return "uses backslash escapes"
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "$" or ch == "`":
            return "expands variables or commands at run time"
        elif ch in "|&;":
            return "chains commands (&&, ||, ;, | or &)"
        elif ch in "<>":
            return "redirects input or output"
        elif ch in "*?[":
            return "uses filename globbing"
        elif ch in "(){}!":
            return "uses shell grouping or operators"
        elif ch == "~" and (i == 0 or cmd[i - 1] in " \t="):
            return "uses ~ home expansion"
        elif ch == "#" and (i == 0 or cmd[i - 1] in " \t"):
            return "contains a shell comment"
        elif ch == "\\":
            return "uses backslash escapes"
    if quote:
        return "has an unterminated quote"
    return None


def plain_words(cmd: str) -> list[str] | None:
    """The argv a POSIX shell would run for ``cmd``, when it is plain words; else None."""
    if shell_reason(cmd) is not None:
        return None
    try:
        words = shlex.split(cmd, posix=True)
    except ValueError:
        return None
    return words or None


def json_array(values: list[str] | tuple[str, ...]) -> str:
    """Exec-form text in Docker's documented style: ``["node", "server.js"]``."""
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def keyword(doc: Document, word: str, like: Instruction | None = None) -> str:
    """An instruction keyword in the case the file uses (lower-case files stay lower-case)."""
    ref = like or (doc.instructions[0] if doc.instructions else None)
    if ref is not None and ref.keyword_as_written.islower():
        return word.lower()
    return word.upper()
