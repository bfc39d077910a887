""".dockerignore matching with Docker's semantics (moby/patternmatcher, used by BuildKit).

Lines are trimmed, ``#`` lines are comments, ``!`` negates, each pattern is cleaned like Go's
filepath.Clean and loses a leading ``/``; ``*`` and ``?`` never cross ``/``, ``**`` spans any number
of directories, ``[...]`` classes and ``\\`` escapes work like Go's filepath.Match; a pattern that
matches a parent directory excludes everything below it; the last match wins.  (gitignore
semantics differ: there a slash-less pattern matches at any depth.)
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache


def clean_context_path(path: str) -> str:
    """Go's ``filepath.Clean`` for a build-context path, without the leading ``/``: ``./a//b/``
    becomes ``a/b``; the context root is ``.``."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if len(cleaned) > 1 and cleaned.startswith("/"):
        cleaned = cleaned[1:]
    return cleaned


@lru_cache(maxsize=4096)
def docker_pattern_regex(pattern: str) -> "re.Pattern[str]":
    """The regular expression moby/patternmatcher compiles a (cleaned) pattern to (memoized: the
    same few patterns are matched for every file and round)."""
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                out.append(".*" if i >= n else "(.*/)?")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            if i + 1 < n:
                out.append(re.escape(pattern[i + 1]))
                i += 1
            else:
                out.append("\\\\")
        elif ch == "[":
            j = pattern.find("]", i + 1)
            if j == -1:
                out.append("\\[")
            else:
                body = pattern[i + 1 : j]
                if body.startswith("^"):
                    body = "!" + body[1:]
                if body.startswith("!"):
                    body = "^" + body[1:].replace("\\", "\\\\")
                else:
                    body = body.replace("\\", "\\\\")
                out.append("[" + body + "]")
                i = j
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    try:
        return re.compile("".join(out))
    except re.error:
        return re.compile("(?!)")  # Docker reports a bad pattern as an error; it matches nothing here


@dataclass(frozen=True)
class IgnorePattern:
    """One ``.dockerignore`` line: the cleaned pattern, whether it is a ``!`` exception, its line."""

    pattern: str
    negated: bool
    line: int

    def matches(self, path: str) -> bool:
        """Does the pattern match ``path`` (cleaned, ``/``-separated) or one of its parent dirs?"""
        rx = docker_pattern_regex(self.pattern)
        if rx.match(path):
            return True
        parts = path.split("/")
        return any(rx.match("/".join(parts[:k])) for k in range(1, len(parts)))


def dockerignore_patterns(text: str | None) -> list[IgnorePattern]:
    """The patterns of a ``.dockerignore`` text, in order (BuildKit's ``ignorefile.ReadAll``)."""
    out: list[IgnorePattern] = []
    for n, raw in enumerate((text or "").lstrip("\ufeff").splitlines(), 1):
        if raw.startswith("#"):
            continue
        line = raw.strip()
        if not line:
            continue
        neg = line.startswith("!")
        if neg:
            line = line[1:].strip()
        if not line:
            continue
        out.append(IgnorePattern(clean_context_path(line), neg, n))
    return out


def dockerignore_matches(text: str | None, path: str) -> bool:
    """Would ``.dockerignore`` ``text`` leave ``path`` (relative to the context) out?  Any depth,
    ``**``, ``!`` exceptions, leading ``/`` and trailing ``/`` handled as BuildKit does."""
    path = clean_context_path(path)
    if path == ".":
        return False
    excluded = False
    for p in dockerignore_patterns(text):
        if p.matches(path):
            excluded = not p.negated
    return excluded
