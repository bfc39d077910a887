"""ANSI colour for terminals: whether to colour (:func:`use_color`) and how (:func:`paint`).

``--color auto|always|never``; ``auto`` means the stream is a terminal and ``NO_COLOR`` is unset or
empty.  The one place dockerfix writes escape sequences (diffs, the text summary).
"""

from __future__ import annotations

import os
from typing import IO

RESET = "\x1b[0m"
#: Named styles (SGR parameters).
STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "magenta": "35", "cyan": "36"}


def paint(text: str, style: str, on: bool = True) -> str:
    """``text`` in ``style`` (a name of :data:`STYLES`) followed by a reset; as is when ``on`` is false."""
    return f"\x1b[{STYLES[style]}m{text}{RESET}" if on else text


def use_color(mode: str, stream: IO[str] | None) -> bool:
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False
