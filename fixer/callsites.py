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

Module map: this module holds the entry points (:func:`plan`, :func:`attach`,
:func:`migrations_of`) and the repository walk; the shared types are in :mod:`callsite_types`,
the shell-text rewrites (Makefile, scripts, ``package.json``, workflow ``run:``) and the
documentation/other-CI reports in :mod:`callsite_shell`, the compose and workflow YAML rewrites in
:mod:`callsite_yaml`.
"""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Callable, Iterable
from typing import Any

from . import buildcontext as bc
from .callsite_shell import report_markdown, report_other_ci, rewrite_package_json, rewrite_shell
from .callsite_types import Change, FileRewrite, Migration
from .callsite_yaml import rewrite_compose, rewrite_workflow
from .edits import Applicability, Fix
from .secrets import mask_message

__all__ = ["CODE", "OTHER_CI", "Change", "FileRewrite", "Migration", "attach", "migrations_of", "plan",
           "report_markdown", "report_other_ci", "rewrite_compose", "rewrite_package_json", "rewrite_shell",
           "rewrite_workflow"]

CODE = "DFX009"
_MAX_FILE = 1_000_000
_MAX_DOCS = 200
#: CI configurations this module does not rewrite: their build commands are reported.
OTHER_CI = (".gitlab-ci.yml", ".gitlab-ci.yaml", ".circleci/config.yml", "Jenkinsfile", "bitbucket-pipelines.yml",
            "azure-pipelines.yml", ".travis.yml", ".drone.yml", "cloudbuild.yaml", "cloudbuild.yml", "buildspec.yml",
            ".buildkite/pipeline.yml", "Taskfile.yml", "justfile")


# =============================================================================================
# the repository

def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_FILE:
            return None
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


_inside = bc._inside


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
    sites = list(bc._compose_sites(root.resolve()))  # the compose part of bc.build_sites
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
