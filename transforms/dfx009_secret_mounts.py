"""Pass npm registry credentials as a BuildKit secret mount, never through a layer.

## What it does
Finds the ways a Node.js Dockerfile usually hands an npm token to the install, and rewrites the
supported ones so the token never reaches a layer, the image history or the final image:

* an ``.npmrc`` copied from the build context (``COPY .npmrc package*.json ./``, also as one source
  of several) and deleted later (``rm -f .npmrc`` in the install ``RUN`` or a later one);
* an ``.npmrc`` written by ``echo``/``printf`` (``RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}"
  > .npmrc``, ``>>`` appends included), usually fed by a secret-named ``ARG``/``ENV``.

The rewrite: every ``RUN`` between the ``.npmrc`` appearing and its removal that runs npm, npx,
yarn, pnpm or bun gets ``--mount=type=secret,id=npmrc,target=<path>``, where ``<path>`` is where
the ``.npmrc`` used to be (``<WORKDIR>/.npmrc``; ``/root/.npmrc`` - the user config npm reads in
any directory - when the stage has no ``WORKDIR``; ``uid=1000`` is added when the ``RUN`` runs
as ``node``).  The ``COPY`` of the ``.npmrc`` goes (or just its source word), the ``echo``/``printf``
and ``rm`` commands go (``cmd && `` out of a chain, or the whole ``RUN`` when nothing else is
left), and so do the ``ARG``/``ENV`` lines whose only use was the removed ``echo``.  The fix's
notes give the build command: ``docker build --secret id=npmrc,src=$HOME/.npmrc .``, plus the
Docker Compose (``build: secrets:``) and GitHub Actions (``docker/build-push-action`` ``secrets:``)
equivalents.

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
 WORKDIR /app
-COPY .npmrc package.json package-lock.json ./
-RUN npm ci --omit=dev && rm -f .npmrc
+COPY package.json package-lock.json ./
+RUN --mount=type=secret,id=npmrc,target=/app/.npmrc npm ci --omit=dev
 COPY . .
 CMD ["node", "server.js"]
```
Build with ``docker build --secret id=npmrc,src=$HOME/.npmrc .`` (``DOCKER_BUILDKIT=1`` on
Docker 20.10-22; BuildKit is the default since 23.0).  Older BuildKit releases leave an empty
``/app/.npmrc`` mount point in the layer: empty, so nothing leaks.

## Fix safety
Unsafe: the build command changes.  A build without ``--secret id=npmrc,...`` still runs (the
mount is optional by default) but the install then has no credentials and fails on private
packages; CI pipelines and Compose files must pass the secret (see the notes of each fix).
The secret file must hold what the removed ``echo`` wrote, with the real token.
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
from dataclasses import dataclass, field
from typing import Iterable

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Instruction, Span, Stage, Word
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.secrets import is_secret_name, mask_secrets
from dockerfix.fixer.transform import Transform

from ._helpers import clean_context_path, effective_user, is_root_user, stage_chain

SECRET_ID = "npmrc"
_SEPARATORS = frozenset({"&&", ";", "||", "|", "&"})
_REDIRECT_RE = re.compile(r"^(\d?)(>>?|>\|)(.*)$")
_PM_TOOLS = frozenset({"npm", "npx", "yarn", "pnpm", "pnpx", "bun", "bunx", "corepack"})
_WRITERS = frozenset({"echo", "printf"})


def _var_refs(text: str, name: str) -> bool:
    return re.search(r"\$(?:\{" + re.escape(name) + r"(?:[:}?+-]|\}|$)|" + re.escape(name) + r"(?![A-Za-z0-9_]))",
                     text) is not None


@dataclass
class _Cmd:
    """One simple command of a shell-form RUN, with the separator words around it."""

    words: list[Word]
    before: Word | None = None  # separator word before (None for the first command)
    after: Word | None = None  # separator word after (None for the last)
    redirect_target: str | None = None
    redirect_append: bool = False

    @property
    def argv(self) -> list[str]:
        return [w.value for w in self.words]


def _commands(ins: Instruction) -> list[_Cmd] | None:
    """Split a shell-form RUN into simple commands; None when it uses shell syntax this pass does
    not take apart (subshells, ``if``, heredocs, exec form)."""
    if ins.keyword != "RUN" or ins.is_json or ins.heredocs:
        return None
    cmds: list[_Cmd] = []
    cur = _Cmd([])
    pending_redirect: tuple[bool] | None = None
    for w in ins.words:
        t = w.text
        if t in _SEPARATORS:
            if not cur.words:
                return None
            cur.after = w
            cmds.append(cur)
            cur = _Cmd([], before=w)
            continue
        if t in ("(", ")", "{", "}", "if", "then", "fi", "for", "while", "do", "done", "case", "esac", ";;") \
                or t.endswith(";") or t.startswith("<<"):
            return None
        if pending_redirect is not None:
            cur.redirect_target, cur.redirect_append = w.value, pending_redirect[0]
            cur.words.append(w)
            pending_redirect = None
            continue
        m = _REDIRECT_RE.match(t)
        if m and m.group(1) in ("", "1"):
            cur.words.append(w)
            if m.group(3):
                cur.redirect_target, cur.redirect_append = w.value[len(m.group(1)) + len(m.group(2)):], m.group(2) == ">>"
            else:
                pending_redirect = (m.group(2) == ">>",)
            continue
        cur.words.append(w)
    if cur.words:
        cmds.append(cur)
    elif cur.before is not None:
        return None
    return cmds


@dataclass
class _Source:
    """Where a stage's .npmrc comes from."""

    kind: str  # "copy" | "write"
    ins: Instruction
    path: str  # absolute path in the image
    word: Word | None = None  # the COPY source word
    cmds: list[_Cmd] = field(default_factory=list)  # the echo/printf commands (kind == "write")
    context_path: str | None = None  # the .npmrc's path in the build context (kind == "copy")


