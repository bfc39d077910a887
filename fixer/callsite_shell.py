"""Call-site rewrites in shell text: Makefiles, shell scripts, ``package.json`` scripts, workflow ``run:``.

:func:`rewrite_shell` scans shell text (a Makefile's recipes too) into simple commands with their
spans, finds the image builds that pass a migrated ``--build-arg`` and replaces it with
``--secret id=...,env=NAME`` (or ``src=FILE``), leaving every other byte of the line as it was.
:func:`rewrite_package_json` does the same inside the ``scripts`` strings of ``package.json``,
keeping the file's own escapes.  :func:`report_markdown` and :func:`report_other_ci` use the same
scanner to report (never edit) the builds in documentation code blocks and in CI systems that are
not rewritten (GitLab CI and others).  All pure: text in, text and changes out.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from . import buildcontext as bc
from .callsite_types import Change, Migration


# =============================================================================================
# shell text: words with their places

@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    value: str  # quotes removed; $(...) and ${...} kept as written


def _commands(text: str) -> list[list[_Word]]:
    """Simple commands of shell ``text`` (also a Makefile recipe), each a list of words with their
    spans in ``text``.  Continuations join lines; ``#`` comments, newlines and ``; && || | &`` end a
    command.  Not a full shell parser: words it cannot take apart end the command early."""
    out: list[list[_Word]] = []
    cur: list[_Word] = []
    i, n = 0, len(text)

    def flush() -> None:
        nonlocal cur
        if cur:
            out.append(cur)
        cur = []

    while i < n:
        ch = text[i]
        if ch == "\\" and text.startswith("\n", i + 1):
            i += 2
            continue
        if ch == "\\" and text.startswith("\r\n", i + 1):
            i += 3
            continue
        if ch in " \t\r":
            i += 1
            continue
        if ch == "\n":
            flush()
            i += 1
            continue
        if ch == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if ch in ";&|":
            flush()
            i += 2 if text.startswith(("&&", "||"), i) else 1
            continue
        start = i
        val: list[str] = []
        while i < n and text[i] not in " \t\r\n;&|":
            c = text[i]
            if c == "\\" and i + 1 < n:
                if text[i + 1] == "\n":
                    break
                val.append(text[i + 1])
                i += 2
            elif c == "'":
                j = text.find("'", i + 1)
                j = n if j < 0 else j
                val.append(text[i + 1:j])
                i = j + 1
            elif c == '"':
                j = i + 1
                while j < n and text[j] != '"':
                    j += 2 if text[j] == "\\" else 1
                val.append(text[i + 1:j].replace('\\"', '"'))
                i = j + 1
            elif c == "$" and i + 1 < n and text[i + 1] in "({":
                close = ")" if text[i + 1] == "(" else "}"
                depth, j = 0, i + 1
                while j < n:
                    if text[j] == text[i + 1]:
                        depth += 1
                    elif text[j] == close:
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                val.append(text[i:j + 1])
                i = j + 1
            else:
                val.append(c)
                i += 1
        cur.append(_Word(start, min(i, n), "".join(val)))
    flush()
    return out


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


_SHELL_VAR = re.compile(r"^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(:?\?[^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))$")
_MAKE_VAR = re.compile(r"^\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]$")
_MAKE_SHELL_VAR = re.compile(r"^\$\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$")
_CAT_FILE = re.compile(r"^\$\(\s*cat\s+([A-Za-z0-9_./~-]+)\s*\)$")
_GH_EXPR = re.compile(r"^\$\{\{[^}]*\}\}$")


@dataclass
class ShellRewrite:
    text: str
    changes: list[Change] = field(default_factory=list)
    #: step env entries a workflow ``run:`` needs for the new ``--secret ...,env=NAME`` (NAME -> value)
    env: dict[str, str] = field(default_factory=dict)


def _make_assigns(text: str, name: str) -> bool:
    """Does a Makefile give ``name`` a value of its own (not exported to the recipes' environment)?"""
    pat = re.compile(r"^\s*(?:override\s+)?" + re.escape(name) + r"\s*(?::{1,3}=|\?=|\+=|!=|=)", re.M)
    exported = re.search(r"^\s*export\s+(?:" + re.escape(name) + r"\b)", text, re.M)
    return bool(pat.search(text)) and not exported


def rewrite_shell(text: str, migrations: list[Migration], *, rel: str, kind: str,
                  builds: Callable[[bc.BuildCommand], Path | None | bool],
                  make: bool = False, workflow: bool = False, report_only: str = "",
                  line_base: int = 0, apply_to: str | None = None) -> ShellRewrite:
    """Rewrite the image builds in shell ``text`` that pass a migrated build argument.

    ``builds(command)`` says which Dockerfile a build command builds (a resolved path, or None
    when it cannot be known); only builds of a migrated Dockerfile are edited, unknown ones are
    reported.  ``report_only`` (a reason) reports every change instead of making it.  Lines in the
    changes are ``line_base`` + the line in ``text``.  ``apply_to``: the text the edits are made
    in, when ``text`` is a position-aligned view of it (a Makefile's recipes)."""
    out = ShellRewrite(text if apply_to is None else apply_to)
    edits: list[tuple[int, int, str]] = []
    for words in _commands(text):
        values = [w.value for w in words]
        if make and values:
            values[0] = values[0].lstrip("@-+")
        while values and values[0] == "-" and not make:  # a YAML list item scanned as text
            values, words = values[1:], words[1:]
        cmd = bc.parse_build_command(values)
        if cmd is None:
            continue
        target = builds(cmd)
        mine = [m for m in migrations if target is None or target is True or m.dockerfile == target]
        if not mine:
            continue
        for m in mine:
            for change, edit, env in _shell_change(text, words, values, m, rel=rel, kind=kind, make=make,
                                                   workflow=workflow, known=target not in (None, True),
                                                   report_only=report_only, line_base=line_base):
                out.changes.append(change)
                if edit is not None and change.applied:
                    edits.append(edit)
                    out.env.update(env)
    for start, end, new in sorted(edits, reverse=True):
        out.text = out.text[:start] + new + out.text[end:]
    return out


def _shell_change(text: str, words: list[_Word], values: list[str], m: Migration, *, rel: str, kind: str,
                  make: bool, workflow: bool, known: bool, report_only: str, line_base: int):
    """(Change, edit, env) for each place in one build command that passes ``m``'s build-arg (or,
    for a copied-file secret, the one place to add ``--secret``)."""
    if m.name is None:  # a secret file from the build context: add --secret to the command
        if not known:
            return
        if any(v.startswith("--secret") and f"id={m.sid}" in (values[k + 1] if v == "--secret" and k + 1 < len(values)
                                                              else v) for k, v in enumerate(values)):
            return
        cmd = bc.parse_build_command(values)
        ctx_word = cmd.context if cmd else None
        src = m.secret.file or ".npmrc"
        where = src if ctx_word in (None, ".", "./") else f"{ctx_word.rstrip('/')}/{src}"
        if ctx_word is None or not re.fullmatch(r"[A-Za-z0-9_./-]+", where):
            return
        k = next(i for i, v in enumerate(values) if v == "build" or v == "bud") + 1
        anchor = words[k - 1].end
        new = f" --secret id={m.sid},src={where}"
        before = text[words[0].start:words[-1].end]
        after = text[words[0].start:anchor] + new + text[anchor:words[-1].end]
        reason = report_only or ("" if known else "which Dockerfile this command builds is filled in at build time")
        yield (Change(rel, line_base + _line_of(text, words[0].start), kind, _one_line(before), _one_line(after),
                      not reason, reason), (anchor, anchor, new), {})
        return
    k = 0
    while k < len(words):
        v = values[k]
        if v == "--build-arg" and k + 1 < len(words):
            arg, span = values[k + 1], (words[k].start, words[k + 1].end)
            k += 2
        elif v.startswith("--build-arg="):
            arg, span = v[len("--build-arg="):], (words[k].start, words[k].end)
            k += 1
        else:
            k += 1
            continue
        name, eq, value = arg.partition("=")
        if name != m.name:
            continue
        before = text[span[0]:span[1]]
        line = line_base + _line_of(text, span[0])
        env_name, src, env, why = _source_of(name, value if eq else None, text, make=make, workflow=workflow)
        if m.secret.source != "value":
            after = f"--secret id={m.sid},src=<a file holding: {' / '.join(m.secret.content.splitlines())}>"
            yield (Change(rel, line, kind, _one_line(before), after, False,
                          "the secret is a whole .npmrc file now: create it from the token and pass its path"),
                   None, {})
            continue
        after = f"--secret id={m.sid},env={env_name}" if env_name else f"--secret id={m.sid},src={src}"
        reason = report_only or why or ("" if known else "which Dockerfile this command builds is filled in at "
                                        "build time; make the change if it builds the fixed Dockerfile")
        if not env_name and not src:
            after = f"--secret id={m.sid},env={name}"
        yield (Change(rel, line, kind, _one_line(before), after, not reason, reason),
               (span[0], span[1], after), env)


def _source_of(name: str, value: str | None, text: str, *, make: bool, workflow: bool):
    """(env name, src file, step env to add, reason it cannot be rewritten) of a build-arg value."""
    if value is None:
        return name, None, {}, ""  # docker takes the value from the environment variable NAME
    if workflow and _GH_EXPR.match(value):
        return name, None, {name: value}, ""
    if make:
        mv = _MAKE_VAR.match(value)
        if mv:
            var = mv.group(1)
            if _make_assigns(text, var):
                return None, None, {}, (f"the Makefile sets {var} itself (not from the environment); export it "
                                        "or pass the secret another way")
            return var, None, {}, ""
        ms = _MAKE_SHELL_VAR.match(value)
        if ms:
            return ms.group(1) or ms.group(2), None, {}, ""
        return None, None, {}, "the value is not a variable the build's environment holds"
    mv = _SHELL_VAR.match(value)
    if mv:
        return mv.group(1) or mv.group(3), None, {}, ""
    mc = _CAT_FILE.match(value)
    if mc and not workflow:
        return None, mc.group(1), {}, ""
    if "$" in value or "{{" in value:
        return None, None, {}, "the value is filled in by a template or an expression this rewrite does not follow"
    return None, None, {}, "the value is written out literally: move the token to an environment variable first"


def _one_line(s: str) -> str:
    return " ".join(s.replace("\\\n", " ").split())


# =============================================================================================
# package.json scripts: edit inside the JSON string, keep every other byte

_JSON_STR = re.compile(r'"((?:[^"\\]|\\.)*)"')


def rewrite_package_json(text: str, migrations: list[Migration], *, rel: str,
                         builds: Callable[[bc.BuildCommand], Path | None]) -> tuple[str, list[Change]]:
    try:
        data = json.loads(text)
    except ValueError:
        return text, []
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return text, []
    m_scripts = re.search(r'"scripts"\s*:\s*\{', text)
    if not m_scripts:
        return text, []
    changes: list[Change] = []
    edits: list[tuple[int, int, str]] = []
    pos = m_scripts.end()
    for name, body in scripts.items():
        if not isinstance(body, str):
            continue
        km = re.compile(r'"' + re.escape(json.dumps(name)[1:-1]) + r'"\s*:\s*').search(text, pos)
        if not km:
            continue
        vm = _JSON_STR.match(text, km.end())
        if not vm:
            continue
        pos = vm.end()
        if not any(mg.name and mg.name in body for mg in migrations) and not any(mg.name is None for mg in migrations):
            continue
        sr = rewrite_shell(body, migrations, rel=rel, kind="package-script", builds=builds,
                           line_base=_line_of(text, km.start()) - 1)
        for c in sr.changes:
            changes.append(c)
        if sr.text != body:
            enc = json.dumps(sr.text, ensure_ascii=False)[1:-1]
            raw = vm.group(1)
            if json.loads('"' + raw + '"') == body and "\\" not in raw:
                edits.append((vm.start(1), vm.end(1), enc))
            else:  # escapes in the original string: re-encode only the changed middle part
                edits.append((vm.start(1), vm.end(1), _reencode_min(raw, body, sr.text)))
    out = text
    for s, e, new in sorted(edits, reverse=True):
        out = out[:s] + new + out[e:]
    return out, changes


def _reencode_min(raw: str, old: str, new: str) -> str:
    """The JSON string content for ``new`` that keeps ``raw``'s escapes outside the changed part."""
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)
    # map decoded positions of ``old`` to raw positions
    pos_map = []
    i = 0
    while i < len(raw):
        pos_map.append(i)
        if raw[i] == "\\":
            i += 6 if raw[i + 1] == "u" else 2
        else:
            i += 1
    pos_map.append(len(raw))
    out = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            out.append(raw[pos_map[i1]:pos_map[i2]])
        else:
            out.append(json.dumps(new[j1:j2], ensure_ascii=False)[1:-1])
    return "".join(out)


