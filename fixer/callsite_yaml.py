"""Call-site rewrites in YAML: compose files and GitHub Actions workflows (ruamel.yaml round trip).

:func:`rewrite_compose` moves a migrated build argument of a compose service to ``build.secrets``
and a top-level ``secrets:`` entry; :func:`rewrite_workflow` moves ``docker/build-push-action``
``build-args:`` lines to ``secrets:`` and rewrites the builds in ``run:`` steps (through
:func:`~callsite_shell.rewrite_shell`).  A file is edited only when ruamel's round trip reproduces
it byte for byte; otherwise its call sites are reported.  All pure: text in, text and changes out.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from collections.abc import Callable
from typing import Any, cast

from . import buildcontext as bc
from .callsite_shell import rewrite_shell
from .callsite_types import Change, Migration


# =============================================================================================
# YAML (ruamel round trip)

def _yaml_rt(text: str):
    """(yaml, data) when ruamel's round trip reproduces ``text`` exactly with one of the usual
    indentation styles; else (None, reason)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    try:
        _data, seq_ind, bsi = load_yaml_guess_indent(text)
    except (YAMLError, ValueError, TypeError) as e:
        return None, f"the YAML does not load ({type(e).__name__})"
    styles = [(2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 4, 0), (2, 3, 1), (4, 6, 4)]
    if seq_ind is not None and re.search(r"^\s*- ", text, re.M):  # the file's own sequence style first
        styles.insert(0, (2, seq_ind, bsi or 0))
        styles.insert(1, (seq_ind, seq_ind, bsi or 0))
    for mapping, sequence, offset in dict.fromkeys(styles):
        y = YAML(typ="rt", pure=True)
        y.preserve_quotes = True
        y.width = 4096
        y.indent(mapping=mapping, sequence=sequence, offset=offset)
        try:
            data = y.load(text)
            if _dump(y, data) == text:
                return y, data
        except (YAMLError, ValueError, TypeError) as e:
            return None, f"the YAML does not load ({type(e).__name__})"
    return None, "ruamel.yaml's round trip would reformat the file"


def _dump(y, data) -> str:
    buf = io.StringIO()
    y.dump(data, buf)
    return buf.getvalue()


_yline = bc._line_of  # 1-based line of a key in a ruamel mapping (0 when unknown)