class SecretMounts(Transform):
    code = "DFX009"
    name = "secret-mounts"
    summary = "Pass npm credentials as a BuildKit secret mount instead of ARG/ENV or a copied .npmrc"
    default_applicability = Applicability.UNSAFE
    related = ("SecretsUsedInArgOrEnv", "DL3064", "DS031", "DS-0031", "AVD-DS-0031")

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
            for name, _w, _value in _keys(ins):
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
        sources: list[_Source] = []
        removals: list[tuple[Instruction, _Cmd]] = []
        problems: list[tuple[int, str]] = []
        for ins in body:
            if ins.keyword == "WORKDIR":
                val = ins.words[0].value if len(ins.words) == 1 else None
                if val is None or "$" in val:
                    workdir_known = False
                else:
                    workdir = val if val.startswith("/") else _join(workdir or "/", val)
                continue
            if ins.keyword in ("COPY", "ADD") and ins.flag("from") is None:
                npmrc_words = [w for w in (ins.words[:-1] if not ins.is_json else ())
                               if w.value.rstrip("/").rsplit("/", 1)[-1] == ".npmrc"]
                if ins.is_json and any(v.rstrip("/").rsplit("/", 1)[-1] == ".npmrc" for v in (ins.json_args or ())[:-1]):
                    problems.append((ins.line, f"the JSON-form {ins.keyword} on line {source_line(doc, ins.line)} copies an .npmrc"))
                    continue
                if not npmrc_words:
                    continue
                dest = _copy_target(ins, workdir if workdir_known else None, len(ins.words) - 1)
                if dest is None:
                    problems.append((ins.line, f"cannot tell where {ins.keyword} on line {source_line(doc, ins.line)} puts the .npmrc"))
                    continue
                if len(npmrc_words) > 1 or ins.flags and any(f.name not in ("chown", "chmod", "link") for f in ins.flags):
                    problems.append((ins.line, f"{ins.keyword} on line {source_line(doc, ins.line)} is not a plain copy of one .npmrc"))
                    continue
                sources.append(_Source("copy", ins, dest, word=npmrc_words[0],
                                       context_path=clean_context_path(npmrc_words[0].value)))
                continue
            if ins.keyword != "RUN":
                continue
            text = ins.logical + "".join(h.body for h in ins.heredocs)
            if ".npmrc" not in text and "_authToken" not in text:
                continue
            cmds = _commands(ins)
            if cmds is None:
                problems.append((ins.line, f"the RUN on line {source_line(doc, ins.line)} touches .npmrc with shell syntax this fix "
                                 "does not rewrite"))
                continue
            writes: list[_Cmd] = []
            for c in cmds:
                argv = c.argv
                prog = argv[0].rsplit("/", 1)[-1] if argv else ""
                target = c.redirect_target
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
                    if prog in _PM_TOOLS and not any("_authToken" in a or a.endswith(".npmrc") for a in argv):
                        continue
                    problems.append((ins.line, f"`{' '.join(argv[:3])}` on line {source_line(doc, ins.line)} uses the .npmrc in a way "
                                     "this fix does not rewrite"))
            if writes:
                user = _user_at(stage, ins)
                paths = {_resolve(w.redirect_target or "", workdir if workdir_known else None, user) for w in writes}
                if None in paths or len(paths) != 1:
                    problems.append((ins.line, f"cannot tell where the RUN on line {source_line(doc, ins.line)} writes the .npmrc"))
                    continue
                sources.append(_Source("write", ins, paths.pop(), cmds=writes))

        if not sources and not removals and not problems:
            return
        if problems or not sources:
            if not problems:
                ins, _c = removals[0]
                problems.append((ins.line, f"the .npmrc removed on line {source_line(doc, ins.line)} was not copied or written in "
                                 "this stage in a way this fix recognises (a `COPY . .` copies it, for instance)"))
            for line, why in problems:
                yield Skip(self.code, f".npmrc credentials not moved to a secret mount: {why}", line)
            yield Fix(self.code, "an .npmrc with registry credentials is put into a layer; pass it with "
                      "RUN --mount=type=secret,id=npmrc,target=<path> instead", problems[0][0],
                      applicability=Applicability.DISPLAY_ONLY, notes=_usage_notes(None))
            return

        first = min(sources, key=lambda s: s.ins.index)
        for s in sources:
            text = ctx.file_text(s.context_path) if s.kind == "copy" and s.context_path else None
            m = re.search(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text or "")
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
                if stage in stage_chain(doc, st)[1:] and any(_uses_pm(i) for i in st.instructions):
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

        edits: list[Edit] = []
        removed_ins: set[int] = set()
        per_ins_cmds: dict[int, list[_Cmd]] = {}
        for s in sources:
            if s.kind == "write":
                per_ins_cmds.setdefault(s.ins.index, []).extend(s.cmds)
        for ins, c in removals:
            per_ins_cmds.setdefault(ins.index, []).append(c)
        for idx, cmds in per_ins_cmds.items():
            ins = doc.instructions[idx]
            all_cmds = _commands(ins) or []
            if len(cmds) == len(all_cmds):
                edits.append(_delete_instruction(doc, ins))
                removed_ins.add(idx)
                continue
            e = _delete_commands(ins, all_cmds, cmds)
            if e is None:
                yield Skip(self.code, f"the RUN on line {source_line(doc, ins.line)} chains the .npmrc commands with `||`, `|` or `&`",
                           ins.line)
                return
            edits.extend(e)
        for s in sources:
            if s.kind != "copy":
                continue
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

        # secret-named ARG/ENV whose only uses are the removed writes
        write_texts = [doc.source[c.words[0].span.start:c.words[-1].span.end] for s in sources if s.kind == "write"
                       for c in s.cmds]
        npmrc_in_context = ctx.file_text(first.context_path) if first.kind == "copy" and first.context_path else None
        candidates = []
        for ins in _arg_env_in_scope(doc, stage):
            keys = _keys(ins)
            secret = [(n, w) for n, w, _v in keys if is_secret_name(n)]
            used = [(n, w) for n, w in secret if any(_var_refs(t, n) for t in write_texts)]
            if used:
                candidates.append((ins, keys, used))
        kept_texts = _remaining_texts(doc, stage, sources, removals,
                                      removed_ins | {c[0].index for c in candidates if len(c[2]) == len(c[1])})
        for ins, keys, used in candidates:
            for n, _w in used:
                if any(_var_refs(t, n) for t in kept_texts) or (npmrc_in_context and _var_refs(npmrc_in_context, n)):
                    yield Skip(self.code, f"{ins.keyword} {n} on line {source_line(doc, ins.line)} is still used by other lines, so the "
                               ".npmrc is not moved to a secret mount", ins.line)
                    return
            if len(used) == len(keys):
                edits.append(_delete_instruction(doc, ins))
            else:
                for n, w in used:
                    ws = list(ins.words)
                    i = ws.index(w)
                    edits.append(Edit(ws[i - 1].span.end, w.span.end, "") if i > 0 else Edit(w.span.start, ws[i + 1].span.start, ""))
            handled.add(ins.index)

        for ins in users:
            if ins.index in removed_ins:
                continue
            if any(f.name == "mount" and f"id={SECRET_ID}" in (f.value or "") for f in ins.flags):
                continue
            opt = _uid_option(doc, stage, ins)
            if opt is None:
                user = _user_at(stage, ins)
                yield Skip(self.code, f"the RUN on line {source_line(doc, ins.line)} runs as `{user}`, whose uid is unknown: the secret "
                           "mount would not be readable", ins.line)
                return
            edits.append(Edit.insert(ins.keyword_span.end, f" --mount=type=secret,id={SECRET_ID},target={target}{opt}"))

        what = "a copied .npmrc" if first.kind == "copy" else "an .npmrc written by " + first.cmds[0].argv[0]
        lines = ", ".join(str(i.line) for i in users)
        content = None
        if first.kind == "write":
            content = " / ".join(" ".join(c.argv[1:]).split(">")[0].strip() for s in sources if s.kind == "write"
                                 for c in s.cmds)
        yield Fix(self.code, f"mount the npm credentials as the build secret `{SECRET_ID}` at {target} on line "
                  f"{lines} instead of {what}", first.ins.line, tuple(edits), Applicability.UNSAFE,
                  notes=_usage_notes(content, first.context_path if first.kind == "copy" else None))


