"""Unified diffs the way git prints them, so ``git apply`` / ``patch -p1`` take them as they are.

* Headers are ``--- a/<path>`` and ``+++ b/<path>`` (``/dev/null`` for a file that does not exist
  yet).
* Lines are split on ``\\n`` only: a ``\\r\\n`` line keeps its ``\\r`` in the diff (as git does), so
  applying the diff reproduces CRLF files byte for byte; a lone ``\\r``, form feed or U+2028 is
  ordinary line content.
* A last line without a newline is followed by ``\\ No newline at end of file``.
* Colour (ANSI, :mod:`.colors`) only when asked: :func:`use_color` decides ``--color auto|always|never``; ``auto``
  means stdout is a terminal and ``NO_COLOR`` is unset or empty.  Carriage returns are shown as a
  dim ``^M`` in colour mode only (colour output is for eyes, not for ``patch``).
"""

from __future__ import annotations

import difflib
import os

from .colors import paint, use_color

NO_NEWLINE = "\\ No newline at end of file\n"

#: diff line kind -> colour style (:mod:`.colors`)
_STYLES = {"header": "bold", "hunk": "cyan", "del": "red", "add": "green", "meta": "dim"}


def split_lines(text: str) -> list[str]:
    """Split after every ``\\n`` only (``str.splitlines`` also splits on \\r, \\f, U+2028...)."""
    if not text:
        return []
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def diff_path(display: str) -> str:
    p = display.replace(os.sep, "/")
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/")


def unified_diff(before: str | None, after: str, path: str, *, context: int = 3) -> str:
    """The diff from ``before`` (None: new file) to ``after`` for ``path``; "" when equal.
    Values of secret-named ARG/ENV keys and npm auth settings are shown as ``***``."""
    from .secrets import mask_dockerfile

    if before == after:
        return ""
    p = diff_path(path)
    old_name = "/dev/null" if before is None else f"a/{p}"
    out: list[str] = []
    # a token in the file never reaches a CI log: secret values are masked on both sides
    lines = difflib.unified_diff(split_lines(mask_dockerfile(before or "")), split_lines(mask_dockerfile(after)),
                                 old_name, f"b/{p}",
                                 n=context, lineterm="\n")
    for i, line in enumerate(lines):
        if i < 2:  # headers: difflib appends a tab + empty date in some versions; keep git's form
            out.append(line.rstrip("\n").rstrip("\t") + "\n")
            continue
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + NO_NEWLINE)
    return "".join(out)


def colorize(diff: str) -> str:
    out = []
    for i, line in enumerate(split_lines(diff)):
        body, nl = (line[:-1], "\n") if line.endswith("\n") else (line, "")
        cr = ""
        if body.endswith("\r"):
            body, cr = body[:-1], paint("^M", _STYLES["meta"])
        if i < 2 and body.startswith(("--- ", "+++ ")):
            style = "header"
        elif body.startswith("@@"):
            style = "hunk"
        elif body.startswith("-"):
            style = "del"
        elif body.startswith("+"):
            style = "add"
        elif body.startswith("\\"):
            style = "meta"
        else:
            style = ""
        out.append(f"{paint(body, _STYLES[style])}{cr}{nl}" if style else f"{body}{cr}{nl}")
    return "".join(out)


__all__ = ["NO_NEWLINE", "colorize", "diff_path", "split_lines", "unified_diff", "use_color"]