def _yitem_line(seq: Any, idx: int) -> int:
    try:
        return int(seq.lc.item(idx)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return 0


def _compose_env(value: Any, name: str) -> tuple[str | None, str]:
    """Environment variable a compose build-arg value reads (None + reason when none)."""
    if value is None:
        return name, ""
    if not isinstance(value, str):
        return None, "the value is written out literally"
    m = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?\?[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)", value.strip())
    if m:
        return m.group(1) or m.group(3), ""
    if "$" in value:
        return None, "the value is interpolated with a default or other text (compose's `environment:` takes one variable)"
    return None, "the value is written out literally: move the token to an environment variable first"


def rewrite_compose(text: str, targets: dict[str, list[Migration]], *, rel: str,
                    compose_dir: Path | None = None, unknown: frozenset[str] = frozenset()) -> tuple[str, list[Change]]:
    """Move the migrated build args of the services in ``targets`` (service name -> migrations)
    to ``build.secrets`` and a top-level ``secrets:`` entry.  Services in ``unknown`` build a
    Dockerfile filled in at build time: their changes are reported."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    y, data = _yaml_rt(text)
    why_not = ""
    if y is None:  # still find the call sites, to report them
        why_not, data = str(data), bc._yaml(text)
    changes: list[Change] = []
    planned: list[tuple[Any, Any, int, str, Any, str, dict]] = []  # (build, args, line, before, key, sid, secret)
    services = data.get("services") if isinstance(data, dict) else None
    for svc_name, migs in targets.items():
        svc = services.get(svc_name) if isinstance(services, dict) else None
        build = svc.get("build") if isinstance(svc, dict) else None
        for m in migs:
            if m.name is None:
                if not isinstance(build, dict) and not isinstance(build, str):
                    continue
                if m.secret.source != "file" or not m.secret.file or m.context is None or compose_dir is None:
                    continue
                src = os.path.relpath(m.context / m.secret.file, compose_dir).replace(os.sep, "/")
                src = src if src.startswith(("./", "../")) else "./" + src
                line = _yline(svc, "build")
                if isinstance(build, str):
                    changes.append(Change(rel, line, "compose", f"build: {build}", f"build: {{context: {build}, "
                                          f"secrets: [{m.sid}]}} + secrets: {{{m.sid}: {{file: {src}}}}}", False,
                                          "the short `build:` form cannot hold secrets: use the long form"))
                    continue
                planned.append((build, None, line, f"services.{svc_name}.build", None, m.sid, {"file": src}))
                continue
            args = build.get("args") if isinstance(build, dict) else None
            if args is None:
                continue
            key: Any = None
            value: Any = None
            line = 0
            if isinstance(args, dict) and m.name in args:
                key, value, line = m.name, args[m.name], _yline(args, m.name)
                shown = value if isinstance(value, str) and "$" in value else "***"  # never a literal token
                before = f"{m.name}: {shown}" if value is not None else f"{m.name}:"
            elif isinstance(args, list):
                for i, item in enumerate(args):
                    if isinstance(item, str) and item.split("=", 1)[0] == m.name:
                        key, line = item, _yitem_line(args, i)
                        value = item.split("=", 1)[1] if "=" in item else None
                        before = f"- {item}" if value is None or "$" in value else f"- {m.name}=***"
                        break
            if key is None:
                continue
            if m.secret.source != "value":
                changes.append(Change(rel, line, "compose", before, f"build.secrets: [{m.sid}] with a top-level "
                                      f"secrets: {{{m.sid}: {{file: <an .npmrc holding: "
                                      f"{' / '.join(m.secret.content.splitlines())}>}}}}", False,
                                      "the secret is a whole .npmrc file now"))
                continue
            env, why = _compose_env(value, m.name)
            if svc_name in unknown:
                why = "which Dockerfile the service builds is filled in at build time; make the change if it " \
                      "builds the fixed Dockerfile"
            after = f"build.secrets: [{m.sid}] + secrets: {{{m.sid}: {{environment: {env or m.name}}}}}"
            if y is None or env is None or svc_name in unknown:
                changes.append(Change(rel, line, "compose", before, after, False, why or why_not))
                continue
            planned.append((build, args, line, before, key, m.sid, {"environment": env}))
    if not planned or y is None:
        if y is None and planned:
            changes.extend(Change(rel, p[2], "compose", p[3], f"build.secrets: [{p[5]}]", False, why_not)
                           for p in planned)
        return text, changes
    top = data.get("secrets")
    for build, args, line, before, key, sid, source in planned:
        if isinstance(top, dict) and sid in top and dict(top[sid] or {}) != source:
            changes.append(Change(rel, line, "compose", before, f"build.secrets: [{sid}]", False,
                                  f"the file already declares a different top-level secret `{sid}`"))
            continue
        if isinstance(build, str):  # `build: DIR` becomes the long form to hold secrets
            continue
        if args is not None:
            pos = list(build.keys()).index("args")
            if isinstance(args, dict):
                del args[key]
            else:
                del args[args.index(key)]
            if not args:
                del build["args"]
            else:
                pos += 1  # after the args that stay
        else:
            pos = len(build)
        secrets = build.get("secrets")
        if secrets is None:
            seq = CommentedSeq([sid])
            build.insert(min(pos, len(build)), "secrets", seq)
        elif isinstance(secrets, list):
            if sid not in [s if isinstance(s, str) else (s or {}).get("source") for s in secrets]:
                secrets.append(sid)
        else:
            changes.append(Change(rel, line, "compose", before, f"build.secrets: [{sid}]", False,
                                  "build.secrets has a form this rewrite does not extend"))
            continue
        if top is None:
            top = CommentedMap()
            data["secrets"] = top
        if sid not in top:
            top[sid] = CommentedMap(source)
        src = ", ".join(f"{k}: {v}" for k, v in source.items())
        changes.append(Change(rel, line, "compose", before, f"build.secrets: [{sid}] + secrets: {{{sid}: {{{src}}}}}",
                              True))
    new = _dump(y, data)
    return new, changes


_WF_LINE = re.compile(r'^(\s*)(["\']?)([A-Za-z_][A-Za-z0-9_]*)=(.*?)\2\s*$')


def rewrite_workflow(text: str, migrations: list[Migration], *, rel: str,
                     action_builds: Callable[[dict], Path | None],
                     run_builds: Callable[[str | None], Callable[[bc.BuildCommand], Path | None]]) -> tuple[str, list[Change]]:
    """Rewrite the build steps of a GitHub Actions workflow.  ``action_builds(with)`` gives the
    Dockerfile a ``docker/build-push-action`` step builds; ``run_builds(working_directory)`` the
    resolver for a ``run:`` step's commands."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import LiteralScalarString

    y, data = _yaml_rt(text)
    changes: list[Change] = []
    if y is None:
        for m in migrations:
            if m.name and m.name in text:
                for i, line in enumerate(text.splitlines(), 1):
                    if m.name in line and ("build-arg" in line or re.match(rf"\s*[\"']?{m.name}=", line)):
                        changes.append(Change(rel, i, "workflow", line.strip(), f"the secret {m.sid} (see the fix's "
                                              "notes)", False, data))
        return text, changes
    jobs = data.get("jobs") if isinstance(data, dict) else None
    dirty = False
    for job in (jobs.values() if isinstance(jobs, dict) else []):
        steps = job.get("steps") if isinstance(job, dict) else None
        job_wd = bc._working_directory(job.get("defaults")) if isinstance(job, dict) else None
        for step in steps if isinstance(steps, list) else []:
            if not isinstance(step, dict):
                continue
            uses = step.get("uses")
            if isinstance(uses, str) and uses.split("@")[0] == "docker/build-push-action":
                w = step.get("with")
                if isinstance(w, dict) and isinstance(w.get("build-args"), str):
                    dirty |= _rewrite_action(w, step, migrations, rel, action_builds(w), changes, LiteralScalarString)
                files = [m for m in migrations if m.name is None]
                target = action_builds(w if isinstance(w, dict) else {})
                for m in files:
                    have = str((w or {}).get("secret-files", "")) + str((w or {}).get("secrets", ""))
                    if target == m.dockerfile and f"{m.sid}=" not in have:
                        changes.append(Change(rel, _yline(step, "uses"), "workflow-action", "with:",
                                              f"secret-files: {m.sid}=<path of an .npmrc written by an earlier step>",
                                              False, "the secret is the project's .npmrc file, which CI does not "
                                              "check out: write it from a repository secret first (see the fix's "
                                              "notes)"))
            run = step.get("run")
            if isinstance(run, str) and any(m.name is None for m in migrations):
                wd = step.get("working-directory") or job_wd
                sr = rewrite_shell(str(run), [m for m in migrations if m.name is None], rel=rel, kind="workflow-run",
                                   builds=run_builds(wd if isinstance(wd, str) else None), workflow=True,
                                   line_base=_yline(step, "run") - (0 if "\n" in str(run) else 1),
                                   report_only="the secret is the project's .npmrc file, which CI does not check "
                                               "out: write it from a repository secret first (see the fix's notes)")
                changes.extend(sr.changes)
            if isinstance(run, str) and any(m.name and m.name in run for m in migrations):
                wd = step.get("working-directory") or job_wd
                base = _yline(step, "run")
                block = type(run).__name__ != "str" or "\n" in run
                sr = rewrite_shell(str(run), migrations, rel=rel, kind="workflow-run",
                                   builds=run_builds(wd if isinstance(wd, str) else None), workflow=True,
                                   line_base=base if block else base - 1)
                env = step.get("env")
                clash = [k for k, v in sr.env.items() if isinstance(env, dict) and k in env and str(env[k]) != v]
                if clash:
                    sr = rewrite_shell(str(run), migrations, rel=rel, kind="workflow-run",
                                       builds=run_builds(wd if isinstance(wd, str) else None), workflow=True,
                                       report_only=f"the step's env already sets {', '.join(clash)} to another value",
                                       line_base=base if block else base - 1)
                changes.extend(sr.changes)
                if sr.text != str(run):
                    step["run"] = type(run)(sr.text) if type(run) is not str else sr.text
                    if sr.env:
                        if not isinstance(env, dict):
                            env = CommentedMap()
                            keys = list(step.keys())
                            cast(Any, step).insert(keys.index("run"), "env", env)  # a ruamel CommentedMap
                        for k, v in sr.env.items():
                            env.setdefault(k, v)
                    dirty = True
    return (_dump(y, data) if dirty else text), changes


def _rewrite_action(w: Any, step: Any, migrations: list[Migration], rel: str, target: Path | None,
                    changes: list[Change], literal) -> bool:
    raw = w["build-args"]
    lines = str(raw).split("\n")
    base = _yline(w, "build-args") + (1 if "\n" in str(raw) else 0)
    moved: list[str] = []
    keep: list[str] = []
    for i, line in enumerate(lines):
        m_line = _WF_LINE.match(line)
        mig = next((m for m in migrations if m_line and m.name == m_line.group(3)), None)
        if mig is None or m_line is None:
            keep.append(line)
            continue
        q, value = m_line.group(2), m_line.group(4)
        after = f"{q}{mig.sid}={value}{q}"
        where = base + i if "\n" in str(raw) else base
        if mig.secret.source != "value" or (target is not None and target != mig.dockerfile):
            if mig.secret.source != "value":
                changes.append(Change(rel, where, "workflow-action", line.strip(), "secret-files: "
                                      f"{mig.sid}=<an .npmrc holding: {' / '.join(mig.secret.content.splitlines())}>",
                                      False, "the secret is a whole .npmrc file now"))
            keep.append(line)
            continue
        if target is None:
            changes.append(Change(rel, where, "workflow-action", line.strip(), f"secrets: {after}", False,
                                  "which Dockerfile the step builds is filled in at build time"))
            keep.append(line)
            continue
        moved.append(after)
        changes.append(Change(rel, where, "workflow-action", f"build-args: {line.strip()}", f"secrets: {after}", True))
    if not moved:
        return False
    block = "\n" in str(raw)
    keys = list(w.keys())
    pos = keys.index("build-args")
    rest = "\n".join(keep)
    if rest.strip():
        w["build-args"] = literal(rest) if isinstance(raw, literal) else rest
    else:
        del w["build-args"]
    existing = w.get("secrets")
    if isinstance(existing, str) and existing.strip():
        joined = existing.rstrip("\n") + "\n" + "\n".join(moved) + "\n"
        w["secrets"] = literal(joined)
    else:
        value = "\n".join(moved) + "\n" if block or len(moved) > 1 else moved[0]
        value = literal(value) if "\n" in value else value
        if "secrets" in w:
            w["secrets"] = value
        else:
            w.insert(min(pos + (1 if "build-args" in w else 0), len(w)), "secrets", value)
    return True
