"""Report formats beyond text and JSON: ``--format sarif``, ``--format github``, ``--format markdown``.

All three read the same :class:`~dockerfix.fixer.report.Outcome` list as ``report.to_json`` and
write to stdout.  Nothing from the process environment is ever written into them.

SARIF 2.1.0 (``--format sarif``)
    One run; ``tool.driver.rules`` lists every transform (id = code, name, shortDescription = the
    summary, fullDescription = "What it does", help = the whole documentation as text and Markdown,
    helpUri = the transform's anchor in ``docs/transforms.md``, a reference relative to the
    dockerfix repository).  ``columnKind`` is ``unicodeCodePoints`` (our offsets are code points).
    Results: every applied and pending fix (level ``warning``; display-only findings ``note``) and
    every skip (level ``note``, ``kind: informational``), with ``properties.applicability``,
    ``properties.applied`` / ``properties.skipped``.  Regions describe the file as it was read
    (a byte order mark is not counted).

    Attached ``fixes`` (``artifactChanges[].replacements`` with ``deletedRegion``: startLine,
    startColumn, endLine, endColumn plus charOffset/charLength, and ``insertedContent``):

    * The pipeline records edit offsets against the text of the round that produced them.  When
      applying every applied fix's edits to the input reproduces the output exactly (one round:
      the usual case), each result gets its own exact fix.
    * Otherwise (several rounds) the per-fix offsets would be wrong, so the whole change of the
      file is computed from a line diff of before/after and attached, once, to the file's first
      applied result, described as "all dockerfix changes to this file (apply together)".
    * A pending (not applied) fix gets a ``fixes`` entry only when its offsets refer to the text
      the report describes: nothing else changed the file (before == after).  In ``--write`` mode
      applied fixes are already on disk and get none.
    * Fixes to other build-context files (``.dockerignore``) are a whole-file replacement of that
      file (path relative to the Dockerfile's folder, the default build context).

GitHub workflow commands (``--format github``)
    ``::warning file=F,line=L,title=DFX001 (name)::message`` per fix, ``::notice`` per skip and
    display-only finding, ``::error`` per file that failed.  Data is escaped as the runner expects
    (``%`` → ``%25``, CR → ``%0D``, LF → ``%0A``), properties additionally ``:`` → ``%3A`` and
    ``,`` → ``%2C``.

Markdown (``--format markdown``)
    The pull-request body the bot (``dockerfix pr``) opens: :func:`render_markdown`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from typing import Any
from collections.abc import Iterable

from .edits import Applicability, Fix, apply_edits
from .report import pending_kind

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
DOCS_PATH = "docs/transforms.md"
FINGERPRINT_MARK = "dockerfix-fingerprint"


def _transforms() -> dict[str, Any]:
    from dockerfix.transforms import ALL

    return {t.code: t for t in ALL}


def _plain(text: str) -> str:
    return re.sub(r"``([^`]+)``", r"`\1`", text)


def why_first_sentence(t) -> str:
    """The first sentence of the transform's "Why" section, on one line, Markdown code marks."""
    why = " ".join(_plain(t.doc_sections().get("Why", "")).split())
    in_code = False
    for i, ch in enumerate(why):
        if ch == "`":
            in_code = not in_code  # a period inside `COPY . .` ends nothing
        elif ch in ".!?" and not in_code and (i + 1 == len(why) or why[i + 1].isspace()):
            if not re.search(r"(?:\be\.g|\bi\.e|\betc)$", why[:i]) and i > 0 and not why[i - 1].isspace():
                return why[: i + 1]
    return why


# ---------------------------------------------------------------------------------------------
# SARIF

def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (code points) of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def _region(text: str, start: int, end: int) -> dict[str, Any]:
    sl, sc = _line_col(text, start)
    el, ec = _line_col(text, end)
    return {"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec,
            "charOffset": start, "charLength": end - start}


def _replacement(text: str, start: int, end: int, new: str) -> dict[str, Any]:
    return {"deletedRegion": _region(text, start, end), "insertedContent": {"text": new}}


