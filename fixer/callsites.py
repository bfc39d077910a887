"""Rewrite the commands that build a Dockerfile after DFX009 turned a build argument into a secret.

DFX009 takes ``ARG NPM_TOKEN`` out of a Dockerfile and mounts a build secret instead (its fix lists
each :class:`~dockerfix.fixer.edits.SecretMigration`).  The commands that built the image still
pass ``--build-arg NPM_TOKEN=...``, which nothing reads any more, and do not pass the secret that
the Dockerfile now requires.  This module finds those commands and rewrites them in the same run:

* compose files: ``build.args`` entries (list or mapping form) become ``build.secrets: [id]`` plus
  a top-level ``secrets: {id: {environment: NAME}}`` (Compose Specification), or ``file:`` for a
  secret that is a file; YAML is edited with ruamel.yaml's round trip (comments, key order and
  quoting kept) and only when the round trip reproduces the untouched file byte for byte;
* GitHub Actions workflows: ``docker/build-push-action`` ``build-args:`` lines move to
  ``secrets:`` (``id=${{ secrets.X }}``); ``docker build``/``docker buildx build`` in ``run:``
  steps get ``--secret id=…,env=NAME`` instead of ``--build-arg`` (a ``${{ }}`` value moves to the
  step's ``env:``);
* Makefiles, shell scripts (``*.sh``) and ``package.json`` scripts: the same rewrite of the
  command text, nothing else on the line changes.

Reported with the exact change, never edited: documentation code blocks (``README*.md``,
``docs/**/*.md``), GitLab CI and other CI systems, commands whose Dockerfile or value is filled in
at build time, literal token values and anything the rewrite cannot prove right.

Everything here is pure except :func:`plan`, which reads the repository (bounded, never outside
its root) and returns the new texts; the caller writes them.  :func:`attach` is the one hook the
command line calls with a fixed file's result.
"""

from __future__ import annotations

import difflib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterable
from typing import Any, cast

from . import buildcontext as bc
from .edits import Applicability, Fix, SecretMigration
from .secrets import mask_message

CODE = "DFX009"
_MAX_FILE = 1_000_000
_MAX_DOCS = 200
#: CI configurations this module does not rewrite: their build commands are reported.
OTHER_CI = (".gitlab-ci.yml", ".gitlab-ci.yaml", ".circleci/config.yml", "Jenkinsfile", "bitbucket-pipelines.yml",
            "azure-pipelines.yml", ".travis.yml", ".drone.yml", "cloudbuild.yaml", "cloudbuild.yml", "buildspec.yml",
            ".buildkite/pipeline.yml", "Taskfile.yml", "justfile")


@dataclass(frozen=True)
class Migration:
    """One build argument that became a secret, for one Dockerfile."""

    dockerfile: Path  # absolute, resolved
    context: Path | None  # the build context dockerfix used (absolute), for file secrets
    secret: SecretMigration

    @property
    def name(self) -> str | None:
        return self.secret.build_arg

    @property
    def sid(self) -> str:
        return self.secret.secret_id


@dataclass(frozen=True)
class Change:
    """One call site: what it said, what it says now (or should say), and whether it was edited."""

    path: str  # repository-relative, POSIX
    line: int  # 1-based, in the file as read
    kind: str  # compose | workflow-action | workflow-run | makefile | script | package-script | docs | ci
    before: str
    after: str
    applied: bool
    reason: str = ""  # why it is only reported

    def describe(self) -> str:
        where = f"{self.path}:{self.line}"
        if self.applied:
            return f"{where} ({self.kind}): `{self.before}` -> `{self.after}`"
        return f"{where} ({self.kind}): change `{self.before}` to `{self.after}` by hand: {self.reason}"


@dataclass
class FileRewrite:
    """A repository file with call sites: its text as read, its new text, and the changes."""

    path: Path  # absolute, inside the repository root
    rel: str
    old: str
    new: str
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.new != self.old


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


def _yline(node: Any, key: Any) -> int:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return 0


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


# =============================================================================================
# the repository

def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_FILE:
            return None
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _docs(root: Path) -> list[Path]:
    out = [p for p in sorted(root.glob("README*.md")) if p.is_file()]
    d = root / "docs"
    if d.is_dir() and _inside(d.resolve(), root):
        out += sorted(p for p in d.rglob("*.md") if p.is_file())
    return out[:_MAX_DOCS]


