"""Is a text a Dockerfile BuildKit accepts?  Our own strict parse always; BuildKit's own parser
(PyPI ``dockerfile``, the official Go parser) too when it is installed, including a cross-check
that both agree on where every instruction starts and ends."""

from __future__ import annotations

from functools import lru_cache

from .document import GO_SPACE, Document, ParseError, parse


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
        try:
            cmds = dockerfile.parse_string(text)
        except UnicodeDecodeError:
            # the binding hands some non-ASCII values back cut in the middle of a character
            # (e.g. a flag name with U+29800); boundaries do not depend on which non-blank
            # character stands where, so ask again with such characters replaced by "x"
            cmds = dockerfile.parse_string("".join(
                c if c < "\x80" or c in GO_SPACE else "x" for c in text))
    except dockerfile.GoParseError as e:
        raise ParseError(f"BuildKit: {e}") from None
    return [(c.cmd.upper(), c.start_line, c.end_line) for c in cmds]


def oracle_text(doc: Document) -> str:
    """``doc.source`` as the installed BuildKit parser must see it to judge it like current BuildKit.

    PyPI ``dockerfile`` 3.4.0 embeds BuildKit v0.12.5, which predates the ``# check=`` directive:
    for it that line is a comment that ends the directives, so an ``# escape=`` below it is
    ignored and every continuation is read differently.  Directive lines are moved so ``check``
    comes last (same line count, so the same line numbers).  Its C-string interface also stops at
    a NUL, which BuildKit itself reads as an ordinary byte: NUL becomes U+0001 for the oracle.
    """
    src = doc.source.replace("\x00", "\x01")
    if not any(d.name == "check" for d in doc.directives):
        return src
    lines = src.split("\n")
    n = len(doc.directives)
    head = sorted(lines[:n], key=lambda ln: ln.lstrip(" \t#").lower().startswith("check"))
    return "\n".join(head + lines[n:])


def validate(text: str, *, use_buildkit: bool = True, doc: Document | None = None) -> Document:
    """Parse strictly (or take ``doc``, already parsed from ``text``); raise ParseError when
    BuildKit would refuse the text or when our scanner and BuildKit's disagree about instruction
    boundaries."""
    doc = doc if doc is not None else parse(text)
    if use_buildkit and buildkit_available():
        ours = [(i.keyword, i.line, i.end_line) for i in doc.instructions]
        theirs = buildkit_boundaries(oracle_text(doc))
        if ours != theirs:
            raise ParseError("dockerfix and BuildKit disagree on instruction boundaries")
    return doc