# =============================================================================================
# documentation and other CI: reported only

_FENCE = re.compile(r"^(\s*)(```+|~~~+)(.*)$")


def report_markdown(text: str, migrations: list[Migration], *, rel: str) -> list[Change]:
    """Build commands in fenced code blocks of a Markdown file, as changes to make by hand."""
    changes: list[Change] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m.group(2)
        j = i + 1
        while j < len(lines) and not lines[j].lstrip().startswith(fence):
            j += 1
        block = "\n".join(lines[i + 1:j])
        if any(mg.name and mg.name in block for mg in migrations):
            block = "\n".join(re.sub(r"^\s*\$\s", "  ", ln) for ln in lines[i + 1:j])  # console prompts
            sr = rewrite_shell(block, [mg for mg in migrations if mg.name], rel=rel, kind="docs",
                               builds=lambda _c: True, line_base=i + 1,
                               report_only="documentation is not edited: update the example")
            changes.extend(sr.changes)
        i = j + 1
    return changes


def report_other_ci(text: str, migrations: list[Migration], *, rel: str) -> list[Change]:
    """Build commands in CI configurations this module does not rewrite (GitLab CI, others)."""
    what = "GitLab CI is not rewritten" if "gitlab" in rel else "this CI system is not rewritten"
    sr = rewrite_shell(text, [m for m in migrations if m.name], rel=rel, kind="ci", builds=lambda _c: True,
                       report_only=f"{what}: make the change in the job's script (the variable must reach the "
                                   "docker command's environment)")
    found = {c.line for c in sr.changes}
    for i, line in enumerate(text.split("\n"), 1):  # anything the scanner could not take apart
        for m in migrations:
            if m.name and i not in found and "build-arg" in line and m.name in line:
                changes = Change(rel, i, "ci", line.strip(), f"--secret id={m.sid},env={m.name}", False, what)
                sr.changes.append(changes)
    return sr.changes
