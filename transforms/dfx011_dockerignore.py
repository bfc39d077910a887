"""Keep local-only and secret files out of the build context with a ``.dockerignore``.

## What it does
For a Node.js project (a ``package.json`` in a known build context) it creates ``.dockerignore``
next to the build context when there is none, or appends the entries it lacks to the existing one,
under a one-line comment header:

```
node_modules
npm-debug.log*
yarn-debug.log*
yarn-error.log*
.git
.env
.env.*
!.env.example        (only when the context has one)
.npmrc
Dockerfile*
.dockerignore
coverage
.nyc_output
.next/cache          (only for Next.js apps)
```

The user's lines are never reordered, changed or removed; the file keeps its newline style (LF or
CRLF) and whether it ends with a newline.  An entry is left out when the file already excludes
that path (``**/node_modules``, ``node_modules/``, ``.env*`` count), when the user's file
re-includes it with a ``!`` line (appending after it would override that decision), and when the
Dockerfile needs it: a ``COPY``/``ADD`` source from the build context (``--from`` sources, URLs and
heredocs are not), JSON form included, or a ``RUN --mount=type=bind`` source, matched with
BuildKit's ``.dockerignore`` semantics (Go ``filepath.Match`` plus ``**``, ``!`` exceptions, leading
and trailing ``/``, a pattern excluding a parent directory excludes everything below it; the last
matching line wins).  So ``COPY .npmrc ./`` keeps ``.npmrc`` out of the list (until DFX009 has
replaced that ``COPY`` with a secret mount), ``COPY Dockerfile.prod /srv/`` keeps ``Dockerfile*``
out, and ``COPY .env.production ./`` keeps ``.env.*`` out.  Also left out: ``node_modules`` when no
``RUN`` installs dependencies (the image uses the context's ``node_modules``), ``.git`` when a
``RUN`` calls ``git``, and ``.npmrc`` when the context has one and a ``COPY .`` brings it to an
npm/yarn/pnpm ``RUN`` that has no ``npmrc`` secret mount (its registry settings may be needed).

## Why
Without a ``.dockerignore`` the whole folder is sent to the builder and ``COPY . .`` puts it in the
image: the host's ``node_modules`` (built for another OS or libc, and overwriting what ``npm ci``
installed), ``.git`` history, ``.env`` files and ``.npmrc`` tokens (secrets in a layer), logs and
test coverage.  Builds get slower (a bigger context to send, cache busted by any change there) and
images bigger.  BuildKit warns about ``COPY`` of an ignored file (``CopyIgnoredFile``), which is why
entries a ``COPY`` needs are never added.

## Example
```diff
--- a/.dockerignore
+++ b/.dockerignore
 dist
+
+# Added by dockerfix (DFX011): keep local-only and secret files out of the build context
+node_modules
+npm-debug.log*
+.git
+.env
+.env.*
+.npmrc
+Dockerfile*
+.dockerignore
+coverage
+.nyc_output
```

## Fix safety
Unsafe: the build sees fewer files.  A ``COPY . .`` build that relied on a file now ignored changes
behaviour: an app reading ``.env`` at run time (``dotenv``) no longer finds it in the image (which
is the point, but it must then get its settings from the environment), a build script reading
``.git`` or ``coverage`` loses them.  Named ``COPY``/``ADD`` sources are protected, whole-context
copies cannot be.  The fix also creates or edits a file other than the Dockerfile, which a reviewer
should see.  Skipped, with a reason: no known build context (stdin), no ``package.json`` in it,
a ``<Dockerfile>.dockerignore`` next to the Dockerfile (BuildKit reads that one instead), and a
``COPY``/``ADD`` source that depends on a build argument (what it needs cannot be known).

## Related codes
BuildKit check CopyIgnoredFile (never caused here); Checkov and Trivy have no ``.dockerignore``
rule; hadolint none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dockerfix.fixer.context import Context
from dockerfix.fixer.dockerignore import (
    IgnorePattern,
    clean_context_path,
    docker_pattern_regex,
    dockerignore_matches,
    dockerignore_patterns,
)
from dockerfix.fixer.document import Document, Instruction
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.transform import Transform

from ._pkgmanagers import package_manager_commands
from ._stages import expand_args

HEADER = "# Added by dockerfix (DFX011): keep local-only and secret files out of the build context"

#: (pattern, a path it stands for, guard): guards are checked against the Dockerfile and context.
ENTRIES: tuple[tuple[str, str, str | None], ...] = (
    ("node_modules", "node_modules", "install"),
    ("npm-debug.log*", "npm-debug.log", None),
    ("yarn-debug.log*", "yarn-debug.log", None),
    ("yarn-error.log*", "yarn-error.log", None),
    (".git", ".git", "git"),
    (".env", ".env", None),
    (".env.*", ".env.local", None),
    ("!.env.example", ".env.example", "env-example"),
    (".npmrc", ".npmrc", "npmrc"),
    ("Dockerfile*", "Dockerfile", None),
    (".dockerignore", ".dockerignore", None),
    ("coverage", "coverage", None),
    (".nyc_output", ".nyc_output", None),
    (".next/cache", ".next/cache", "next-app"),
)
_GLOB = re.compile(r"[*?\[]")


class Dockerignore(Transform):
    code = "DFX011"
    name = "dockerignore"
    summary = "Create or complete .dockerignore so node_modules, .git, .env and .npmrc stay out of the build"
    default_applicability = Applicability.UNSAFE
    related = ("CopyIgnoredFile",)
    after = ("*",)  # after every Dockerfile edit: it reads the final COPY sources and RUN mounts

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        line = doc.instructions[0].line if doc.instructions else 1
        if ctx.context_dir is None:
            yield Skip(self.code, "no build context is known (stdin input): .dockerignore not checked", line)
            return
        if ctx.package is None:
            yield Skip(self.code, ctx.package_error or "no package.json in the build context: not a Node.js "
                       "project, .dockerignore left alone", line)
            return
        if ctx.dockerfile is not None and ctx.dockerfile.parent.resolve() == ctx.context_dir.resolve():
            own = f"{ctx.dockerfile.name}.dockerignore"
            if ctx.file_text(own) is not None:
                yield Skip(self.code, f"BuildKit reads {own} for this Dockerfile instead of .dockerignore", line)
                return
        sources, why = _context_sources(doc)
        if sources is None:
            yield Skip(self.code, f".dockerignore not completed: {why}", line)
            return
        existing = ctx.file_text(".dockerignore")
        current = existing or ""
        patterns = dockerignore_patterns(current)
        negations = [p for p in patterns if p.negated]
        guards = _guards(doc, ctx)
        added: list[str] = []
        notes: list[str] = []
        for entry, sample, guard in ENTRIES:
            if guard == "next-app" and not _is_next_app(ctx):
                continue  # Next.js's build cache is only worth a line in Next.js apps
            negated = entry.startswith("!")
            if negated:
                if guard == "env-example" and ".env.*" in added and ctx.file_text(sample) is not None:
                    added.append(entry)
                continue
            if dockerignore_matches(current, sample):
                continue
            if any(p.matches(sample) for p in negations):
                notes.append(f"{entry} not added: your .dockerignore re-includes it")
                continue
            rx = docker_pattern_regex(clean_context_path(entry))
            if any(rx.match(p.pattern) for p in negations):
                notes.append(f"{entry} not added: it would override a `!` line of your .dockerignore")
                continue
            if guard and guards.get(guard):
                notes.append(f"{entry} not added: {guards[guard]}")
                continue
            need = _needed_by(entry, sample, sources)
            if need:
                notes.append(f"{entry} not added: {need}")
                continue
            added.append(entry)
        for n in notes:
            yield Skip(self.code, n, line)
        if not added:
            return
        newline = "\r\n" if "\r\n" in current else "\n"
        block = [HEADER, *added]
        if current.strip():
            prefix = "" if current.endswith(("\n", "\r")) else newline
            lines = current.splitlines()
            if lines and lines[-1].strip():
                prefix += newline
            text = prefix + newline.join(block) + (newline if current.endswith("\n") else "")
        else:
            text = newline.join(block) + newline
            if current:  # blank lines only: keep them, then the block
                text = ("" if current.endswith("\n") else newline) + text
        what = "create .dockerignore" if existing is None else "add to .dockerignore"
        yield Fix(self.code, f"{what}: {', '.join(added)}", line, (Edit.insert(len(current), text),),
                  Applicability.UNSAFE, notes=tuple(notes), path=".dockerignore")


def _context_sources(doc: Document) -> tuple[list[str] | None, str]:
    """Every build-context path the Dockerfile reads (cleaned; may hold globs)."""
    out: list[str] = []
    for ins in doc.instructions:
        words: list[str] = []
        if ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and not ins.heredocs:
            if ins.is_json:
                words = list((ins.json_args or ())[:-1])
            else:
                words = [w.value for w in ins.words[:-1]]
            if ins.keyword == "ADD":
                words = [w for w in words if not re.match(r"^(?:[a-z][a-z0-9+.-]*://|git@)", w)]
        elif ins.keyword == "RUN":
            for mount in ins.mounts:
                if mount.type == "bind" and mount.get("from") is None:
                    words.append(mount.get("source", "src") or ".")
        for w in words:
            if "$" in w:
                stage = doc.stages[ins.stage] if ins.stage >= 0 else None
                expanded = expand_args(doc, w, stage)
                if expanded is None:
                    return None, f"`{ins.keyword} {w}` on line {source_line(doc, ins.line)} depends on a build argument, " \
                                 f"so what it " \
                                 "needs from the context is unknown"
                w = expanded
            out.append(clean_context_path(w))
    return out, ""


def _needed_by(entry: str, sample: str, sources: list[str]) -> str | None:
    pat = IgnorePattern(clean_context_path(entry), False, 0)
    for s in sources:
        if s == ".":
            continue
        if _GLOB.search(s):
            if docker_pattern_regex(s).match(sample) or pat.matches(_GLOB.split(s, 1)[0].rstrip("/") or "."):
                return f"a COPY/ADD needs `{s}`"
        elif pat.matches(s):
            return f"a COPY/ADD needs `{s}`"
    return None


def _is_next_app(ctx: Context) -> bool:
    pkg = ctx.package
    return pkg is not None and ("next" in pkg.dependencies or "next" in pkg.dev_dependencies)


def _guards(doc: Document, ctx: Context) -> dict[str, str]:
    out: dict[str, str] = {}
    runs = [i for i in doc.instructions if i.keyword == "RUN"]
    installs = any(pm.action in ("install", "ci", "focus") and pm.is_bare_install
                   for i in runs for pm in package_manager_commands(i))
    if not installs:
        out["install"] = "no RUN installs the dependencies, so the image may use the context's node_modules"
    if any(re.search(r"(?:^|[\s;&|(])git(?:\s|$)", i.logical + "".join(h.body for h in i.heredocs)) for i in runs):
        out["git"] = "a RUN calls git, which may need the repository"
    if ctx.file_text(".npmrc") is not None and _whole_copy_feeds_install(doc):
        out["npmrc"] = ("the context's .npmrc reaches an npm/yarn/pnpm RUN through a whole-context COPY and may "
                        "hold settings the install needs; move it to a secret mount (DFX009) first")
    return out


def _whole_copy_feeds_install(doc: Document) -> bool:
    for stage in doc.stages:
        copied = False
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and not ins.heredocs:
                srcs = (ins.json_args or ())[:-1] if ins.is_json else [w.value for w in ins.words[:-1]]
                if any(clean_context_path(s) == "." for s in srcs):
                    copied = True
            elif copied and ins.keyword == "RUN" and _runs_pm(ins) and not _has_npmrc_mount(ins):
                return True
    return False


def _runs_pm(ins: Instruction) -> bool:
    if ins.is_json or ins.heredocs:
        return bool(re.search(r"\b(?:npm|npx|yarn|pnpm)\b", ins.logical + "".join(h.body for h in ins.heredocs)))
    return bool(package_manager_commands(ins))


def _has_npmrc_mount(ins: Instruction) -> bool:
    return any(m.type == "secret" and ".npmrc" in (m.flag.value or "") for m in ins.mounts)