def _diff_replacements(old: str, new: str) -> list[dict[str, Any]]:
    """Replacements turning ``old`` into ``new``, from a line diff (offsets into ``old``)."""
    from .diffing import split_lines

    a, b = split_lines(old), split_lines(new)
    offsets = [0]
    for line in a:
        offsets.append(offsets[-1] + len(line))
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append(_replacement(old, offsets[i1], offsets[i2], "".join(b[j1:j2])))
    return out


def _strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


def _artifact(uri: str) -> dict[str, Any]:
    return {"uri": uri.replace(os.sep, "/").removeprefix("./")}


def _location(uri: str, line: int, column: int = 0) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(line, 1)}
    if column > 0:
        region["startColumn"] = column
    return {"physicalLocation": {"artifactLocation": _artifact(uri), "region": region}}


def extra_uri(dockerfile: str, extra: str) -> str:
    if os.path.isabs(extra):
        return extra
    folder = os.path.dirname(dockerfile)
    return os.path.normpath(os.path.join(folder, extra)) if folder else extra


def sarif_rules() -> list[dict[str, Any]]:
    from .docs import anchor, transform_markdown, transform_text

    rules = []
    for code, t in sorted(_transforms().items()):
        secs = t.doc_sections()
        rules.append({
            "id": code,
            "name": t.name,
            "shortDescription": {"text": t.summary},
            "fullDescription": {"text": " ".join(_plain(secs.get("What it does", t.summary)).split())},
            "help": {"text": transform_text(t), "markdown": transform_markdown(t, level=2)},
            "helpUri": f"{DOCS_PATH}#{anchor(t)}",
            "defaultConfiguration": {"level": "note" if t.default_applicability == Applicability.DISPLAY_ONLY
                                     else "warning"},
            "properties": {"fixSafety": t.default_applicability.label,
                           "relatedCodes": list(t.related)},
        })
    return rules


def _fix_result(f: Fix, uri: str, rule_index: dict[str, int], applied: bool, status: str = "",
                notes: tuple[str, ...] | None = None) -> dict[str, Any]:
    level = "note" if f.applicability == Applicability.DISPLAY_ONLY else "warning"
    message = f.message + "".join(f"\n{n}" for n in (f.notes if notes is None else notes))
    res: dict[str, Any] = {
        "ruleId": f.code,
        "level": level,
        "message": {"text": message},
        "locations": [_location(uri, f.line, f.column)],
        "properties": {"applicability": f.applicability.label, "applied": applied},
    }
    if status:
        res["properties"]["status"] = status
    if f.code in rule_index:
        res["ruleIndex"] = rule_index[f.code]
    return res


def _file_results(o, mode: str, rule_index: dict[str, int]) -> list[dict[str, Any]]:
    from .report import file_findings

    r = o.result
    uri = r.path
    before, after = _strip_bom(r.before), _strip_bom(r.after)
    results: list[dict[str, Any]] = []
    own = [f for f in r.applied if f.path is None]
    # each fix's own offsets are exact on the file as read only when all were computed on it
    single_round = all(f.step == 0 for f in own) and (
        apply_edits(before, [e for f in own for e in f.edits]) == after if own else True)
    combined_done = False
    found = file_findings(o, mode)
    applied_ids = {id(f) for f in r.applied}
    for fd in found:
        if fd.skip is not None:
            res: dict[str, Any] = {
                "ruleId": fd.code,
                "level": "note",
                "kind": "informational",
                "message": {"text": fd.message},
                "locations": [_location(uri, fd.line, fd.column)],
                "properties": {"skipped": True, "status": "skipped"},
            }
            if fd.code in rule_index:
                res["ruleIndex"] = rule_index[fd.code]
            results.append(res)
            continue
        f = fd.fix
        assert f is not None  # a finding is a skip or a fix
        applied = id(f) in applied_ids
        res = _fix_result(f, uri, rule_index, applied=fd.status == "fixed", status=fd.status, notes=fd.notes)
        if applied and mode != "write":
            if f.path is not None:
                old, new = r.extra_files.get(f.path, (None, None))
                if new is not None:
                    res["fixes"] = [{
                        "description": {"text": f"{f.message} ({f.path}, whole file)"},
                        "artifactChanges": [{"artifactLocation": _artifact(extra_uri(uri, f.path)),
                                             "replacements": _diff_replacements(old or "", new)}],
                    }]
            elif single_round:
                res["fixes"] = [{
                    "description": {"text": f.message},
                    "artifactChanges": [{"artifactLocation": _artifact(uri),
                                         "replacements": [_replacement(before, e.start, e.end, e.text)
                                                          for e in sorted(f.edits, key=lambda e: (e.start, e.end))]}],
                }]
            elif not combined_done:
                combined_done = True
                res["fixes"] = [{
                    "description": {"text": "all dockerfix changes to this file (fixes from several steps; "
                                            "apply together)"},
                    "artifactChanges": [{"artifactLocation": _artifact(uri),
                                         "replacements": _diff_replacements(before, after)}],
                }]
        elif not applied and f.has_edits and f.path is None and before == after:
            # a pending fix's offsets refer to the result text: exact only when nothing else changed
            res["fixes"] = [{
                "description": {"text": f"{f.message} ({f.applicability.label})"},
                "artifactChanges": [{"artifactLocation": _artifact(uri),
                                     "replacements": [_replacement(after, e.start, e.end, e.text)
                                                      for e in sorted(f.edits, key=lambda e: (e.start, e.end))]}],
            }]
        results.append(res)
    return results


