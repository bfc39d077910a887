"""Is a text a Dockerfile BuildKit accepts?  Our own strict parse always; BuildKit's own parser
(PyPI ``dockerfile``, the official Go parser) too when it is installed, including a cross-check
that both agree on where every instruction starts and ends."""

from __future__ import annotations

from functools import lru_cache

from .document import Document, ParseError, parse


@lru_cache(maxsize=1)
def buildkit_available() -> bool:
    try:
        import dockerfile  # noqa: F401
    except ImportError:
        return False
    return True


def buildkit_boundaries(text: str) -> list[tuple[str, int, int]]:
    """(keyword, first line, last line) per instruction, from BuildKit's parser."""
    import dockerfile

    try:
        cmds = dockerfile.parse_string(text)
    except dockerfile.GoParseError as e:
        raise ParseError(f"BuildKit: {e}") from None
    return [(c.cmd.upper(), c.start_line, c.end_line) for c in cmds]


def validate(text: str, *, use_buildkit: bool = True) -> Document:
    """Parse strictly; raise ParseError when BuildKit would refuse the text or when our scanner
    and BuildKit's disagree about instruction boundaries."""
    doc = parse(text)
    if use_buildkit and buildkit_available():
        ours = [(i.keyword, i.line, i.end_line) for i in doc.instructions]
        theirs = buildkit_boundaries(doc.source)
        if ours != theirs:
            raise ParseError("dockerfix and BuildKit disagree on instruction boundaries")
    return doc