# -- helpers -----------------------------------------------------------------------------------

def _keys(ins: Instruction) -> list[tuple[str, Word, str | None]]:
    """(name, word, value) of an ARG/ENV; legacy ``ENV NAME value`` gives one pair."""
    if ins.keyword == "ARG":
        return [(w.value.split("=", 1)[0], w, w.value.split("=", 1)[1] if "=" in w.value else None) for w in ins.words]
    if ins.words and "=" not in ins.words[0].value:
        return [(ins.words[0].value, ins.words[0], " ".join(w.value for w in ins.words[1:]))] if ins.words else []
    return [(w.value.split("=", 1)[0], w, w.value.split("=", 1)[1]) for w in ins.words if "=" in w.value]


def _join(base: str, rel: str) -> str:
    import posixpath
    return posixpath.normpath(posixpath.join(base, rel))


def _inherited_workdir(doc: Document, stage: Stage) -> str | None:
    for st in stage_chain(doc, stage)[1:]:
        wd = [i for i in st.instructions if i.keyword == "WORKDIR"]
        if wd:
            v = wd[-1].words[0].value if len(wd[-1].words) == 1 else "$"
            return None if "$" in v or not v.startswith("/") else v
    return None


def _home(user: str | None) -> str | None:
    if user is None or is_root_user(user):
        return "/root"
    if user.split(":", 1)[0] in ("node", "1000"):
        return "/home/node"
    return None


