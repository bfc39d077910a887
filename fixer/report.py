"""Reports: the human summary (stderr) and the JSON document (stdout, ``--format json``).

JSON schema, version 1 (stable: fields are only ever added; a breaking change bumps ``version``)::

    {
      "version": 1,
      "tool": "dockerfix",
      "tool_version": "0.1.0",
      "mode": "check" | "diff" | "write",
      "unsafe_fixes": false,               # whether unsafe fixes were applied in this run
      "files": [
        {
          "path": "app/Dockerfile",         # as shown on the command line ("-" or --stdin-filename for stdin)
          "status": "changed" | "unchanged" | "error",
                                            # "changed": the run's settings change the file
                                            # (written only in --write mode, see "written")
          "written": false,                 # true when --write replaced the file on disk
          "error": null | "one-line reason",
          "error_kind": null | "input" | "internal" | "write",
          "fixable": false,                 # true when this run or one with --unsafe-fixes changes it
          "fixes": [
            {
              "code": "DFX001",
              "name": "exec-form",
              "message": "use exec form for CMD so the process gets signals directly",
              "line": 5,                    # 1-based line of the instruction
              "applicability": "safe" | "unsafe" | "display-only",
              "applied": true,              # part of the result ("changed" text) of this run
              "edits": [{"start": 43, "end": 56, "text": "[\\"npm\\", \\"start\\"]"}],
              "notes": []
            }
          ],
          "skips": [{"code": "DFX004", "line": 1, "reason": "..."}],
          "suppressed": 0,                  # findings silenced by suppression comments
          "diff": "--- a/...\\n+++ b/...\\n..."   # only in --diff mode, when changed
        }
      ],
      "summary": {
        "files": 1, "changed": 1, "unchanged": 0, "errors": 0, "written": 0,
        "fixes_applied": 1, "fixes_pending": 0, "skips": 0
      }
    }

Edit offsets are character (code point) offsets into the text the fix was computed on, without
the byte order mark: for fixes found in the first round that is the input; later rounds see the
text after earlier fixes.  They document the change; the diff is the authoritative result.

Nothing from the process environment is ever written into a report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from .colors import paint
from .edits import Applicability, Fix

SCHEMA_VERSION = 1


@dataclass
class Outcome:
    """One file's FileResult plus what the CLI did with it."""

    result: Any  # pipeline.FileResult
    written: bool = False
    diff: str | None = None
    error_kind: str | None = None  # overrides result.error_kind (e.g. "write")
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def error(self) -> str | None:
        return self.result.error


def _names() -> dict[str, str]:
    from dockerfix.transforms import ALL

    return {t.code: t.name for t in ALL}


def _fix_json(f: Fix, applied: bool, names: dict[str, str]) -> dict[str, Any]:
    return {
        "code": f.code,
        "name": names.get(f.code, ""),
        "message": f.message,
        "line": f.line,
        "applicability": f.applicability.label,
        "applied": applied,
        "edits": [{"start": e.start, "end": e.end, "text": e.text} for e in f.edits],
        "notes": list(f.notes),
    }


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    return {
        "files": len(outcomes),
        "changed": sum(o.status == "changed" for o in outcomes),
        "unchanged": sum(o.status == "unchanged" for o in outcomes),
        "errors": sum(o.status == "error" for o in outcomes),
        "written": sum(o.written for o in outcomes),
        "fixes_applied": sum(len(o.result.applied) for o in outcomes),
        "fixes_pending": sum(len(o.result.pending) for o in outcomes),
        "skips": sum(len(o.result.skips) for o in outcomes),
    }


def to_json(outcomes: list[Outcome], *, mode: str, unsafe_fixes: bool) -> dict[str, Any]:
    from dockerfix import __version__

    names = _names()
    files = []
    for o in outcomes:
        r = o.result
        entry: dict[str, Any] = {
            "path": r.path,
            "status": r.status,
            "written": o.written,
            "error": r.error,
            "error_kind": o.error_kind or r.error_kind,
            "fixable": bool(r.status != "error" and r.fixable),
            "fixes": [_fix_json(f, True, names) for f in r.applied]
            + [_fix_json(f, False, names) for f in r.pending],
            "skips": [{"code": s.code, "line": s.line, "reason": s.reason} for s in r.skips],
            "suppressed": r.suppressed,
        }
        if mode == "diff" and o.diff:
            entry["diff"] = o.diff
        files.append(entry)
    return {
        "version": SCHEMA_VERSION,
        "tool": "dockerfix",
        "tool_version": __version__,
        "mode": mode,
        "unsafe_fixes": unsafe_fixes,
        "files": files,
        "summary": summary(outcomes),
    }