def render_sarif(outcomes: list, *, mode: str, unsafe_fixes: bool) -> dict[str, Any]:
    """The SARIF 2.1.0 log (a dict ready for ``json.dumps``)."""
    from dockerfix import __version__

    rules = sarif_rules()
    rule_index = {r["id"]: i for i, r in enumerate(rules)}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for o in outcomes:
        r = o.result
        if r.status == "error":
            notifications.append({
                "level": "error",
                "message": {"text": f"{r.path}: {' '.join(str(r.error).splitlines())}"},
                "locations": [_location(r.path, 1)],
            })
            continue
        results.extend(_file_results(o, mode, rule_index))
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "dockerfix",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": "https://pypi.org/project/dockerfix/",
            "rules": rules,
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "invocations": [{
            "executionSuccessful": not notifications,
            "toolExecutionNotifications": notifications,
            "properties": {"mode": mode, "unsafeFixes": unsafe_fixes},
        }],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


# ---------------------------------------------------------------------------------------------
# GitHub workflow commands

def escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(s: str) -> str:
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _command(kind: str, message: str, **props: Any) -> str:
    p = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None)
    return f"::{kind}{' ' + p if p else ''}::{escape_data(message)}\n"


_GITHUB_LABEL = {"fixed": "fixed", "fixable": "fixable", "unsafe": "fixable with --unsafe-fixes",
                 "manual": "to fix by hand", "skipped": "skipped"}


def render_github(outcomes: list, *, mode: str, show_skips: bool = False) -> str:
    """One annotation per finding at its line and column in the file as read: ``warning`` for
    what a fix changes, ``notice`` for findings to fix by hand and (with ``show_skips``) skips."""
    from .report import file_findings

    names = {c: t.name for c, t in _transforms().items()}
    out: list[str] = []
    for o in outcomes:
        r = o.result
        f_path = r.path.replace(os.sep, "/").removeprefix("./")
        if r.status == "error":
            out.append(_command("error", f"{r.path}: {' '.join(str(r.error).splitlines())}", file=f_path,
                                title="dockerfix"))
            continue
        for fd in file_findings(o, mode):
            if fd.status == "skipped" and not show_skips:
                continue
            kind = "notice" if fd.status in ("manual", "skipped") else "warning"
            msg = fd.message if fd.status == "skipped" else f"{fd.message} [{_GITHUB_LABEL[fd.status]}]"
            msg += "".join(f"\n{n}" for n in fd.notes)
            out.append(_command(kind, msg, file=f_path, line=max(fd.line, 1), col=fd.column or None,
                                title=f"{fd.code} ({names.get(fd.code, '')})"))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Markdown: the pull-request body