def _resolve(path: str, workdir: str | None, user: str | None = None) -> str | None:
    for home in ("~/", "$HOME/", "${HOME}/"):
        if path.startswith(home):
            h = _home(user)
            return None if h is None else _join(h, path[len(home):])
    if "$" in path:
        return None
    if path.startswith("/"):
        return _join("/", path)
    if workdir is None:
        # no WORKDIR: npm reads the user config (~/.npmrc) from any directory
        h = _home(user)
        return None if h is None else _join(h, ".npmrc") if clean_context_path(path) == ".npmrc" else None
    return _join(workdir, path)


def _copy_target(ins: Instruction, workdir: str | None, n_sources: int) -> str | None:
    dest = ins.words[-1].value
    if "$" in dest:
        return None
    is_dir = dest.endswith("/") or dest in (".", "./") or n_sources > 1
    if not is_dir and dest.rstrip("/").rsplit("/", 1)[-1] != ".npmrc":
        if workdir is not None and dest.startswith("/") and _join("/", dest) == workdir:
            is_dir = True
        else:
            return None
    base = dest if dest.startswith("/") else (None if workdir is None else _join(workdir, dest))
    if base is None:
        return "/root/.npmrc" if dest in (".", "./") and workdir is None else None
    return _join(base, ".npmrc") if is_dir else _join("/", base)


