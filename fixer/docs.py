"""Rule documentation generated from the transform module docstrings.

``dockerfix rules [CODE]`` prints it; ``docs/transforms.md`` is the committed Markdown copy.
Regenerate it with ``python -m dockerfix.fixer.docs --write`` (``--check`` exits 1 when the file
is stale; ``--output PATH`` writes elsewhere, e.g. from a non-editable install).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from collections.abc import Sequence

from .transform import DOC_SECTIONS, Transform

GENERATED = "<!-- Generated from the transform docstrings by `python -m dockerfix.fixer.docs --write`; do not edit. -->"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "transforms.md"


def _all() -> tuple[type[Transform], ...]:
    from dockerfix.transforms import ALL

    return tuple(sorted(ALL, key=lambda t: t.code))


def find(code: str) -> type[Transform] | None:
    key = code.strip().upper()
    for t in _all():
        if t.code.upper() == key or t.name.upper() == key:
            return t
    return None


def _intro(t: type[Transform]) -> str:
    """The docstring text before the first section, unless it only repeats the summary."""
    intro = t.doc_sections().get("_intro", "").strip()
    if intro.rstrip(".").strip().lower() == t.summary.rstrip(".").strip().lower():
        return ""
    return intro


def transform_markdown(t: type[Transform], level: int = 2) -> str:
    h = "#" * level
    secs = t.doc_sections()
    out = [f"{h} {t.code} `{t.name}`", "", f"*{t.summary}.*" if not t.summary.endswith(".") else f"*{t.summary}*", ""]
    out.append(f"Default fix safety: **{t.default_applicability.label}**.")
    if t.related:
        out.append(f"Also silenced by suppressions for: {', '.join(f'`{r}`' for r in t.related)}.")
    out.append("")
    intro = _intro(t)
    if intro:
        out += [intro, ""]
    for name in DOC_SECTIONS:
        body = secs.get(name)
        if body:
            out += [f"{h}# {name}", "", body, ""]
    for name, body in secs.items():  # sections beyond the standard five, in their own order
        if name != "_intro" and name not in DOC_SECTIONS and body:
            out += [f"{h}# {name}", "", body, ""]
    return "\n".join(out).rstrip() + "\n"


def markdown(transforms: Sequence[type[Transform]] | None = None) -> str:
    ts = list(transforms if transforms is not None else _all())
    out = [GENERATED, "", "# dockerfix transforms", "",
           "Each transform is one rewrite pass with a permanent code.  Select or ignore them with "
           "`--select` / `--ignore` or the `select` / `ignore` config keys; silence one place with "
           "`# dockerfix: ignore=CODE` above an instruction, or a whole file with "
           "`# dockerfix: ignore-file=CODE`.", "",
           "| Code | Name | Summary | Fix safety |", "|---|---|---|---|"]
    for t in ts:
        out.append(f"| [{t.code}](#{anchor(t)}) | `{t.name}` | {t.summary} | {t.default_applicability.label} |")
    out.append("")
    for t in ts:
        out.append(transform_markdown(t))
    return "\n".join(out).rstrip() + "\n"


def anchor(t: type[Transform]) -> str:
    # GitHub's heading slug for "## DFX001 `exec-form`"
    return re.sub(r"[^a-z0-9 -]", "", f"{t.code} {t.name}".lower()).replace(" ", "-")


def _plain(text: str) -> str:
    """Markdown-ish docstring text for a terminal: code fences (```diff) and inline code marks
    removed."""
    text = re.sub(r"^[ \t]*```[\w-]*[ \t]*\n?", "", text, flags=re.M)
    text = re.sub(r"``([^`]+)``", r"\1", text)
    return re.sub(r"`([^`]+)`", r"\1", text)


def transform_text(t: type[Transform]) -> str:
    secs = t.doc_sections()
    out = [f"{t.code} ({t.name}): {t.summary}", f"Default fix safety: {t.default_applicability.label}"]
    if t.related:
        out.append(f"Related codes: {', '.join(t.related)}")
    out.append("")
    intro = _intro(t)
    if intro:
        out += [_plain(intro), ""]
    for name, body in secs.items():
        if name == "_intro" or not body:
            continue
        out += [name.upper(), *("  " + line if line else "" for line in _plain(body).splitlines()), ""]
    return "\n".join(out).rstrip() + "\n"


def text(transforms: Sequence[type[Transform]] | None = None) -> str:
    ts = list(transforms if transforms is not None else _all())
    return "\n".join(transform_text(t) for t in ts)


def index_text() -> str:
    return "".join(f"{t.code}  {t.name:<24} {t.summary} [{t.default_applicability.label}]\n" for t in _all())


def table_text() -> str:
    """``dockerfix rules`` without a code: one line per transform, then how to read more."""
    ts = _all()
    w = max(len(t.name) for t in ts)
    s = max(len(t.default_applicability.label) for t in ts)
    lines = [f"{'CODE':<7} {'NAME':<{w}}  {'SAFETY':<{s}}  SUMMARY"]
    lines += [f"{t.code:<7} {t.name:<{w}}  {t.default_applicability.label:<{s}}  {t.summary}" for t in ts]
    lines += ["", "dockerfix rules CODE prints one transform's documentation (what it does, why, an example,"
              " fix safety, related codes); --format markdown prints all of it."]
    return "\n".join(lines) + "\n"


def suggest(word: str, candidates: Sequence[str]) -> str:
    """' (did you mean X?)' for the closest candidate, or ''."""
    import difflib

    by_upper = {c.upper(): c for c in candidates}
    w = word.strip().upper()
    if w.startswith("DFX") and w[3:].replace("O", "0") in {c[3:] for c in by_upper if c.startswith("DFX")}:
        return f" (did you mean DFX{w[3:].replace('O', '0')}?)"  # a letter O for a zero
    close = [c for c in difflib.get_close_matches(w, list(by_upper), n=3, cutoff=0.6)
             if _distance(w, c) <= max(1, len(c) // 4)]  # a typo, not any code of the same shape
    return f" (did you mean {by_upper[close[0]]}?)" if close else ""


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions; a swap counts 2)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def write(path: Path = DEFAULT_OUTPUT) -> bool:
    """Write the Markdown file; returns True when its content changed."""
    new = markdown()
    try:
        old = path.read_text(encoding="utf-8")
    except OSError:
        old = None
    if old == new:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    from .files import write_atomic

    write_atomic(path, new, old.encode("utf-8") if old is not None else None)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m dockerfix.fixer.docs", description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="regenerate docs/transforms.md")
    ap.add_argument("--check", action="store_true", help="exit 1 when the file is out of date")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    a = ap.parse_args(argv)
    if a.check:
        try:
            current = a.output.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != markdown():
            print(f"{a.output} is out of date: run python -m dockerfix.fixer.docs --write", file=sys.stderr)
            return 1
        return 0
    if a.write:
        changed = write(a.output)
        print(f"{a.output}: {'updated' if changed else 'up to date'}", file=sys.stderr)
        return 0
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
