"""Stages: the FROM chain, which stages build on a stage, ARG expansion in a stage, the user in
force at its end, and what its COPY/ADD instructions bring from the build context."""

from __future__ import annotations

import fnmatch
import re

from dockerfix.fixer.document import Document, Instruction, Stage, Word

_VAR_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_ROOT_USERS = {"root", "0"}


def expand_args(doc: Document, text: str, stage: Stage | None = None) -> str | None:
    """``text`` with ``$NAME`` / ``${NAME}`` / ``${NAME:-default}`` replaced by the default values
    of global ARGs (and, for a stage, ARGs declared in it before use); None when one cannot be
    resolved without build arguments (an ARG with no default, or an unknown name)."""
    values: dict[str, str | None] = dict(doc.global_args)
    if stage is not None:
        for ins in stage.instructions:
            if ins.keyword == "ARG":
                for a in ins.assignments:
                    if a.value is not None or a.name not in values:
                        values[a.name] = a.value if a.value is not None else values.get(a.name)
    failed = False

    def sub(m: re.Match) -> str:
        nonlocal failed
        name = m.group(1) or m.group(3)
        val = values.get(name)
        if val is None:
            if m.group(2) is not None:
                return m.group(2)
            failed = True
            return ""
        return val

    out = _VAR_RE.sub(sub, text)
    return None if failed or "$" in out else out


def is_root_user(value: str) -> bool:
    """Does a ``USER`` value (``name[:group]`` or ``uid[:gid]``) select root?"""
    return value.split(":", 1)[0].strip() in _ROOT_USERS


def effective_user(doc: Document, stage: Stage) -> Instruction | None:
    """The last ``USER`` instruction in force at the end of ``stage`` (following FROM-stage
    names), or None when the stage runs as the base image's user."""
    for st in doc.stage_chain(stage):
        users = [i for i in st.instructions if i.keyword == "USER"]
        if users:
            return users[-1]
    return None



def stage_by_name(doc: Document, name: str) -> Stage | None:
    name = name.lower()
    for s in doc.stages:
        if s.name == name:
            return s
    if name.isdigit() and int(name) < len(doc.stages):
        return doc.stages[int(name)]
    return None


def stage_consumers(doc: Document, stage: Stage) -> list[Stage]:
    """Stages that build on ``stage``: ``FROM stage`` or ``COPY/ADD --from=stage``, transitively."""
    found: list[Stage] = []
    todo = [stage]
    while todo:
        cur = todo.pop()
        keys = {str(cur.index)} | ({cur.name} if cur.name else set())
        for s in doc.stages:
            if s.index <= cur.index or s in found:
                continue
            uses = s.base.lower() in keys or any(
                i.keyword in ("COPY", "ADD") and i.flag("from") is not None
                and (i.flag("from").value or "").lower() in keys for i in s.instructions)
            if uses:
                found.append(s)
                todo.append(s)
    return sorted(found, key=lambda s: s.index)


def copy_sources(ins: Instruction) -> list[Word] | None:
    """The source words of a shell-form COPY/ADD (None for JSON form or heredocs)."""
    if ins.keyword not in ("COPY", "ADD") or ins.is_json or ins.heredocs or len(ins.words) < 2:
        return None
    return list(ins.words[:-1])


def copies_root_file(ins: Instruction, name: str) -> bool:
    """Does a COPY/ADD (from the build context) bring the context's top-level file ``name``?"""
    srcs = copy_sources(ins)
    if srcs is None:
        return False
    for w in srcs:
        v = w.value
        while v.startswith("./"):
            v = v[2:]
        v = v.lstrip("/")
        if v in ("", ".") or v == name or ("/" not in v.rstrip("/") and fnmatch.fnmatchcase(name, v.rstrip("/"))):
            return True
    return False
