"""Which folder is a Dockerfile's build context?  Found from evidence in the repository.

A Dockerfile in ``docker/`` or ``packages/api/`` is usually built with the repository root as its
context (``docker build -f docker/Dockerfile .``).  Reading ``package.json`` from the Dockerfile's
own folder, or writing ``.dockerignore`` there, is then wrong: the build never looks there.  The
context is taken from the first of these that names or implies it:

1. ``--context`` (the caller's choice; not looked at here);
2. a compose file (``compose.yaml``, ``docker-compose*.yml`` …) whose service ``build`` names this
   Dockerfile (``build: DIR`` or ``build.context`` + ``build.dockerfile``);
3. a GitHub Actions workflow: ``docker/build-push-action`` with ``context``/``file``, or a
   ``docker build``/``docker buildx build``/``podman build``/``buildah bud`` command in a ``run:`` step;
4. the same build commands in a ``Makefile``, a ``package.json`` script or a shell script (``*.sh``
   at the top or in ``scripts/``, ``bin/`` …);
5. the COPY/ADD sources that must exist: the nearest folder, from the Dockerfile's own upward to
   the repository root, that holds all of them;
6. otherwise the Dockerfile's own folder.

Repositories are untrusted input: every path derived from their files is resolved (symlinks
included) and ignored unless it stays inside the repository root.  Values the build fills in
(``${{ … }}``, ``$VAR``) are not guessed.  Reading here is bounded (file count and size).
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Iterator

from .document import Document

COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
#: The evidence of a context that nothing in the repository names: only a guess.
GUESSED_CONTEXT = "the Dockerfile's folder (no compose file, workflow or script names another)"
_MAX_FILE = 1_000_000  # bytes: larger evidence files are not read
_MAX_WORKFLOWS = 200
_BUILDERS = {("docker", "build"), ("docker", "image", "build"), ("docker", "buildx", "build"),
             ("podman", "build"), ("buildah", "bud"), ("buildah", "build")}


@dataclass(frozen=True)
class BuildSite:
    """One place in the repository that builds an image: where, and with which context and file."""

    source: str  # repository-relative file that says so, e.g. ".github/workflows/ci.yml"
    line: int  # 1-based line of the evidence in that file (0 when unknown)
    kind: str  # "compose" | "workflow-action" | "workflow-run" | "makefile" | "package-script"
    context: Path | None  # resolved context folder (None: not decidable, e.g. a ${{ }} value)
    dockerfile: Path | None  # resolved Dockerfile
    note: str = ""  # why it could not be used, when context/dockerfile is None


@dataclass(frozen=True)
class ContextChoice:
    """The build context chosen for one Dockerfile, with the evidence behind it."""

    directory: Path
    evidence: str  # one line for messages, e.g. "compose.yaml (service api)"
    others: tuple[str, ...] = ()  # other evidence that named a different folder
    sites: tuple[BuildSite, ...] = field(default=(), repr=False)


def repository_root(start: Path, limit: Path | None = None) -> Path:
    """The top of the repository holding ``start``: the nearest folder with ``.git``; without one,
    ``limit`` (the folder dockerfix was asked to look in) when it holds ``start``, else ``start``."""
    start = start.resolve()
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    if limit is not None:
        lim = limit.resolve()
        if _inside(start, lim):
            return lim
    return start


def choose_context(dockerfile: Path, root: Path, copy_sources: Iterable[str] = (),
                   sites: Iterable[BuildSite] | None = None) -> ContextChoice:
    """Decide the build context of ``dockerfile`` (absolute) inside ``root`` (absolute, resolved).

    ``copy_sources`` are the context-relative sources the Dockerfile's COPY/ADD instructions need
    (without ``--from``, globs or ``.``); ``sites`` defaults to :func:`build_sites` of ``root``."""
    dockerfile = dockerfile.resolve()
    root = root.resolve()
    found = list(build_sites(root)) if sites is None else list(sites)
    mine = [s for s in found if s.dockerfile == dockerfile and s.context is not None]
    if mine:
        first = mine[0]
        others = tuple(sorted({_describe(s, root) for s in mine[1:] if s.context != first.context}))
        return ContextChoice(first.context, _describe(first, root), others, tuple(mine))  # type: ignore[arg-type]
    own = dockerfile.parent
    needed = [s for s in copy_sources if s]
    if needed and not _holds_all(own, needed):
        for d in own.parents:
            if not _inside(d, root):
                break
            if _holds_all(d, needed):
                rel = d.relative_to(root).as_posix() if d != root else "."
                return ContextChoice(d, f"the COPY sources ({_short(needed)}) exist in {rel}/, not beside the Dockerfile",
                                     sites=tuple(found))
    return ContextChoice(own, GUESSED_CONTEXT,
                         sites=tuple(found))


def _short(items: list[str], n: int = 3) -> str:
    return ", ".join(items[:n]) + (", …" if len(items) > n else "")


def _describe(site: BuildSite, root: Path) -> str:
    where = f"{site.source}:{site.line}" if site.line else site.source
    return f"{where} ({site.kind})"


def _holds_all(folder: Path, sources: list[str]) -> bool:
    for s in sources:
        p = folder / s
        if not (p.exists() or p.is_symlink()):
            return False
    return True


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _safe(root: Path, base: Path, rel: str) -> Path | None:
    """``rel`` (as written in a repository file) resolved against ``base``; None when it leaves
    ``root`` (also through a symlink), is absolute, or holds a value the build fills in."""
    if not rel or "${" in rel or "$(" in rel or rel.startswith("$") or "{{" in rel:
        return None
    if os.path.isabs(rel) or "://" in rel:
        return None
    p = (base / rel).resolve()
    return p if _inside(p, root) else None


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_FILE:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _yaml(text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="rt", pure=True).load(text)
    except (YAMLError, ValueError, TypeError):
        return None


def _line_of(node: Any, key: Any) -> int:
    """1-based line of ``key`` in a ruamel round-trip mapping (0 when unknown)."""
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return 0


# -- where builds are described ------------------------------------------------------------------

def build_sites(root: Path) -> Iterator[BuildSite]:
    """Every build the repository describes, in evidence order (compose, workflows, Makefiles,
    package.json scripts, shell scripts)."""
    root = root.resolve()
    yield from _compose_sites(root)
    yield from _workflow_sites(root)
    yield from _makefile_sites(root)
    yield from _package_script_sites(root)
    yield from _script_sites(root)


def compose_files(root: Path) -> list[Path]:
    """Compose files at the top of the repository and in its first-level folders."""
    out: list[Path] = []
    for d in [root, *_subfolders(root)]:
        for name in sorted(os.listdir(d)) if d.is_dir() else []:
            if name in COMPOSE_NAMES or (name.startswith("docker-compose.") and name.endswith((".yml", ".yaml"))) \
                    or (name.startswith("compose.") and name.endswith((".yml", ".yaml"))):
                p = (d / name)
                if p.is_file() and _inside(p.resolve(), root):
                    out.append(p)
    return out


def _subfolders(root: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return []
    skip = {"node_modules", ".git", "dist", "build", "coverage"}
    return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) and e.name not in skip][:200]


def _compose_sites(root: Path) -> Iterator[BuildSite]:
    for f in compose_files(root):
        data = _yaml(_read(f) or "")
        services = data.get("services") if isinstance(data, dict) else None
        if not isinstance(services, dict):
            continue
        rel_f = f.relative_to(root).as_posix()
        for name, svc in services.items():
            if not isinstance(svc, dict) or "build" not in svc:
                continue
            build = svc["build"]
            line = _line_of(svc, "build")
            kind = f"compose service {name}"
            if isinstance(build, str):
                ctx = _safe(root, f.parent, build)
                dockerfile = _safe(root, ctx, "Dockerfile") if ctx else None
            elif isinstance(build, dict):
                c = build.get("context", ".")
                ctx = _safe(root, f.parent, c) if isinstance(c, str) else None
                d = build.get("dockerfile", "Dockerfile")
                dockerfile = _safe(root, ctx, d) if ctx and isinstance(d, str) else None
                if isinstance(build.get("dockerfile_inline"), str):
                    continue
            else:
                continue
            note = "" if ctx else "its context is outside the repository or filled in at build time"
            yield BuildSite(rel_f, line, kind, ctx, dockerfile, note)


def workflow_files(root: Path) -> list[Path]:
    wf = root / ".github" / "workflows"
    if not wf.is_dir() or not _inside(wf.resolve(), root):
        return []
    return [p for p in sorted(wf.iterdir()) if p.suffix in (".yml", ".yaml") and p.is_file()][:_MAX_WORKFLOWS]


def _workflow_sites(root: Path) -> Iterator[BuildSite]:
    for f in workflow_files(root):
        text = _read(f)
        data = _yaml(text or "")
        jobs = data.get("jobs") if isinstance(data, dict) else None
        if not isinstance(jobs, dict):
            continue
        rel_f = f.relative_to(root).as_posix()
        for job in jobs.values():
            steps = job.get("steps") if isinstance(job, dict) else None
            if not isinstance(steps, list):
                continue
            job_wd = _working_directory(job.get("defaults"))
            for step in steps:
                if not isinstance(step, dict):
                    continue
                uses = step.get("uses")
                if isinstance(uses, str) and uses.split("@")[0] == "docker/build-push-action":
                    yield _action_site(root, rel_f, step)
                run = step.get("run")
                if isinstance(run, str):
                    wd = step.get("working-directory") or job_wd or "."
                    base = _safe(root, root, wd) if isinstance(wd, str) else None
                    line = _line_of(step, "run") + 1
                    if base is None:
                        continue
                    yield from _command_sites(root, base, rel_f, line, "workflow-run", run)


def _working_directory(defaults: Any) -> str | None:
    if isinstance(defaults, dict) and isinstance(defaults.get("run"), dict):
        wd = defaults["run"].get("working-directory")
        return wd if isinstance(wd, str) else None
    return None


def _action_site(root: Path, rel_f: str, step: dict) -> BuildSite:
    w = step["with"] if isinstance(step.get("with"), dict) else {}
    line = _line_of(step, "uses")
    c = w.get("context")
    # Without `context`, the action builds from the Git context: the repository at the commit,
    # i.e. its root; `file` defaults to {context}/Dockerfile.
    if c is None:
        ctx: Path | None = root
    elif isinstance(c, str):
        ctx = _safe(root, root, c)
    else:
        ctx = None
    f = w.get("file")
    if f is None:
        dockerfile = _safe(root, ctx, "Dockerfile") if ctx else None
    elif isinstance(f, str):
        dockerfile = _safe(root, root, f)
    else:
        dockerfile = None
    note = "" if ctx and dockerfile else "its context or file is filled in at build time"
    return BuildSite(rel_f, line, "workflow-action", ctx, dockerfile, note)


def _makefile_sites(root: Path) -> Iterator[BuildSite]:
    for name in ("Makefile", "makefile", "GNUmakefile"):
        f = root / name
        text = _read(f)
        if text is None or not _inside(f.resolve(), root):
            continue
        # Recipe lines; make's own line continuations are joined by the command scanner.
        recipe = make_recipe_text(text)
        yield from _command_sites(root, root, name, 1, "makefile", recipe, line_offset=True)


def make_recipe_text(text: str) -> str:
    """A Makefile as the shell sees its recipes: the recipe tab and, on the first line of a recipe
    command, make's ``@``/``-``/``+`` prefixes become spaces (a continuation line loses only its
    tab), so every line keeps its length and every position its place."""
    out = []
    cont = False
    for line in text.split("\n"):
        if line.startswith("\t"):
            if cont:
                line = " " + line[1:]
            else:
                body = line[1:]
                stripped = body.lstrip(" @-+")
                line = " " * (len(line) - len(stripped)) + stripped
        out.append(line)
        cont = line.rstrip("\r").endswith("\\")
    return "\n".join(out)


SCRIPT_FOLDERS = (".", "scripts", "script", "bin", "tools", "docker", ".ci", "ci", "deploy")
_MAX_SCRIPTS = 200


def script_files(root: Path) -> list[Path]:
    """Shell scripts (``*.sh``) at the top of the repository and in its usual script folders."""
    out: list[Path] = []
    for folder in SCRIPT_FOLDERS:
        d = root / folder
        if not d.is_dir() or not _inside(d.resolve(), root):
            continue
        for p in sorted(d.iterdir()):
            if p.suffix == ".sh" and p.is_file() and _inside(p.resolve(), root):
                out.append(p)
    return out[:_MAX_SCRIPTS]


def _script_sites(root: Path) -> Iterator[BuildSite]:
    for f in script_files(root):
        text = _read(f)
        if text is None:
            continue
        yield from _command_sites(root, root, f.relative_to(root).as_posix(), 1, "script", text, line_offset=True)


def _package_script_sites(root: Path) -> Iterator[BuildSite]:
    import json

    text = _read(root / "package.json")
    if not text:
        return
    try:
        data = json.loads(text)
    except ValueError:
        return
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return
    for name, body in scripts.items():
        if isinstance(body, str):
            line = _line_in(text, f'"{name}"')
            yield from _command_sites(root, root, "package.json", line, "package-script", body)


def _line_in(text: str, needle: str) -> int:
    i = text.find(needle)
    return text.count("\n", 0, i) + 1 if i >= 0 else 0


# -- build commands in shell text ------------------------------------------------------------------

@dataclass(frozen=True)
class BuildCommand:
    """A ``docker build``-like command found in shell text."""

    line: int  # 1-based, relative to the text
    argv: tuple[str, ...]
    file: str | None  # -f/--file value as written
    context: str | None  # the positional context argument as written
    build_args: tuple[tuple[str, str | None], ...]  # --build-arg NAME[=value]
    secrets: tuple[str, ...]  # --secret values


def build_commands(text: str) -> list[BuildCommand]:
    """The image-build commands in shell ``text`` (continuations joined, one per logical line)."""
    out: list[BuildCommand] = []
    for lineno, logical in _logical_lines(text):
        # a GitHub Actions expression is one value: `${{ secrets.X }}` must not split into words
        logical = re.sub(r"\$\{\{.*?\}\}", lambda m: "".join(m.group(0).split()), logical)
        try:
            words = shlex.split(logical, comments=True, posix=True)
        except ValueError:
            continue
        for cmd in _split_commands(words):
            bc = _as_build(cmd, lineno)
            if bc is not None:
                out.append(bc)
    return out


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    buf: list[str] = []
    start = 0
    for i, line in enumerate(text.splitlines(), 1):
        if not buf:
            start = i
        if line.rstrip().endswith("\\"):
            buf.append(line.rstrip()[:-1])
            continue
        buf.append(line)
        yield start, " ".join(buf)
        buf = []
    if buf:
        yield start, " ".join(buf)


_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_OPS = {"&&", "||", ";", "|", "&"}


def _split_commands(words: list[str]) -> Iterator[list[str]]:
    cur: list[str] = []
    for w in words:
        if w in _OPS or w.endswith(";") and len(w) > 1:
            if w not in _OPS:
                cur.append(w[:-1])
            if cur:
                yield cur
            cur = []
        else:
            cur.append(w)
    if cur:
        yield cur


_VALUE_FLAGS = {"-f", "--file", "-t", "--tag", "--build-arg", "--secret", "--target", "--platform",
                "--cache-from", "--cache-to", "--label", "--network", "--progress", "--output", "-o",
                "--ssh", "--iidfile", "--build-context", "--add-host", "--shm-size", "--ulimit",
                "--builder", "--metadata-file", "--provenance", "--sbom", "--attest", "--annotation",
                "--allow", "-m", "--memory", "--cgroup-parent", "--isolation", "--squash-format"}


def _as_build(words: list[str], lineno: int) -> BuildCommand | None:
    # leading NAME=value assignments and sudo do not change which command runs
    i = 0
    while i < len(words) and (_ASSIGN.match(words[i]) or words[i] == "sudo"):
        i += 1
    w = words[i:]
    n = 0
    for tool in _BUILDERS:
        if tuple(w[:len(tool)]) == tool:
            n = len(tool)
            break
    if not n:
        return None
    file = context = None
    build_args: list[tuple[str, str | None]] = []
    secrets: list[str] = []
    j = n
    while j < len(w):
        a = w[j]
        name, eq, val = a.partition("=")
        if a.startswith("-") and eq and name in _VALUE_FLAGS:
            value: str | None = val
            j += 1
        elif a in _VALUE_FLAGS:
            value = w[j + 1] if j + 1 < len(w) else None
            name = a
            j += 2
        elif a.startswith("-"):
            j += 1
            continue
        else:
            if context is None:
                context = a
            j += 1
            continue
        if name in ("-f", "--file"):
            file = value
        elif name == "--build-arg" and value is not None:
            k, e, v = value.partition("=")
            build_args.append((k, v if e else None))
        elif name == "--secret" and value is not None:
            secrets.append(value)
    return BuildCommand(lineno, tuple(w), file, context, tuple(build_args), tuple(secrets))


def _command_sites(root: Path, base: Path, rel_f: str, first_line: int, kind: str, text: str,
                   line_offset: bool = False) -> Iterator[BuildSite]:
    for bc in build_commands(text):
        line = bc.line if line_offset else first_line + bc.line - 1
        if bc.context is None or bc.file == "-":
            continue
        ctx, dockerfile = resolve_command(root, base, bc)
        if ctx is None:
            yield BuildSite(rel_f, line, kind, None, None, "its context is filled in at build time or outside the repository")
            continue
        yield BuildSite(rel_f, line, kind, ctx, dockerfile,
                        "" if dockerfile else "its -f value is filled in at build time or outside the repository")


def copy_sources(doc: Document) -> list[str]:
    """The context paths the Dockerfile's COPY/ADD instructions need to exist (``--from`` copies,
    URLs, heredocs, globs, variables and the whole context ``.`` left out), context-relative."""
    out: list[str] = []
    for ins in doc.instructions:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") is not None or ins.heredocs:
            continue
        values = list(ins.json_args) if ins.json_args is not None else [w.value for w in ins.words]
        for v in values[:-1]:
            if not v or any(c in v for c in "*?[$") or "://" in v or v.startswith("git@"):
                continue
            rel = context_relative(v)
            if rel not in (".", "..") and not rel.startswith("../") and rel not in out:
                out.append(rel)
    return out


def resolve_command(root: Path, base: Path, bc: BuildCommand) -> tuple[Path | None, Path | None]:
    """(context, Dockerfile) that the build command ``bc``, run in ``base``, builds: each None when
    it is filled in at build time, missing or outside ``root``."""
    if bc.context is None:
        return None, None
    ctx = _safe(root, base, bc.context)
    if ctx is None:
        return None, None
    if bc.file is None:
        return ctx, _safe(root, ctx, "Dockerfile")
    if bc.file == "-":
        return ctx, None
    return ctx, _safe(root, base, bc.file)


def context_relative(path: str) -> str:
    """A COPY source as a context-relative path (``./a/../b`` → ``b``)."""
    return posixpath.normpath(path.lstrip("/")) if path else path


def parse_build_command(words: list[str], line: int = 1) -> BuildCommand | None:
    """The build command that ``words`` (one simple command, already split) run; None when it is
    not an image build (``docker build``, ``docker buildx build``, ``podman build`` …)."""
    return _as_build(words, line)