def plan(repo_root: Path, migrations: Iterable[Migration]) -> list[FileRewrite]:
    """Every call site of the migrated build args in the repository at ``repo_root``: the files to
    rewrite (new text) and the changes to report.  Reads files (bounded, inside the root, never
    through a symlink that leaves it); writes nothing."""
    root = repo_root.resolve()
    migs = [m for m in migrations]
    if not migs:
        return []
    names = {m.name for m in migs if m.name}
    out: list[FileRewrite] = []

    def add(path: Path, old: str, new: str, changes: list[Change]) -> None:
        if changes or new != old:
            out.append(FileRewrite(path, path.relative_to(root).as_posix(), old, new, changes))

    def text_of(p: Path) -> str | None:
        real = p.resolve()
        if not _inside(real, root):
            return None
        return _read(real)

    def relevant(text: str) -> bool:
        return any(n in text for n in names) or any(m.name is None for m in migs)

    def shell_builds(base: Path) -> Callable[[bc.BuildCommand], Path | None]:
        def f(cmd: bc.BuildCommand) -> Path | None:
            return bc.resolve_command(root, base, cmd)[1]
        return f

    # compose files: services whose build names a migrated Dockerfile
    sites = [s for s in bc.build_sites(root) if s.kind.startswith("compose service ")]
    for f in bc.compose_files(root):
        text = text_of(f)
        if text is None or not relevant(text):
            continue
        rel = f.relative_to(root).as_posix()
        targets: dict[str, list[Migration]] = {}
        for s in sites:
            if s.source != rel:
                continue
            svc = s.kind[len("compose service "):]
            for m in migs:
                if s.dockerfile == m.dockerfile or (s.dockerfile is None and m.name):
                    targets.setdefault(svc, []).append(m)
        unknown = frozenset(s.kind[len("compose service "):] for s in sites if s.source == rel and s.dockerfile is None)
        if targets:
            new, changes = rewrite_compose(text, targets, rel=rel, compose_dir=f.parent, unknown=unknown)
            add(f, text, new, changes)

    # GitHub Actions workflows
    def action_builds(w: dict) -> Path | None:
        return bc._action_site(root, "", {"with": w}).dockerfile

    def run_builds(wd: str | None) -> Callable[[bc.BuildCommand], Path | None]:
        base = bc._safe(root, root, wd) if wd else root
        return shell_builds(base or root)

    for f in bc.workflow_files(root):
        text = text_of(f)
        if text is None or not relevant(text):
            continue
        rel = f.relative_to(root).as_posix()
        new, changes = rewrite_workflow(text, migs, rel=rel, action_builds=action_builds, run_builds=run_builds)
        add(f, text, new, changes)

    # Makefiles, shell scripts, package.json scripts (commands run from the repository root)
    for name in ("Makefile", "makefile", "GNUmakefile"):
        f = root / name
        text = text_of(f) if f.is_file() else None
        if text is None or not relevant(text):
            continue
        sr = rewrite_shell(bc.make_recipe_text(text), migs, rel=name, kind="makefile", builds=shell_builds(root),
                           make=True, apply_to=text)
        add(f, text, sr.text, sr.changes)
    for f in bc.script_files(root):
        text = text_of(f)
        if text is None or not relevant(text):
            continue
        rel = f.relative_to(root).as_posix()
        sr = rewrite_shell(text, migs, rel=rel, kind="script", builds=shell_builds(root))
        add(f, text, sr.text, sr.changes)
    pj = root / "package.json"
    text = text_of(pj) if pj.is_file() else None
    if text is not None and relevant(text):
        new, changes = rewrite_package_json(text, migs, rel="package.json", builds=shell_builds(root))
        add(pj, text, new, changes)

    # reported only: documentation, GitLab CI and other CI systems
    if names:
        for f in _docs(root):
            text = text_of(f)
            if text is not None and any(n in text for n in names):
                add(f, text, text, report_markdown(text, migs, rel=f.relative_to(root).as_posix()))
        for name in OTHER_CI:
            f = root / name
            text = text_of(f) if f.is_file() else None
            if text is not None and any(n in text for n in names):
                add(f, text, text, report_other_ci(text, migs, rel=name))
    return out


# =============================================================================================
# the hook

def migrations_of(fixes: Iterable[Fix], dockerfile: Path, context: Path | None) -> list[Migration]:
    """The secrets the applied fixes of one Dockerfile introduced."""
    df = dockerfile.resolve()
    ctx = context.resolve() if context is not None else None
    return [Migration(df, ctx, s) for f in fixes for s in f.secrets]


def attach(result: Any, dockerfile: Path | None, context: Path | None, limit: Path | None = None) -> None:
    """The command line's hook: add the call-site rewrites of the secrets that ``result``'s applied
    fixes introduced to ``result.extra_files`` (path relative to the build context -> (old, new),
    the way the CLI already writes DFX011's ``.dockerignore``) and list every change
    in the report (applied ones as fixes of the file, the others as display-only fixes)."""
    if dockerfile is None or getattr(result, "status", "") == "error":
        return
    migs = migrations_of(result.applied, dockerfile, context)
    if not migs:
        return
    root = bc.repository_root(dockerfile.parent, limit)
    # extra_files names files relative to the build context, as DFX011's .dockerignore is named
    base = (context or dockerfile.parent).resolve()
    line = next((f.line for f in result.applied if f.secrets), 0)
    for fr in plan(root, migs):
        if not _inside(fr.path.resolve(), root):  # pragma: no cover - plan() never returns one
            continue
        done = [c for c in fr.changes if c.applied]
        if fr.changed and done:
            key = os.path.relpath(fr.path, base).replace(os.sep, "/")
            result.extra_files[key] = (fr.old, fr.new)
            ids = ", ".join(dict.fromkeys(m.sid for m in migs))
            result.applied.append(Fix(CODE, f"call site {fr.rel}: pass the build secret {ids}", line, (),
                                      Applicability.UNSAFE,
                                      notes=tuple(mask_message(c.describe()) for c in done), path=key))
        for c in fr.changes:
            if not c.applied:
                result.pending.append(Fix(CODE, f"call site {c.path}:{c.line} does not pass the build secret: "
                                          f"change it by hand", line, (), Applicability.DISPLAY_ONLY,
                                          notes=(mask_message(c.describe()),)))
