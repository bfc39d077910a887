"""Reports: the outcome model, the human summary (stderr) and the JSON document (stdout).

Outcome model.  A run has *findings*; each is one of

* ``fixed``: the fix is in what this run wrote (``--write``; for ``-`` the text printed),
* ``fixable``: the run's settings apply it (``--check``/``--diff`` show it; ``--write`` would),
* ``unsafe``: fixable with ``--unsafe-fixes`` (not given to this run),
* ``manual``: report only: dockerfix cannot fix it ("to fix by hand"),
* ``skipped``: a place a transform could not prove a fix safe, with the reason.  A skip about an
  instruction that also has a finding of the same code is part of that finding (one of its
  notes), never shown twice.

Exit codes, the summary and the hints all follow from :func:`findings` ("Found 8 issues in 1 file
(1 fixable, 6 fixable with --unsafe-fixes, 1 to fix by hand)").  Every line and column is a
position in the file as read (:mod:`.positions`).

JSON schema, version 2 (fields are only ever added; a change of meaning bumps ``version``;
version 2 changed ``applied`` and ``fixes_applied`` to mean "written", see below)::

    {
      "version": 2,
      "tool": "dockerfix",
      "tool_version": "0.1.0",
      "mode": "check" | "diff" | "write",
      "unsafe_fixes": false,               # whether this run applies unsafe fixes
      "files": [
        {
          "path": "app/Dockerfile",         # as shown on the command line ("-" or --stdin-filename for stdin)
          "status": "changed" | "unchanged" | "error",
                                            # "changed": the run's settings change the file
                                            # (written only in --write mode, see "written")
          "written": false,                 # true when --write replaced the file on disk
          "error": null | "one-line reason",
          "error_kind": null | "input" | "internal" | "write",
          "fixable": false,                 # true when findings remain that a fix (this run's or
                                            # one with --unsafe-fixes) would change
          "fixes": [
            {
              "code": "DFX001",
              "name": "exec-form",
              "message": "use exec form for CMD so the process gets signals directly",
              "line": 5, "column": 1,       # 1-based, of the instruction, in the file as read
              "status": "fixed" | "fixable" | "unsafe" | "manual",
              "applicability": "safe" | "unsafe" | "display-only",
              "applied": false,             # true only when "status" is "fixed" (written)
              "step": 0,                    # the text the edit offsets refer to, see "step_texts"
              "edits": [{"start": 43, "end": 56, "text": "[\\"npm\\", \\"start\\"]"}],
              "notes": []
            }
          ],
          "step_texts": {"2": "FROM node:26\\n..."},
          "skips": [{"code": "DFX004", "line": 1, "column": 1, "reason": "..."}],
          "suppressed": 0,                  # findings silenced by suppression comments
          "diff": "--- a/...\\n+++ b/...\\n..."   # only in --diff mode, when changed
        }
      ],
      "summary": {
        "files": 1, "changed": 1, "unchanged": 0, "errors": 0, "written": 0,
        "issues": 8, "fixed": 0, "fixable": 1, "unsafe": 6, "manual": 1, "skipped": 1,
        "skipped_by_code": {"DFX002": 1},
        "skipped_by_reason": [{"code": "DFX002", "reason": "digest look-up skipped (--offline)", "count": 1}],
        "fixes_applied": 0, "fixes_pending": 8, "skips": 1
      }
    }

Edit offsets are character (code point) offsets, without the byte order mark, into the text the
fix was computed on: the pipeline applies fixes in steps (one transform's fixes at a time), and
``step`` 0 is the file as read.  For a later step the text is in ``step_texts`` (keyed by the step
number as a string); pending fixes refer to the text after every applied fix.  Fixes for another
file (``.dockerignore``) are offsets into that file.  The diff is the authoritative result.

Nothing from the process environment is ever written into a report.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import IO, Any
from collections.abc import Sequence

from .colors import paint
from .edits import Applicability, Fix, Skip

SCHEMA_VERSION = 2

#: finding status -> (summary phrase, tag on the finding's line)
STATUSES = ("fixed", "fixable", "unsafe", "manual", "skipped")


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


@dataclass(frozen=True)
class Finding:
    """One line of a report: a fix (applied or not) or a skip, placed in the file as read."""

    path: str
    code: str
    message: str
    line: int
    column: int
    status: str  # one of STATUSES
    notes: tuple[str, ...] = ()
    fix: Fix | None = None
    skip: Skip | None = None


def _names() -> dict[str, str]:
    from dockerfix.transforms import ALL

    return {t.code: t.name for t in ALL}


def pending_kind(f: Fix) -> str:
    """Why a fix was not applied: ``display-only`` (no edits, or report only), ``unsafe`` (needs
    ``--unsafe-fixes``) or ``overlap`` (overlaps another fix: a later run applies it)."""
    if f.applicability == Applicability.DISPLAY_ONLY or not f.has_edits:
        return "display-only"
    if f.applicability == Applicability.UNSAFE:
        return "unsafe"
    return "overlap"


_PENDING_STATUS = {"display-only": "manual", "unsafe": "unsafe", "overlap": "fixable"}


def fix_status(f: Fix, applied: bool, mode: str) -> str:
    if applied:
        return "fixed" if mode == "write" else "fixable"
    return _PENDING_STATUS[pending_kind(f)]


def file_findings(o: Outcome, mode: str) -> list[Finding]:
    """The findings of one file, in line order; none for a file that failed."""
    r = o.result
    if r.status == "error":
        return []
    out: list[Finding] = []
    for applied, fixes in ((True, r.applied), (False, r.pending)):
        for f in fixes:
            out.append(Finding(r.path, f.code, f.message, f.line, f.column, fix_status(f, applied, mode),
                               tuple(f.notes), fix=f))
    where = {(f.code, f.line): i for i, f in enumerate(out)}
    for sk in r.skips:
        i = where.get((sk.code, sk.line))
        if i is not None:  # the same instruction and code: part of that finding, not a second line
            out[i] = Finding(**{**out[i].__dict__, "notes": out[i].notes + (sk.reason,)})
            continue
        out.append(Finding(r.path, sk.code, f"skipped: {sk.reason}", sk.line, sk.column, "skipped", skip=sk))
    out.sort(key=lambda x: (x.line, x.column, x.code, x.status == "skipped"))
    return out


def findings(outcomes: Sequence[Outcome], mode: str) -> list[Finding]:
    return [f for o in outcomes for f in file_findings(o, mode)]


def counts(outcomes: Sequence[Outcome], mode: str) -> dict[str, Any]:
    c: dict[str, Any] = {k: 0 for k in STATUSES}
    by_code: dict[str, int] = {}
    by_reason: dict[tuple[str, str], int] = {}
    files_with_issues = 0
    for o in outcomes:
        any_issue = False
        for f in file_findings(o, mode):
            c[f.status] += 1
            if f.status == "skipped":
                by_code[f.code] = by_code.get(f.code, 0) + 1
                key = (f.code, reason_kind(f.skip.reason if f.skip is not None else ""))
                by_reason[key] = by_reason.get(key, 0) + 1
            else:
                any_issue = True
        files_with_issues += any_issue
    c["issues"] = c["fixed"] + c["fixable"] + c["unsafe"] + c["manual"]
    c["skipped_by_code"] = dict(sorted(by_code.items()))
    c["skipped_by_reason"] = sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    c["files_with_issues"] = files_with_issues
    return c


def _mask_keeping_offsets(text: str) -> str:
    """``text`` with secret values (as :func:`~.secrets.mask_dockerfile` finds them) replaced by
    as many ``*`` as they have characters, so that edit offsets into it stay valid."""
    from .secrets import mask_dockerfile

    masked = mask_dockerfile(text)
    if masked == text:
        return text
    import difflib

    out = []
    for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, text, masked, autojunk=False).get_opcodes():
        out.append(text[i1:i2] if tag == "equal" else "*" * (i2 - i1))
    return "".join(out)


def reason_kind(reason: str) -> str:
    """What a skip's reason says, without the place: its last clause (after the last ": "),
    numbers and quoted names left out, so that skips for the same reason count together
    ("digest look-up skipped (--offline)")."""
    import re

    def clean(text: str) -> str:
        return re.sub(r"\bline \d+", "line N", re.sub(r"`[^`]*`", "…", text)).strip()

    tail = clean(reason.rsplit(": ", 1)[-1])
    head = clean(reason.split(": ", 1)[0])
    if len(tail) > 60 and len(head) <= 60:  # "single-stage build: <a long explanation>"
        return head
    return tail if len(tail) <= 60 else tail[:59].rstrip() + "…"


def remaining_issues(outcomes: Sequence[Outcome], mode: str) -> bool:
    """Do findings remain that the file as it now is still has (everything but fixed and skips)?"""
    c = counts(outcomes, mode)
    return bool(c["fixable"] or c["unsafe"] or c["manual"])


def _fix_json(f: Fix, status: str, names: dict[str, str], notes: tuple[str, ...]) -> dict[str, Any]:
    return {
        "code": f.code,
        "name": names.get(f.code, ""),
        "message": f.message,
        "line": f.line,
        "column": f.column,
        "status": status,
        "applicability": f.applicability.label,
        "applied": status == "fixed",
        "step": f.step,
        "edits": [{"start": e.start, "end": e.end, "text": e.text} for e in f.edits],
        "notes": list(notes),
    }


def summary(outcomes: Sequence[Outcome], mode: str = "check") -> dict[str, Any]:
    c = counts(outcomes, mode)
    return {
        "files": len(outcomes),
        "changed": sum(o.status == "changed" for o in outcomes),
        "unchanged": sum(o.status == "unchanged" for o in outcomes),
        "errors": sum(o.status == "error" for o in outcomes),
        "written": sum(o.written for o in outcomes),
        "issues": c["issues"], "fixed": c["fixed"], "fixable": c["fixable"], "unsafe": c["unsafe"],
        "manual": c["manual"], "skipped": c["skipped"], "skipped_by_code": c["skipped_by_code"],
        "skipped_by_reason": [{"code": code, "reason": why, "count": n} for (code, why), n in c["skipped_by_reason"]],
        # version 1 names, kept: fixes written, findings not written, skips listed
        "fixes_applied": c["fixed"],
        "fixes_pending": c["issues"] - c["fixed"],
        "skips": c["skipped"],
    }


def to_json(outcomes: list[Outcome], *, mode: str, unsafe_fixes: bool) -> dict[str, Any]:
    from dockerfix import __version__

    names = _names()
    files = []
    for o in outcomes:
        r = o.result
        found = file_findings(o, mode)
        fixes = [_fix_json(f.fix, f.status, names, f.notes) for f in found if f.fix is not None]
        steps = sorted({f.fix.step for f in found if f.fix is not None and f.fix.path is None and f.fix.step})
        entry: dict[str, Any] = {
            "path": r.path,
            "status": r.status,
            "written": o.written,
            "error": r.error,
            "error_kind": o.error_kind or r.error_kind,
            "fixable": any(f.status in ("fixable", "unsafe") for f in found) if r.status != "error" else False,
            "fixes": fixes,
            "step_texts": {str(k): _mask_keeping_offsets(r.step_text(k)) for k in steps} if r.before else {},
            "skips": [{"code": f.code, "line": f.line, "column": f.column, "reason": f.skip.reason}
                      for f in found if f.skip is not None],
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
        "summary": summary(outcomes, mode),
    }


# ---------------------------------------------------------------------------------------------
# text

_TAGS = {"fixed": "fixed", "fixable": "*", "unsafe": "unsafe", "manual": "by hand", "skipped": "skipped"}
_TAG_STYLE = {"fixed": "green", "fixable": "green", "unsafe": "magenta", "manual": "magenta", "skipped": "dim"}


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}es" if word.endswith(("x", "s")) else f"{n} {word}s"


def command(mode_flag: str, rerun: Sequence[str], unsafe: bool) -> str:
    """The command line a hint suggests: the mode, --unsafe-fixes when needed, then the flags
    and paths of this run that decide what is fixed (``rerun``)."""
    parts = ["dockerfix", mode_flag] + (["--unsafe-fixes"] if unsafe else []) + list(rerun)
    return "`" + " ".join(parts) + "`"


def summary_lines(outcomes: Sequence[Outcome], *, mode: str, unsafe_fixes: bool, rerun: Sequence[str] = (),
                  show_skips: bool = False, color: bool = False) -> list[str]:
    """The summary ("Found 8 issues in 1 file (...)"), the skips counted by rule, and the hints,
    which repeat the flags a command needs."""
    def s(text: str, style: str) -> str:
        return paint(text, style, color)

    c = counts(outcomes, mode)
    n_files = len(outcomes)
    errors = sum(o.status == "error" for o in outcomes)
    lines: list[str] = []
    if c["issues"]:
        parts = []
        if c["fixed"]:
            parts.append(f"{c['fixed']} fixed")
        if c["fixable"]:
            parts.append(f"{c['fixable']} fixable")
        if c["unsafe"]:
            parts.append(f"{c['unsafe']} fixable with --unsafe-fixes")
        if c["manual"]:
            parts.append(f"{c['manual']} to fix by hand")
        where = _plural(c["files_with_issues"], "file")
        if c["files_with_issues"] != n_files:
            where += f" of {n_files}"
        lines.append(f"Found {_plural(c['issues'], 'issue')} in {where} ({', '.join(parts)}).")
    else:
        checked = n_files - errors
        lines.append(f"No issues found ({_plural(checked, 'file')} checked)." if checked or not errors
                     else "No file could be checked.")
    if mode == "write":
        written = sum(o.written for o in outcomes)
        if written:
            lines[-1] += f" {_plural(written, 'file')} written."
    if errors:
        lines.append(s(f"{_plural(errors, 'file')} could not be processed (reasons above).", "red"))
    if c["skipped"]:
        groups = c["skipped_by_reason"]
        by = "; ".join(f"{n} {code}: {why}" for (code, why), n in groups[:3])
        if len(groups) > 3:
            by += f"; {sum(n for _k, n in groups[3:])} for other reasons"
        tail = "" if show_skips else "; --show-skips lists them"
        lines.append(f"{_plural(c['skipped'], 'check')} skipped ({by}){tail}.")
    # hints
    unsafe_more = c["unsafe"] and not unsafe_fixes
    if mode == "check":
        if c["fixable"] and unsafe_more:
            lines.append(f"Apply the {c['fixable']} fixable with {command('--write', rerun, unsafe_fixes)}, all "
                         f"{c['fixable'] + c['unsafe']} with {command('--write', rerun, True)}; "
                         "--diff instead of --write shows the changes.")
        elif c["fixable"]:
            lines.append(f"Apply with {command('--write', rerun, unsafe_fixes)}; "
                         f"{command('--diff', rerun, unsafe_fixes)} shows the changes first.")
        elif unsafe_more:
            lines.append(f"Apply with {command('--write', rerun, True)}; "
                         f"{command('--diff', rerun, True)} shows the changes first.")
    elif mode == "diff":
        if c["fixable"]:
            lines.append(f"Apply with {command('--write', rerun, unsafe_fixes)}.")
        if unsafe_more:
            lines.append(f"{command('--diff', rerun, True)} shows {_plural(c['unsafe'], 'more fix')}.")
    elif unsafe_more:
        lines.append(f"Apply the other {c['unsafe']} with {command('--write', rerun, True)} "
                     f"(review them first with {command('--diff', rerun, True)}).")
    if c["manual"]:
        codes = sorted({f.code for f in findings(outcomes, mode) if f.status == "manual"})
        lines.append(f"`dockerfix rules {codes[0]}` explains a finding to fix by hand.")
    return lines


def render_text(outcomes: list[Outcome], *, mode: str, unsafe_fixes: bool, color: bool = False,
                quiet: bool = False, verbose: bool = False, show_skips: bool = False,
                rerun: Sequence[str] = (), width: int | None = None) -> str:
    """The human report: one line per finding (``path:line:col: CODE [tag] message``), then the
    summary and hints.  ``quiet``: only the summary line(s); ``show_skips`` lists the skips;
    ``verbose`` also lists fixed findings and every note.  ``width`` wraps long lines (a
    terminal); None keeps each finding on one line (a file, a pipe).  Errors are printed by the
    CLI as they happen, not here."""
    def s(text: str, style: str) -> str:
        return paint(text, style, color)

    lines: list[str] = []
    fixed_notes: list[str] = []
    if not quiet:
        for o in outcomes:
            for f in file_findings(o, mode):
                if f.status == "skipped" and not (show_skips or verbose):
                    continue
                if f.status == "fixed" and not verbose:
                    fixed_notes.extend(f"{f.code}: {n}" for n in f.notes if f.fix and n in f.fix.notes)
                    continue
                tag = s(f"[{_TAGS[f.status]}]", _TAG_STYLE[f.status])
                head = f"{s(f.path, 'bold')}:{f.line}:{max(f.column, 1)}: {s(f.code, 'yellow')} {tag} "
                text = f.message[len("skipped: "):] if f.status == "skipped" else f.message
                lines.extend(_wrap(head, text, width, len(_strip_ansi(head))))
                if verbose:
                    for n in f.notes:
                        lines.extend(_wrap("    note: ", n, width, 10))
            for n in o.notes:
                lines.extend(_wrap(f"{s(o.result.path, 'bold')}: note: ", n, width, 4))
        seen: set[str] = set()
        for n in fixed_notes:  # what a written fix asks of the user (e.g. a new build flag), once
            if n not in seen:
                seen.add(n)
                lines.extend(_wrap("note: ", n, width, 6))
    lines.extend(summary_lines(outcomes, mode=mode, unsafe_fixes=unsafe_fixes, rerun=rerun,
                               show_skips=show_skips or verbose, color=color)
                 if not quiet else summary_lines(outcomes, mode=mode, unsafe_fixes=unsafe_fixes,
                                                 rerun=rerun, show_skips=True, color=color)[:1])
    return "\n".join(lines) + "\n"


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _wrap(head: str, text: str, width: int | None, head_len: int) -> list[str]:
    if width is None or head_len + len(text) <= width:
        return [head + text]
    import textwrap

    indent = " " * min(8, head_len)
    first_width = max(20, width - head_len)
    words = textwrap.wrap(text, width=first_width, break_long_words=False, break_on_hyphens=False)
    if not words:
        return [head]
    first, rest = words[0], " ".join(words[1:])
    out = [head + first]
    if rest:
        out.extend(textwrap.wrap(rest, width=max(20, width), initial_indent=indent, subsequent_indent=indent,
                                 break_long_words=False, break_on_hyphens=False))
    return out


def rerun_flags(*, paths: Sequence[str] = (), select: Sequence[str] | None = None, ignore: Sequence[str] = (),
                offline: bool = False, config_path: Any = None, context_dir: Any = None,
                stdin_filename: str | None = None) -> list[str]:
    """The flags (and paths) of this run that a suggested command must repeat to fix the same
    things; paths are left out when long (``PATH...``)."""
    out: list[str] = []
    if select:
        out += ["--select", ",".join(select)]
    if ignore:
        out += ["--ignore", ",".join(ignore)]
    if offline:
        out.append("--offline")
    if config_path is not None:
        out += ["--config", str(config_path)]
    if context_dir is not None:
        out += ["--context", str(context_dir)]
    if stdin_filename:
        out += ["--stdin-filename", stdin_filename]
    shown = [shlex.quote(p) for p in paths]
    if shown:
        out.extend(shown if sum(len(p) + 1 for p in shown) <= 60 else ["PATH..."])
    return [x if x in shown or x == "PATH..." else shlex.quote(x) for x in out]


def write_text(stream: IO[str], text: str) -> None:
    if text:
        stream.write(text)
        stream.flush()


def error_line(path: str, reason: str) -> str:
    return f"dockerfix: {path}: {' '.join(str(reason).splitlines())}"


__all__ = ["Outcome", "Finding", "findings", "file_findings", "counts", "to_json", "render_text", "summary",
           "summary_lines", "rerun_flags", "remaining_issues", "error_line", "SCHEMA_VERSION"]