# ---------------------------------------------------------------------------------------------
# text

def pending_kind(f: Fix) -> str:
    """Why a fix was not applied: ``display-only`` (no edits, or report only), ``unsafe`` (needs
    ``--unsafe-fixes``) or ``overlap`` (overlaps another fix: a later run applies it)."""
    if f.applicability == Applicability.DISPLAY_ONLY or not f.has_edits:
        return "display-only"
    if f.applicability == Applicability.UNSAFE:
        return "unsafe"
    return "overlap"


_PENDING_LABEL = {"display-only": "suggestion (display-only)", "unsafe": "unsafe: use --unsafe-fixes",
                  "overlap": "fixable in a later run (overlaps another fix)"}


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}es" if word.endswith("x") else f"{n} {word}s"


def render_text(outcomes: list[Outcome], *, mode: str, unsafe_fixes: bool, color: bool = False,
                quiet: bool = False) -> str:
    """The human summary.  Errors are printed by the CLI as they happen, not here."""
    if quiet:
        return ""
    def s(text: str, style: str) -> str:
        return paint(text, style, color)

    done = "fixed" if mode == "write" else "fixable"
    lines: list[str] = []
    for o in outcomes:
        r = o.result
        if r.status == "error" or not (r.applied or r.pending or r.skips or o.notes):
            continue
        lines.append(s(r.path, "bold"))
        items: list[tuple[int, str]] = []
        for f in r.applied:
            items.append((f.line, f"  {s(f.code, 'yellow')} line {f.line}: {f.message} [{s(done, 'green')}]"))
            items.extend((f.line, f"      {n}") for n in f.notes)
        for f in r.pending:
            items.append((f.line, f"  {s(f.code, 'yellow')} line {f.line}: {f.message} "
                                  f"[{s(_PENDING_LABEL[pending_kind(f)], 'magenta')}]"))
            items.extend((f.line, f"      {n}") for n in f.notes)
        for sk in r.skips:
            items.append((sk.line, f"  {s(sk.code, 'yellow')} line {sk.line}: skipped: {sk.reason}"))
        lines.extend(text for _, text in sorted(items, key=lambda t: t[0]))
        lines.extend(f"  note: {n}" for n in o.notes)
    sm = summary(outcomes)
    parts = []
    if mode == "write":
        parts.append(f"{_plural(sm['written'], 'file')} fixed ({_plural(sm['fixes_applied'], 'fix')})"
                     if sm["written"] else "no files changed")
    else:
        parts.append(f"{_plural(sm['changed'], 'file')} would be changed ({_plural(sm['fixes_applied'], 'fix')})"
                     if sm["changed"] else "nothing to fix")
    if sm["unchanged"]:
        parts.append(f"{sm['unchanged']} unchanged")
    if sm["errors"]:
        parts.append(s(_plural(sm["errors"], "error"), "red"))
    lines.append(", ".join(parts) + ".")
    n_unsafe = sum(1 for o in outcomes for f in o.result.pending
                   if f.has_edits and f.applicability == Applicability.UNSAFE)
    if n_unsafe and not unsafe_fixes:
        lines.append(f"{_plural(n_unsafe, 'more fix')} available with --unsafe-fixes.")
    if mode == "check" and sm["changed"]:
        lines.append("Run with --diff to review, --write to apply.")
    elif mode == "diff" and sm["changed"]:
        lines.append("Run with --write to apply.")
    return "\n".join(lines) + "\n"


def write_text(stream: IO[str], text: str) -> None:
    if text:
        stream.write(text)
        stream.flush()


def error_line(path: str, reason: str) -> str:
    return f"dockerfix: {path}: {' '.join(str(reason).splitlines())}"


__all__ = ["Outcome", "to_json", "render_text", "summary", "error_line", "SCHEMA_VERSION"]
