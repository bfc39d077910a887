"""Pass npm registry credentials as a BuildKit secret mount, never through a layer.

## What it does
Finds the ways a Node.js Dockerfile usually hands an npm token to the install, and rewrites the
supported ones so the token never reaches a layer, the image history or the final image:

* an ``.npmrc`` copied from the build context (``COPY .npmrc package*.json ./``, also as one source
  of several) and deleted later (``rm -f .npmrc`` in the install ``RUN`` or a later one);
* an ``.npmrc`` written by ``echo``/``printf`` (``RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}"
  > .npmrc``, ``>>`` appends included), usually fed by a secret-named ``ARG``/``ENV``.

The rewrite depends on how the token arrives:

* **token form**, when a build argument (``ARG NPM_TOKEN``, perhaps through ``ENV``) feeds an
  ``.npmrc`` that is written, used and removed in one ``RUN``: that ``RUN`` keeps writing the same
  file (registry host, ``@scope:registry=`` lines, ``always-auth``: the settings keep their
  meaning) but reads the token from a secret, ``$(cat /run/secrets/npm_token)``, mounted with
  ``--mount=type=secret,id=npm_token,required=true``, after a first line that stops the build when
  the secret file is missing or empty (``test -s /run/secrets/npm_token || { echo "build secret
  npm_token is missing or empty: ..." >&2; exit 1; };``); the ``ARG``/``ENV`` lines go.  The secret
  holds exactly what the build argument held, so the commands that build the image change
  mechanically: ``--build-arg NPM_TOKEN=...`` becomes ``--secret id=npm_token,env=NPM_TOKEN``.
  The fix records the mapping (build argument -> secret id) so that ``dockerfix`` rewrites those
  call sites (compose files, GitHub workflows, Makefiles, scripts, ``package.json`` scripts; see
  ``fixer/callsites.py``) in the same run.
* **file form**, otherwise: every ``RUN`` between the ``.npmrc`` appearing and its removal that
  runs npm, npx, yarn, pnpm or bun gets ``--mount=type=secret,id=npmrc,target=<path>,required=true``,
  where ``<path>`` is where the ``.npmrc`` used to be (``<WORKDIR>/.npmrc``; ``/root/.npmrc`` - the
  user config npm reads in any directory - when the stage has no ``WORKDIR``; ``uid=1000`` is added
  when the ``RUN`` runs as ``node``).  The ``COPY`` of the ``.npmrc`` goes (or just its source
  word), the ``echo``/``printf`` and ``rm`` commands go (``cmd && `` out of a chain, or the whole
  ``RUN`` when nothing else is left), and so do the ``ARG``/``ENV`` lines whose only use was the
  removed ``echo``.  The secret is the whole file: its content is what the Dockerfile wrote or
  copied (the notes show it, tokens masked).  When a later ``COPY .`` would now take a copied
  ``.npmrc`` from the build context, ``.npmrc`` is added to ``.dockerignore`` (DFX011 reads the
  file and does not add it twice).

Mounts are ``required=true``: a build that passes no ``--secret`` for the id fails at once instead
of installing without credentials (or installing a public package of the same name).  That is all
``required=true`` catches: ``--secret id=npm_token,env=NPM_TOKEN`` with ``NPM_TOKEN`` unset passes
the secret empty (Docker 20.10 then mounts nothing, newer BuildKit may mount an empty file), so in
the token form the guard line stops that build too, naming the secret and the variable to set; the
build log shows only that message, never the token.  The file form has no such line: its secret
is a file (``src=``), and the docker CLI refuses a ``--secret`` whose file does not exist.  The
notes give
the build command, the Docker Compose (``build: secrets:``) and GitHub Actions equivalents, with
the project's own registry host and scope lines (never the public registry by default).

Any other ``ARG``/``ENV`` whose name looks like a secret (BuildKit's ``SecretsUsedInArgOrEnv``
word list: a ``_``-separated word ``apikey``, ``auth``, ``credential(s)``, ``key``, ``password``,
``pword``, ``passwd``, ``secret`` or ``token``, unless one word is ``public``, ``file`` or
``version``: ``NPM_TOKEN``, ``DB_PASSWORD``, ``API_KEY`` yes; ``PUBLIC_KEY``, ``KEY_FILE``,
``MONKEY`` no) is reported, display-only, with the reason it was not rewritten.

## Why
Every ``COPY`` is a layer: ``RUN rm .npmrc`` in a later step hides the file but the layer that
added it still ships with the image, and ``docker save`` or any registry pull gives the token
back.  ``ARG`` values used by a ``RUN`` are recorded in the image history (``docker history``
shows ``NPM_TOKEN=...``) and ``ENV`` values live in the image config for good.  A secret mount
exists only for the duration of the one ``RUN`` and is never written to a layer.

Why the file form (``target=``) and not ``env=NPM_TOKEN``: the ``env=`` option needs Dockerfile
frontend 1.10 or newer, which the frontend built into Docker 20.10-24 does not have, and selecting
a newer one takes a ``# syntax=docker/dockerfile:1`` line, which the builder must pull from Docker
Hub (impossible offline or behind a strict mirror).  ``--mount=type=secret,id=..,target=..`` works
with the built-in frontend of Docker 20.10+ and any BuildKit, so no ``# syntax=`` line is added.
The secret is the whole ``.npmrc``, which also carries registry URLs and scopes.

## Example
```diff
 FROM node:22-slim
-ARG NPM_TOKEN
 WORKDIR /app
 COPY package.json package-lock.json ./
-RUN echo "//npm.acme.dev/:_authToken=${NPM_TOKEN}" > .npmrc && \\
+RUN --mount=type=secret,id=npm_token,required=true \\
+    test -s /run/secrets/npm_token || { echo "build secret npm_token is missing or empty: ..." >&2; exit 1; }; \\
+    echo "//npm.acme.dev/:_authToken=$(cat /run/secrets/npm_token)" > .npmrc && \\
     npm ci --omit=dev && rm -f .npmrc
 COPY . .
 CMD ["node", "server.js"]
```
Build with ``NPM_TOKEN=... docker build --secret id=npm_token,env=NPM_TOKEN .``; without
``NPM_TOKEN`` the build stops at the first line of the ``RUN`` with ``build secret npm_token is
missing or empty: set NPM_TOKEN and pass --secret id=npm_token,env=NPM_TOKEN``.  A copied
``.npmrc`` becomes the whole-file secret:
```diff
 FROM node:22-slim
 WORKDIR /app
-COPY .npmrc package.json package-lock.json ./
-RUN npm ci --omit=dev && rm -f .npmrc
+COPY package.json package-lock.json ./
+RUN --mount=type=secret,id=npmrc,target=/app/.npmrc,required=true npm ci --omit=dev
 COPY server.js .
 CMD ["node", "server.js"]
```
Build with ``docker build --secret id=npmrc,src=./.npmrc .`` (``DOCKER_BUILDKIT=1`` on
Docker 20.10-22; BuildKit is the default since 23.0).  Older BuildKit releases leave an empty
``/app/.npmrc`` mount point in the layer: empty, so nothing leaks.

## Fix safety
Unsafe: the build command changes.  A build without the ``--secret`` now fails (``required=true``),
and so does, in the token form, one whose secret is empty (the guard line);
``dockerfix`` rewrites the call sites it can prove build this Dockerfile and reports the others
(documentation, GitLab CI, other CI systems, values filled in at build time) with the exact change
to make.  In the file form the secret file must hold what the removed ``echo`` wrote, with the
real token.
Skipped, with a reason, and reported display-only instead: a secret-named ``ARG``/``ENV`` that
other lines still use (including an ``.npmrc`` in the build context that reads ``${NPM_TOKEN}``
from the environment), an ``ENV`` with a literal secret value, an ``.npmrc`` written or removed
in a way not listed above (``npm config set``, ``cat``/``tee``/heredocs, ``rm`` of a file that
came from ``COPY . .``), a ``COPY`` whose destination cannot be resolved, a ``RUN`` as a user
other than root or ``node``, and ``.npmrc`` files that stay in the stage for a later stage built
``FROM`` it to use.

## Related codes
BuildKit check SecretsUsedInArgOrEnv; hadolint DL3064 (newer releases: sensitive data in
``ARG``/``ENV``); Trivy DS-0031 / AVD-DS-0031 (secrets passed via build-args or envs or copied
secret files).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from dockerfix.fixer.commands import ShellCommand
from dockerfix.fixer.context import Context
from dockerfix.fixer.dockerignore import clean_context_path
from dockerfix.fixer.document import Document, Instruction, Span, Stage
from dockerfix.fixer.edits import Applicability, Edit, Fix, SecretMigration, Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.secrets import is_secret_name
from dockerfix.fixer.transform import Transform

from ._pkgmanagers import NPM_CONFIG_READERS
from ._secrets import (SECRET_ID, NpmrcSource, dockerignore_fix, guard_edit, join_path, npmrc_path, npmrc_settings,
                       refers_to, token_edits, token_form, token_notes, usage_notes, written_lines)
from ._stages import effective_user, is_root_user

_WRITERS = frozenset({"echo", "printf"})


class SecretMounts(Transform):
    code = "DFX009"
    name = "secret-mounts"
    summary = "Pass npm credentials as a BuildKit secret mount instead of ARG/ENV or a copied .npmrc"
    default_applicability = Applicability.UNSAFE
    related = ("SecretsUsedInArgOrEnv", "DL3064", "DS031", "DS-0031", "AVD-DS-0031")
    after = ()  # needs nothing before it

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        handled: set[int] = set()  # indexes of ARG/ENV instructions the rewrite removes
        for stage in doc.stages:
            yield from self._stage(doc, ctx, stage, handled)
        yield from self._report_secret_names(doc, handled)

    # -- reports -------------------------------------------------------------------------
    def _report_secret_names(self, doc: Document, handled: set[int]) -> Iterable[Fix | Skip]:
        for ins in doc.instructions:
            if ins.keyword not in ("ARG", "ENV") or ins.index in handled:
                continue
            for name in (a.name for a in ins.assignments):
                if not is_secret_name(name):
                    continue
                msg = (f"{ins.keyword} {name} passes a secret through the build: its value ends up in the image "
                       "history" + (" and the image config" if ins.keyword == "ENV" else "")
                       + "; pass it with RUN --mount=type=secret instead")
                yield Fix(self.code, msg, ins.line, applicability=Applicability.DISPLAY_ONLY,
                          notes=("docker build --secret id=<id>,src=<file> . and RUN --mount=type=secret,id=<id>,"
                                 "target=<path> in the RUN that needs it",))
                yield Skip(self.code, f"{ins.keyword} {name} on line {source_line(doc, ins.line)} not rewritten: only an .npmrc "
                           "written by echo/printf or copied in and removed is rewritten automatically", ins.line)

    # -- the rewrite -----------------------------------------------------------------------
    def _stage(self, doc: Document, ctx: Context, stage: Stage, handled: set[int]) -> Iterable[Fix | Skip]:
        body = list(stage.instructions[1:])
        workdir: str | None = _inherited_workdir(doc, stage)
        workdir_known = True
        sources: list[NpmrcSource] = []
        removals: list[tuple[Instruction, ShellCommand]] = []
        problems: list[tuple[int, str]] = []
        for ins in body:
            if ins.keyword == "WORKDIR":
                val = ins.words[0].value if len(ins.words) == 1 else None
                if val is None or "$" in val:
                    workdir_known = False
                else:
                    workdir = val if val.startswith("/") else join_path(workdir or "/", val)
                continue
            if ins.keyword in ("COPY", "ADD") and ins.flag("from") is None:
                npmrc_words = [w for w in (ins.words[:-1] if not ins.is_json else ())
                               if w.value.rstrip("/").rsplit("/", 1)[-1] == ".npmrc"]
                if ins.is_json and any(v.rstrip("/").rsplit("/", 1)[-1] == ".npmrc" for v in (ins.json_args or ())[:-1]):
                    problems.append((ins.line, f"the JSON-form {ins.keyword} on line {source_line(doc, ins.line)} copies "
                                               f"an .npmrc"))
                    continue
                if not npmrc_words:
                    continue
                dest = _copy_target(ins, workdir if workdir_known else None, len(ins.words) - 1)
                if dest is None:
                    problems.append((ins.line, f"cannot tell where {ins.keyword} on line {source_line(doc, ins.line)} "
                                               f"puts the .npmrc"))
                    continue
                if len(npmrc_words) > 1 or ins.flags and any(f.name not in ("chown", "chmod", "link") for f in ins.flags):
                    problems.append((ins.line, f"{ins.keyword} on line {source_line(doc, ins.line)} is not a plain copy "
                                               f"of one .npmrc"))
                    continue
                sources.append(NpmrcSource("copy", ins, dest, word=npmrc_words[0],
                                       context_path=clean_context_path(npmrc_words[0].value)))
                continue
            if ins.keyword != "RUN":
                continue
            text = ins.logical + "".join(h.body for h in ins.heredocs)
            if ".npmrc" not in text and "_authToken" not in text:
                continue
            cmds = ins.shell.simple_commands
            if cmds is None and any(m.type == "secret" and f"/run/secrets/{m.get('id')}" in text for m in ins.mounts):
                continue  # reads the token from its secret mount already (this fix's guarded token form)
            if cmds is None:
                problems.append((ins.line, f"the RUN on line {source_line(doc, ins.line)} touches .npmrc with shell "
                                           f"syntax this fix "
                                 "does not rewrite"))
                continue
            writes: list[ShellCommand] = []
            for c in cmds:
                argv = _words_of(c)
                prog = argv[0].rsplit("/", 1)[-1] if argv else ""
                target = (c.stdout_target or (None, False))[0]
                if target is not None and target.rsplit("/", 1)[-1] == ".npmrc":
                    if prog not in _WRITERS:
                        problems.append((ins.line, f"`{prog}` writes the .npmrc on line {source_line(doc, ins.line)}"))
                        continue
                    writes.append(c)
                elif prog == "rm" and any(a.rsplit("/", 1)[-1] == ".npmrc" for a in argv[1:]):
                    rest = [a for a in argv[1:] if not a.startswith("-")]
                    if len(rest) != 1 or any(a not in ("-f", "-rf", "-fr", "-r") for a in argv[1:] if a.startswith("-")):
                        problems.append((ins.line, f"the `rm` on line {source_line(doc, ins.line)} removes more than the .npmrc"))
                        continue
                    removals.append((ins, c))
                elif ".npmrc" in " ".join(argv) or "_authToken" in " ".join(argv):
                    if prog in NPM_CONFIG_READERS and not any("_authToken" in a or a.endswith(".npmrc") for a in argv):
                        continue
                    problems.append((ins.line, f"`{' '.join(argv[:3])}` on line {source_line(doc, ins.line)} uses the "
                                               f".npmrc in a way "
                                     "this fix does not rewrite"))
            if writes:
                user = _user_at(stage, ins)
                paths = {npmrc_path((w.stdout_target or ("", False))[0], workdir if workdir_known else None, user)
                         for w in writes}
                if None in paths or len(paths) != 1:
                    problems.append((ins.line, f"cannot tell where the RUN on line {source_line(doc, ins.line)} writes "
                                               f"the .npmrc"))
                    continue
                path = paths.pop()
                assert path is not None  # None was ruled out just above
                sources.append(NpmrcSource("write", ins, path, cmds=writes))

        if not sources and not removals and not problems:
            return
        if problems or not sources:
            if not problems:
                ins, _c = removals[0]
                problems.append((ins.line, f"the .npmrc removed on line {source_line(doc, ins.line)} was not copied or "
                                           f"written in "
                                 "this stage in a way this fix recognises (a `COPY . .` copies it, for instance)"))
            for line, why in problems:
                yield Skip(self.code, f".npmrc credentials not moved to a secret mount: {why}", line)
            yield Fix(self.code, "an .npmrc with registry credentials is put into a layer; pass it with "
                      "RUN --mount=type=secret,id=npmrc,target=<path> instead", problems[0][0],
                      applicability=Applicability.DISPLAY_ONLY, notes=usage_notes([]))
            return

        first = min(sources, key=lambda s: s.ins.index)
        for s in sources:
            copied = ctx.file_text(s.context_path) if s.kind == "copy" and s.context_path else None
            m = re.search(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", copied or "")
            if m:
                yield Skip(self.code, f"the copied {s.context_path} takes its token from the environment "
                           f"(${{{m.group(1)}}}), so the secret is the variable, not the file: pass it with "
                           f"RUN --mount=type=secret,id={m.group(1).lower()} and "
                           f"{m.group(1)}=$(cat /run/secrets/{m.group(1).lower()}) by hand", s.ins.line)
                return
        targets = {s.path for s in sources}
        if len(targets) != 1:
            yield Skip(self.code, "the .npmrc is put in more than one place in the stage", first.ins.line)
            return
        target = targets.pop()
        removal_idx = max((r[0].index for r in removals), default=None)
        if removal_idx is None:
            # the .npmrc stays: a stage built FROM this one may use it
            for st in doc.stages[stage.index + 1:]:
                if stage in doc.stage_chain(st)[1:] and any(_uses_pm(i) for i in st.instructions):
                    yield Skip(self.code, f"the .npmrc is never removed and stage {st.name or st.index} built from "
                               "this one may use it", first.ins.line)
                    return
        last_idx = removal_idx if removal_idx is not None else body[-1].index
        users = [i for i in body if i.keyword == "RUN" and first.ins.index <= i.index <= last_idx and _uses_pm(i)
                 and not (i.index == first.ins.index and first.kind == "copy")]
        # a RUN where the .npmrc is written: only the package-manager commands after the write count
        users = [i for i in users if not _only_before_write(i, sources)]
        if not users:
            yield Skip(self.code, "no npm/yarn/pnpm RUN uses the .npmrc between the line that adds it and the one "
                       "that removes it", first.ins.line)
            return

        write_texts = [doc.source[c.all_words[0].span.start:c.all_words[-1].span.end] for s in sources if s.kind == "write"
                       for c in s.cmds]
        if any("/run/secrets/" in t for t in write_texts) \
                and any(m.type == "secret" for s in sources for m in s.ins.mounts):
            return  # already written from a secret mount (this fix's token form): nothing to do
        npmrc_in_context = ctx.file_text(first.context_path) if first.kind == "copy" and first.context_path else None
        candidates = []
        for ins in _arg_env_in_scope(doc, stage):
            keys = ins.assignments
            secret = [(a.name, a.word) for a in keys if is_secret_name(a.name)]
            used = [(n, w) for n, w in secret if any(refers_to(t, n) for t in write_texts)]
            if used:
                candidates.append((ins, keys, used))
        token_ids = token_form(doc, sources, removals, users, candidates)

        edits: list[Edit] = []
        removed_ins: set[int] = set()
        per_ins_cmds: dict[int, list[ShellCommand]] = {}
        for s in sources:
            if s.kind == "write" and token_ids is None:
                per_ins_cmds.setdefault(s.ins.index, []).extend(s.cmds)
        for ins, c in removals:
            if token_ids is None:
                per_ins_cmds.setdefault(ins.index, []).append(c)
        for idx, ins_cmds in per_ins_cmds.items():
            ins = doc.instructions[idx]
            all_cmds: Sequence[ShellCommand] = ins.shell.simple_commands or []
            if len(ins_cmds) == len(all_cmds):
                edits.append(_delete_instruction(doc, ins))
                removed_ins.add(idx)
                continue
            e = _delete_commands(ins, all_cmds, ins_cmds)
            if e is None:
                yield Skip(self.code, f"the RUN on line {source_line(doc, ins.line)} chains the .npmrc commands with "
                                      f"`||`, `|` or `&`",
                           ins.line)
                return
            edits.extend(e)
        for s in sources:
            if s.kind != "copy":
                continue
            assert s.word is not None  # a "copy" source always names its word
            srcs = s.ins.words[:-1]
            if len(srcs) == 1:
                edits.append(_delete_instruction(doc, s.ins))
                removed_ins.add(s.ins.index)
            else:
                i = list(srcs).index(s.word)
                if i + 1 < len(srcs):
                    edits.append(Edit(s.word.span.start, srcs[i + 1].span.start, ""))
                else:
                    edits.append(Edit(srcs[i - 1].span.end, s.word.span.end, ""))

        # secret-named ARG/ENV whose only uses are the removed (or rewritten) writes
        kept_texts = _remaining_texts(doc, stage, sources, removals,
                                      removed_ins | {c[0].index for c in candidates if len(c[2]) == len(c[1])})
        build_args: list[str] = []
        for ins, keys, used in candidates:
            for n, _w in used:
                if any(refers_to(t, n) for t in kept_texts) or (npmrc_in_context and refers_to(npmrc_in_context, n)):
                    yield Skip(self.code, f"{ins.keyword} {n} on line {source_line(doc, ins.line)} is still used by other "
                                          f"lines, so the "
                               ".npmrc is not moved to a secret mount", ins.line)
                    return
                if ins.keyword == "ARG" and n not in build_args:
                    build_args.append(n)
            if len(used) == len(keys):
                edits.append(_delete_instruction(doc, ins))
            else:
                for _n, w in used:
                    ws = list(ins.words)
                    i = ws.index(w)
                    edits.append(Edit(ws[i - 1].span.end, w.span.end, "") if i > 0
                                 else Edit(w.span.start, ws[i + 1].span.start, ""))
            handled.add(ins.index)

        if token_ids is not None:
            # the token form: the .npmrc lines stay as the Dockerfile writes them (registry, scopes,
            # always-auth), only the token is read from the secret, in the RUN that removes the file
            run = sources[0].ins
            opt = _uid_option(doc, stage, run)
            if opt is None:
                yield Skip(self.code, f"the RUN on line {source_line(doc, run.line)} runs as `{_user_at(stage, run)}`, "
                                      f"whose uid is "
                           "unknown: the secret mount would not be readable", run.line)
                return
            mounts = "".join(f" --mount=type=secret,id={sid},required=true{opt}" for sid in dict.fromkeys(token_ids.values()))
            edits.append(Edit.insert(run.keyword_span.end, mounts))
            edits.append(guard_edit(doc, run, token_ids))
            for s in sources:
                for c in s.cmds:
                    edits.extend(token_edits(doc.source, c, token_ids))
            migrations = tuple(SecretMigration(n, token_ids[n]) for n in dict.fromkeys(token_ids))
            ids = ", ".join(f"`{sid}`" for sid in dict.fromkeys(token_ids.values()))
            yield Fix(self.code, f"read the npm token from the build secret {ids} in the RUN on line "
                                 f"{source_line(doc, run.line)} "
                      f"instead of the build argument {', '.join(dict.fromkeys(token_ids))}", first.ins.line,
                      tuple(edits), Applicability.UNSAFE,
                      notes=token_notes(token_ids, written_lines(c for s in sources for c in s.cmds)), secrets=migrations)
            return

        for ins in users:
            if ins.index in removed_ins:
                continue
            if any(m.get("id") == SECRET_ID for m in ins.mounts):
                continue
            opt = _uid_option(doc, stage, ins)
            if opt is None:
                user = _user_at(stage, ins)
                yield Skip(self.code, f"the RUN on line {source_line(doc, ins.line)} runs as `{user}`, whose uid is "
                                      f"unknown: the secret "
                           "mount would not be readable", ins.line)
                return
            edits.append(Edit.insert(ins.keyword_span.end,
                                     f" --mount=type=secret,id={SECRET_ID},target={target},required=true{opt}"))

        what = "a copied .npmrc" if first.kind == "copy" else "an .npmrc written by " + _words_of(first.cmds[0])[0]
        lines = ", ".join(str(i.line) for i in users)
        if first.kind == "write":
            content_lines = written_lines(c for s in sources for c in s.cmds)
        else:
            content_lines = npmrc_settings(npmrc_in_context)
        context_path = first.context_path if first.kind == "copy" else None
        content = "\n".join(content_lines)
        migrations = tuple(SecretMigration(n, SECRET_ID, "file", context_path, content) for n in build_args) \
            or (SecretMigration(None, SECRET_ID, "file", context_path, content),)
        yield Fix(self.code, f"mount the npm credentials as the build secret `{SECRET_ID}` at {target} on line "
                  f"{lines} instead of {what}", first.ins.line, tuple(edits), Applicability.UNSAFE,
                  notes=usage_notes(content_lines, context_path, first.kind == "write"), secrets=migrations)
        if first.kind == "copy" and context_path:
            ignore = dockerignore_fix(self.code, doc, ctx, first, context_path)
            if ignore is not None:
                yield ignore


# -- helpers -----------------------------------------------------------------------------------

def _words_of(cmd: ShellCommand) -> list[str]:
    """Every word of a command as the shell reads it (assignments and redirections included)."""
    return [w.value for w in cmd.all_words]


def _inherited_workdir(doc: Document, stage: Stage) -> str | None:
    for st in doc.stage_chain(stage)[1:]:
        wd = [i for i in st.instructions if i.keyword == "WORKDIR"]
        if wd:
            v = wd[-1].words[0].value if len(wd[-1].words) == 1 else "$"
            return None if "$" in v or not v.startswith("/") else v
    return None


def _copy_target(ins: Instruction, workdir: str | None, n_sources: int) -> str | None:
    dest = ins.words[-1].value
    if "$" in dest:
        return None
    is_dir = dest.endswith("/") or dest in (".", "./") or n_sources > 1
    if not is_dir and dest.rstrip("/").rsplit("/", 1)[-1] != ".npmrc":
        if workdir is not None and dest.startswith("/") and join_path("/", dest) == workdir:
            is_dir = True
        else:
            return None
    base = dest if dest.startswith("/") else (None if workdir is None else join_path(workdir, dest))
    if base is None:
        return "/root/.npmrc" if dest in (".", "./") and workdir is None else None
    return join_path(base, ".npmrc") if is_dir else join_path("/", base)


def _uses_pm(ins: Instruction) -> bool:
    if ins.keyword != "RUN":
        return False
    cmds = ins.shell.simple_commands
    if cmds is None:
        return False
    return any(_words_of(c) and _words_of(c)[0].rsplit("/", 1)[-1] in NPM_CONFIG_READERS for c in cmds)


def _only_before_write(ins: Instruction, sources: list[NpmrcSource]) -> bool:
    """True when every package-manager command of ``ins`` runs before the .npmrc is written in it."""
    writes = [c for s in sources if s.kind == "write" and s.ins.index == ins.index for c in s.cmds]
    if not writes:
        return False
    first_write = min(c.all_words[0].span.start for c in writes)
    cmds: Sequence[ShellCommand] = ins.shell.simple_commands or []
    return not any(_words_of(c)[0].rsplit("/", 1)[-1] in NPM_CONFIG_READERS and c.all_words[0].span.start > first_write
                   for c in cmds if c.all_words)


def _user_at(stage: Stage, ins: Instruction) -> str | None:
    user = None
    for i in stage.instructions:
        if i.index >= ins.index:
            break
        if i.keyword == "USER":
            user = i.args_text
    return user


def _uid_option(doc: Document, stage: Stage, ins: Instruction) -> str | None:
    user = _user_at(stage, ins)
    if user is None:
        inherited = effective_user(doc, doc.stage_chain(stage)[1]) if len(doc.stage_chain(stage)) > 1 else None
        user = inherited.args_text if inherited is not None else None
    if user is None or is_root_user(user):
        return ""
    name = user.split(":", 1)[0].strip()
    if name == "node":
        return ",uid=1000"
    if name.isdigit():
        return f",uid={name}"
    return None


def _arg_env_in_scope(doc: Document, stage: Stage) -> list[Instruction]:
    out = [i for i in doc.instructions if i.stage == -1 and i.keyword == "ARG"]
    out += [i for i in stage.instructions if i.keyword in ("ARG", "ENV")]
    return out


def _remaining_texts(doc: Document, stage: Stage, sources: list[NpmrcSource], removals, removed: set[int]) -> list[str]:
    """Texts of every instruction that may read a variable after the fix (removed parts left out)."""
    gone: list[Span] = []
    for s in sources:
        for c in s.cmds:
            gone.append(Span(c.all_words[0].span.start, c.all_words[-1].span.end))
    for _ins, c in removals:
        gone.append(Span(c.all_words[0].span.start, c.all_words[-1].span.end))
    texts = []
    scope = [i for i in doc.instructions if i.stage != -1]  # other stages may re-declare a global ARG
    for ins in scope:
        if ins.index in removed or ins.keyword == "ARG":
            continue
        src = doc.source
        pieces = []
        pos = ins.span.start
        for g in sorted(gone, key=lambda s: s.start):
            if ins.span.start <= g.start < ins.span.end:
                pieces.append(src[pos:g.start])
                pos = g.end
        pieces.append(src[pos:ins.span.end])
        text = "".join(pieces)
        if ins.keyword == "ENV":
            text = "".join(a.value or "" for a in ins.assignments)
        texts.append(text)
    return texts


def _delete_instruction(doc: Document, ins: Instruction) -> Edit:
    seg = next(s for s in doc.segments if s.kind == "instruction" and s.span.start == ins.span.start)
    start = doc.line_start(ins.line)
    if seg.text.endswith("\n"):
        return Edit(start, seg.span.end, "")
    # last line without a newline: take the newline before it instead
    prev = start - 1
    if prev > 0 and doc.source[prev - 1] == "\r":
        prev -= 1
    return Edit(max(prev, 0), seg.span.end, "")


def _delete_commands(ins: Instruction, all_cmds: Sequence[ShellCommand], gone: list[ShellCommand]) -> list[Edit] | None:
    """Edits removing ``gone`` commands from a chain joined by ``&&`` or ``;``."""
    edits = []
    gone_starts = {c.all_words[0].span.start for c in gone}
    gone = [c for c in all_cmds if c.all_words[0].span.start in gone_starts]
    gone_ids = {id(c) for c in gone}
    keep = [c for c in all_cmds if id(c) not in gone_ids]
    if not keep:
        return None
    for c in gone:
        for sep in (c.before, c.after):
            if sep is not None and sep.text not in ("&&", ";"):
                return None
    # group consecutive removed commands; delete each run with the separator that joins it
    i = 0
    n = len(all_cmds)
    while i < n:
        if id(all_cmds[i]) not in gone_ids:
            i += 1
            continue
        j = i
        while j + 1 < n and id(all_cmds[j + 1]) in gone_ids:
            j += 1
        if j + 1 < n:  # a kept command follows: delete from this run's start to its start
            edits.append(Edit(all_cmds[i].all_words[0].span.start, all_cmds[j + 1].all_words[0].span.start, ""))
        else:  # the run ends the chain: delete from the previous kept command's end
            edits.append(Edit(all_cmds[i - 1].all_words[-1].span.end, all_cmds[j].all_words[-1].span.end, ""))
        i = j + 1
    return edits