def _uses_pm(ins: Instruction) -> bool:
    if ins.keyword != "RUN":
        return False
    cmds = _commands(ins)
    if cmds is None:
        return False
    return any(c.argv and c.argv[0].rsplit("/", 1)[-1] in _PM_TOOLS for c in cmds)


def _only_before_write(ins: Instruction, sources: list[_Source]) -> bool:
    """True when every package-manager command of ``ins`` runs before the .npmrc is written in it."""
    writes = [c for s in sources if s.kind == "write" and s.ins.index == ins.index for c in s.cmds]
    if not writes:
        return False
    first_write = min(c.words[0].span.start for c in writes)
    cmds = _commands(ins) or []
    return not any(c.argv and c.argv[0].rsplit("/", 1)[-1] in _PM_TOOLS and c.words[0].span.start > first_write
                   for c in cmds)


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
        inherited = effective_user(doc, stage_chain(doc, stage)[1]) if len(stage_chain(doc, stage)) > 1 else None
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


def _remaining_texts(doc: Document, stage: Stage, sources: list[_Source], removals, removed: set[int]) -> list[str]:
    """Texts of every instruction that may read a variable after the fix (removed parts left out)."""
    gone: list[Span] = []
    for s in sources:
        for c in s.cmds:
            gone.append(Span(c.words[0].span.start, c.words[-1].span.end))
    for _ins, c in removals:
        gone.append(Span(c.words[0].span.start, c.words[-1].span.end))
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
            text = "".join(v or "" for _n, _w, v in _keys(ins))
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


def _delete_commands(ins: Instruction, all_cmds: list[_Cmd], gone: list[_Cmd]) -> list[Edit] | None:
    """Edits removing ``gone`` commands from a chain joined by ``&&`` or ``;``."""
    edits = []
    gone_starts = {c.words[0].span.start for c in gone}
    gone = [c for c in all_cmds if c.words[0].span.start in gone_starts]
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
            edits.append(Edit(all_cmds[i].words[0].span.start, all_cmds[j + 1].words[0].span.start, ""))
        else:  # the run ends the chain: delete from the previous kept command's end
            edits.append(Edit(all_cmds[i - 1].words[-1].span.end, all_cmds[j].words[-1].span.end, ""))
        i = j + 1
    return edits


def _usage_notes(content: str | None, context_path: str | None = None) -> tuple[str, ...]:
    src = "$HOME/.npmrc" if context_path is None else f"./{context_path}"
    notes = [
        f"build with: docker build --secret id={SECRET_ID},src={src} .  (BuildKit; DOCKER_BUILDKIT=1 on Docker "
        "20.10-22; no `# syntax=` line is needed for type=secret with target=)",
    ]
    if content:
        # the content may hold a literal token: never echo it into a report, a log or a PR body
        notes.append("the secret file is the .npmrc the removed step wrote, with the real token: "
                     + mask_secrets(content))
    elif context_path:
        notes.append(f"keep {context_path} out of git and out of the build context (.dockerignore); it is now only "
                     "read as a secret")
    notes.append(f"docker compose: services.<app>.build.secrets: [{SECRET_ID}] and top-level "
                 f"secrets: {{{SECRET_ID}: {{file: {src}}}}}")
    notes.append(f"GitHub Actions (docker/build-push-action): secrets: | {SECRET_ID}=//registry.npmjs.org/:_authToken="
                 "${{ secrets.NPM_TOKEN }}  (or secret-files: " + f"{SECRET_ID}={src})")
    return tuple(notes)