def fingerprint(changes: dict[str, str]) -> str:
    """sha256 of the sorted (path, new content) pairs, as canonical JSON."""
    canon = json.dumps(sorted(changes.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def changes_of(outcomes: list, path_of=None) -> dict[str, str]:
    """path -> new content of every file the outcomes change (Dockerfiles and extra files)."""
    out: dict[str, str] = {}
    for o in outcomes:
        r = o.result
        if r.status != "changed":
            continue
        p = path_of(o, None) if path_of else r.path
        if r.after != r.before:
            out[p] = r.after
        for extra, (_old, new) in r.extra_files.items():
            out[path_of(o, extra) if path_of else extra_uri(r.path, extra)] = new
    return out


def _md_cell(s: str) -> str:
    return " ".join(s.split()).replace("|", "\\|")


def _n_fixes(outcomes: Iterable) -> int:
    return sum(len(o.result.applied) for o in outcomes if o.result.status != "error")


def pr_title(outcomes: list) -> str:
    n = _n_fixes(outcomes)
    return f"dockerfix: {n} {'fix' if n == 1 else 'fixes'} for production-ready Node images"


def _report_title(outcomes: list, applied: bool) -> str:
    if applied:
        return pr_title(outcomes)
    from .report import counts

    c = counts(outcomes, "check")
    return (f"dockerfix report: {c['issues']} {'issue' if c['issues'] == 1 else 'issues'} "
            f"({c['fixable']} fixable, {c['unsafe']} with --unsafe-fixes, {c['manual']} to fix by hand)")


_PENDING_WHY = {"display-only": "report only: needs a human decision",
                "unsafe": "unsafe: needs `--unsafe-fixes` or `unsafe-fixes = true`",
                "overlap": "overlaps another fix: applied by a later run"}


def render_markdown(outcomes: list, *, fingerprint_value: str | None = None, unsafe_fixes: bool = False,
                    display=None, applied: bool = True, for_pr: bool = True) -> str:
    """The pull-request body: a table of fixes per file, pending and skipped items with reasons,
    build command changes, how to configure or silence each fix, and the fingerprint comment.
    ``display(outcome) -> str`` names a file (default: its report path).  ``applied``: the fixes
    were written (the bot's branch, ``--write``); otherwise the body says what dockerfix *would*
    change.  ``for_pr``: the body of a pull request opened by ``dockerfix pr`` (its footer)."""
    ts = _transforms()
    name_of = display or (lambda o: o.result.path)
    ok = [o for o in outcomes if o.result.status != "error"]
    n = _n_fixes(ok)
    changed = [o for o in ok if o.result.status == "changed"]
    fixes = f"**{n} {'fix' if n == 1 else 'fixes'}**"
    files = f"{len(changed)} {'file' if len(changed) == 1 else 'files'}"
    if applied:
        opening = (f"dockerfix applied {fixes} to {files} to make the Node.js images production-ready. "
                   "Every change below says what it does, why, and how safe it is; "
                   + ("unsafe fixes were enabled for this run." if unsafe_fixes else "only safe fixes were applied."))
    elif n == 0:
        opening = ("dockerfix would change nothing with these settings (nothing was written). "
                   "The findings below need `--unsafe-fixes` or a human decision.")
    else:
        opening = (f"dockerfix would apply {fixes} to {files} (nothing was written: run it with `--write` "
                   f"{'and `--unsafe-fixes` ' if unsafe_fixes else ''}to apply them). Every change below says "
                   "what it does, why, and how safe it is; "
                   + ("unsafe fixes are included." if unsafe_fixes else "only safe fixes are included."))
    lines = [opening, ""]
    codes_seen: list[str] = []
    build_notes: list[tuple[str, str, str]] = []
    for o in ok:
        r = o.result
        if not (r.applied or r.pending or r.skips):
            continue
        lines += [f"### `{name_of(o)}`", ""]
        if r.applied:
            lines += ["| Code | What | Why | Safety |", "|---|---|---|---|"]
            for f in sorted(r.applied, key=lambda f: (f.line, f.code)):
                t = ts.get(f.code)
                why = why_first_sentence(t) if t else ""
                target = f" (`{f.path}`)" if f.path else f" (line {f.line})"
                # no link: a relative link would point into the repository the PR is opened on
                code = f"{f.code} `{t.name}`" if t else f.code
                lines.append(f"| {code} | {_md_cell(f.message)}{target} | {_md_cell(why)} | "
                             f"{f.applicability.label} |")
                build_notes.extend((name_of(o), f.code, note) for note in f.notes)
                if f.code not in codes_seen:
                    codes_seen.append(f.code)
            lines.append("")
        if r.pending:
            lines += ["**Not applied**" if applied else "**Not included**", ""]
            for f in sorted(r.pending, key=lambda f: (f.line, f.code)):
                lines.append(f"- {f.code} line {f.line}: {f.message} ({_PENDING_WHY[pending_kind(f)]})")
                lines.extend(f"  - {note}" for note in f.notes)
            lines.append("")
        with_fix = {(f.code, f.line) for f in (*r.applied, *r.pending)}
        skips = [s for s in r.skips if (s.code, s.line) not in with_fix]  # shown with their finding
        if skips:
            lines += ["**Skipped** (dockerfix could not prove these safe and changed nothing)", ""]
            for s in sorted(skips, key=lambda s: (s.line, s.code)):
                lines.append(f"- {s.code} line {s.line}: {s.reason}")
            lines.append("")
    if build_notes:
        lines += ["### Build command changes", "",
                  "These fixes need a change where the image is built (CI, scripts, compose files):", ""]
        for path, code, note in build_notes:
            lines.append(f"- `{path}` ({code}): {note}")
        lines.append("")
    lines += ["### Configure or silence a fix", "",
              "- `dockerfix rules CODE` prints what a fix does, why, and how safe it is.",
              "- One instruction: put `# dockerfix: ignore=CODE` on the line above it "
              "(`# dockerfix: ignore-file=CODE` anywhere in the file for the whole file).",
              "- The whole repository: `ignore = [\"CODE\"]` under `[tool.dockerfix]` in `pyproject.toml` "
              "or in `.dockerfix.toml`.",
              "- Closing this pull request without merging it stops dockerfix from proposing exactly these "
              "changes again; it opens a new one when the Dockerfiles change.",
              ""]
    if codes_seen:
        lines += ["| Code | Silence it here | Everywhere |", "|---|---|---|"]
        for c in codes_seen:
            lines.append(f"| {c} | `# dockerfix: ignore={c}` | `ignore = [\"{c}\"]` |")
        lines.append("")
    if for_pr:
        lines += ["<sub>Opened by `dockerfix pr`. Edits pushed to this branch by people are never overwritten; "
                  "dockerfix then stops updating it and says so here.</sub>", ""]
    if fingerprint_value:
        lines.append(f"<!-- {FINGERPRINT_MARK}: {fingerprint_value} -->")
    return "\n".join(lines).rstrip() + "\n"


def body_fingerprint(body: str | None) -> str | None:
    m = re.search(rf"<!--\s*{FINGERPRINT_MARK}:\s*([0-9a-f]{{64}})\s*-->", body or "")
    return m.group(1) if m else None


__all__ = ["render_sarif", "render_github", "render_markdown", "pr_title", "fingerprint", "changes_of",
           "body_fingerprint", "escape_data", "escape_property", "why_first_sentence", "sarif_rules"]


def render_format(name: str, outcomes: list, *, mode: str, unsafe_fixes: bool, show_skips: bool = False) -> str:
    """The stdout text of ``--format sarif|github|markdown``."""
    if name == "sarif":
        return json.dumps(render_sarif(outcomes, mode=mode, unsafe_fixes=unsafe_fixes), indent=2,
                          ensure_ascii=False) + "\n"
    if name == "github":
        return render_github(outcomes, mode=mode, show_skips=show_skips)
    if name == "markdown":
        applied = mode == "write" and any(o.written for o in outcomes)
        fp = fingerprint(changes_of(outcomes))
        return f"# {_report_title(outcomes, applied)}\n\n" + render_markdown(
            outcomes, fingerprint_value=fp, unsafe_fixes=unsafe_fixes, applied=applied, for_pr=False)
    raise ValueError(f"unknown format {name}")
