"""The command the final image starts with: ENTRYPOINT/CMD of the final stage chain, inits
wrapped around it, ``npm start``-style runners and the ``node <file>`` they resolve to."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.document import Document, Instruction, Stage
from dockerfix.fixer.workspaces import package_for_folder, workspace_patterns

from ._pkgmanagers import PM_BUILTINS, yarn_berry_evidence
from ._shell import SHELLS, plain_words, programs_in, shell_reason
from ._stages import copy_sources, expand_args, stage_by_name

#: Programs that already are an init, by the basename of the first argv word.
INITS = frozenset({"dumb-init", "tini", "tini-static", "docker-init", "catatonit", "init", "s6-svscan"})


def argv_of(ins: Instruction | None) -> list[str] | None:
    """The argv of a CMD/ENTRYPOINT: its JSON array, or its words when they are plain (None
    when the shell form needs a shell)."""
    if ins is None:
        return None
    if ins.is_json:
        return list(ins.json_args or ())
    return plain_words(ins.args_text)


def final_command(doc: Document) -> tuple[Instruction | None, Instruction | None]:
    """(ENTRYPOINT, CMD) the image starts with: the last of each in the final stage or the stages
    it is built ``FROM`` (a stage's own instruction wins over an inherited one)."""
    final = doc.final_stage
    if final is None:
        return None, None
    instrs = [i for st in doc.stage_chain(final) for i in st.instructions]
    ep = max((i for i in instrs if i.keyword == "ENTRYPOINT"), key=lambda i: i.index, default=None)
    cmd = max((i for i in instrs if i.keyword == "CMD"), key=lambda i: i.index, default=None)
    return ep, cmd


def command_words(ins: Instruction) -> list[str]:
    """The words of a CMD/ENTRYPOINT for detection (which program, which file): its argv, or a
    plain whitespace split when the shell form needs a shell.  Never for writing an argv back."""
    argv = argv_of(ins)
    return argv if argv else ins.args_text.split()


def unwrap_shell_c(argv: list[str]) -> list[str]:
    """``["sh", "-c", "tsc && node x"]`` -> the script's blank-separated words (operators kept, for
    detection and messages); any other argv as it is."""
    if argv[:2] in (["sh", "-c"], ["/bin/sh", "-c"]) and len(argv) > 2:
        return argv[2].split()
    return argv


def is_init(argv: list[str] | None) -> bool:
    return argv is not None and len(argv) > 0 and argv[0].rsplit("/", 1)[-1] in INITS


def strip_init(argv: list[str]) -> list[str]:
    """``["dumb-init", "--", "node", "x"]`` -> ``["node", "x"]`` (the init's own options too)."""
    if not is_init(argv):
        return argv
    rest = argv[1:]
    while rest and rest[0].startswith("-"):
        stop = rest[0] == "--"
        rest = rest[1:]
        if stop:
            break
    return rest



#: ``CMD`` argv forms that run the ``start`` script of package.json.
_START_FORMS = {
    ("npm", "start"): "npm", ("npm", "run", "start"): "npm", ("npm", "run-script", "start"): "npm",
    ("yarn", "start"): "yarn", ("yarn", "run", "start"): "yarn",
    ("pnpm", "start"): "pnpm", ("pnpm", "run", "start"): "pnpm",
}


def start_script_runner(argv: list[str] | tuple[str, ...]) -> str | None:
    """``"npm"``/``"yarn"``/``"pnpm"`` when ``argv`` is exactly a ``start`` invocation of that
    package manager (``npm start``, ``npm run start``, ``yarn start``, ``pnpm start``...)."""
    return _START_FORMS.get(tuple(argv))


@dataclass(frozen=True)
class ScriptRun:
    """A package.json script run by a CMD: ``runner`` (npm, yarn, pnpm) and the script's name."""

    runner: str
    script: str


def script_invocation(argv: list[str] | tuple[str, ...] | None) -> ScriptRun | None:
    """The script a plain ``npm start`` / ``npm run X`` / ``npm run-script X`` / ``yarn X`` /
    ``yarn run X`` / ``pnpm X`` / ``pnpm run X`` argv runs (``npm run start:prod`` ->
    ``ScriptRun("npm", "start:prod")``); None for anything else (options, extra arguments,
    workspace selectors, package-manager built-ins such as ``yarn install``)."""
    if not argv or len(argv) < 2 or any(a.startswith("-") for a in argv):
        return None
    tool = argv[0].rsplit("/", 1)[-1]
    if tool not in ("npm", "yarn", "pnpm"):
        return None
    if len(argv) == 2:
        sub = argv[1]
        if tool == "npm":
            return ScriptRun("npm", "start") if sub == "start" else None
        return None if sub in PM_BUILTINS else ScriptRun(tool, sub)
    if len(argv) == 3 and argv[1] in (("run", "run-script") if tool == "npm" else ("run",)):
        return ScriptRun(tool, argv[2])
    return None


def start_script_command(ctx: Context, runner: str = "npm", script: str = "start",
                         package: PackageJson | None = None, folder: str = "") -> tuple[list[str] | None, str]:
    """The argv ``<runner> run <script>`` ends up running, when it is a plain ``node <file> [args]``.

    ``package`` is the package.json whose scripts count (default: the context root's; in a
    workspace the one of the folder the CMD runs in, ``folder`` relative to the context).  Returns
    ``(argv, description)`` on success and ``(None, reason)`` otherwise.  A missing
    ``scripts.start`` means ``node server.js`` for npm and pnpm (their documented default) when
    ``server.js`` exists there.  ``pre<script>``/``post<script>`` scripts, environment
    assignments, ``&&`` chains, ``nodemon``/``ts-node`` and the like are not plain."""
    pkg = package if package is not None else ctx.package
    if pkg is None:
        return None, ctx.missing_package
    if runner == "yarn":
        pnp = plug_n_play(ctx)
        if pnp:
            return None, (f"the project runs yarn berry ({pnp}) with Plug'n'Play, which installs no node_modules: "
                          f"plain `node` could not load the dependencies that `yarn {script}` finds")
    scripts = pkg.scripts
    hooks = [h for h in (f"pre{script}", f"post{script}") if h in scripts]
    if hooks:
        return None, (f"package.json also has {' and '.join('scripts.' + h for h in hooks)}, which "
                      f"`{runner} {'start' if script == 'start' else 'run ' + script}` runs too")
    body = scripts.get(script)
    if body is None:
        server = f"{folder}/server.js" if folder else "server.js"
        if script == "start" and runner in ("npm", "pnpm") and ctx.read_file(server) is not None:
            return ["node", "server.js"], f"`{runner} start` without scripts.start runs `node server.js`"
        return None, f"package.json has no scripts.{script}"
    words = plain_words(body)
    if words is None or words[0] != "node" or node_entry_file(words) is None:
        why = shell_reason(body)
        detail = f"it {why}" if why else "not a plain `node <file>` command"
        return None, f"scripts.{script} is `{body}`: {detail}"
    return words, f"scripts.{script} is `{body}`"


_NODE_LINKER = re.compile(r"""^nodeLinker:\s*["']?([\w-]+)""", re.M)


def plug_n_play(ctx: Context) -> str | None:
    """The evidence that ``yarn`` runs the project with Plug'n'Play (yarn 2+'s default linker,
    which writes ``.pnp.cjs`` instead of ``node_modules``), or None.  Berry is recognised from a
    berry lockfile, ``packageManager: yarn@2+``, ``.yarnrc.yml`` or a committed
    ``.yarn/releases/yarn-*``; ``nodeLinker: node-modules`` (or ``pnpm``) in ``.yarnrc.yml`` turns
    Plug'n'Play off (https://yarnpkg.com/configuration/yarnrc#nodeLinker)."""
    why = yarn_berry_evidence(ctx, lockfile=True)
    if why is None:
        return None
    linker = _NODE_LINKER.search(ctx.yarnrc_yml or "")
    if linker and linker.group(1) in ("node-modules", "pnpm"):
        return None
    return why + (", nodeLinker: pnp" if linker else ", no nodeLinker in .yarnrc.yml")


def script_command(doc: Document, ctx: Context, argv: list[str] | tuple[str, ...] | None
                   ) -> tuple[ScriptRun | None, list[str] | None, str]:
    """For a CMD argv that runs a package.json script (``npm start``, ``npm run start:prod``,
    ``yarn serve``...): ``(run, node_argv, why)`` with the plain ``node <file>`` argv the script
    comes down to, or ``(run, None, reason)``.  ``(None, None, "")`` when ``argv`` runs no script.
    The scripts are those of the package.json the final WORKDIR selects (see :func:`final_package`)."""
    run = script_invocation(argv)
    if run is None:
        return None, None, ""
    package, folder, why = final_package(doc, ctx)
    if why:
        return run, None, why
    resolved, why = start_script_command(ctx, run.runner, run.script, package, folder)
    return run, resolved, why


def node_entry_file(argv: list[str] | tuple[str, ...]) -> str | None:
    """The script file of a ``node [options] <file> [args]`` argv (options taking a value, such as
    ``-r mod``, are skipped); None for ``node -e ...``, the REPL or a non-node command."""
    if not argv or argv[0].rsplit("/", 1)[-1] != "node":
        return None
    takes_value = {"-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file",
                   "--title", "--conditions", "-C", "--inspect-port", "--max-old-space-size"}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("-e", "--eval", "-p", "--print", "-i", "--interactive", "-"):
            return None
        if a == "--":
            return argv[i + 1] if i + 1 < len(argv) else None
        if a.startswith("-"):
            i += 2 if a in takes_value else 1
            continue
        return a
    return None


def argv_programs(argv: list[str]) -> list[str]:
    """Programs an exec-form argv runs (``sh -c "..."`` looked into)."""
    while is_init(argv):
        argv = strip_init(argv)
    if not argv:
        return []
    prog = argv[0].rsplit("/", 1)[-1]
    if prog in SHELLS and len(argv) > 2 and argv[1] == "-c":
        return [prog] + programs_in(argv[2])
    return programs_in(" ".join(argv))


# -- which package.json counts: the WORKDIR, mapped back to a folder of the build context ---------

def workdir_at(doc: Document, stage: Stage, before: int | None = None) -> str | None:
    """The absolute WORKDIR in effect in ``stage`` (before instruction index ``before``, else at its
    end), following the FROM chain; None when a WORKDIR uses a variable that cannot be expanded."""
    wd = "/"
    for st in reversed(doc.stage_chain(stage)):
        for ins in st.instructions:
            if before is not None and st is stage and ins.index >= before:
                break
            if ins.keyword != "WORKDIR" or not ins.words:
                continue
            value: str | None = ins.words[0].value
            if value is not None and "$" in value:
                value = expand_args(doc, value, st)
                if value is None or "$" in value:
                    return None
            wd = posixpath.normpath(posixpath.join(wd, value or ""))
    return wd


def _copy_mappings(doc: Document, ctx: Context, stage: Stage, before: int | None,
                   depth: int) -> list[tuple[str, str]]:
    """(image folder, context folder) pairs the COPY lines of ``stage``'s chain establish, latest
    last: ``COPY . .`` maps the WORKDIR to the context root, ``COPY packages/api ./api`` maps
    ``./api`` to ``packages/api``, ``COPY package*.json ./`` maps the WORKDIR to the root's
    package.json, and ``COPY --from=build /app /app`` follows the other stage."""
    out: list[tuple[str, str]] = []
    for st in reversed(doc.stage_chain(stage)):
        for ins in st.instructions:
            if before is not None and st is stage and ins.index >= before:
                break
            srcs = copy_sources(ins)
            if not srcs:
                continue
            wd = workdir_at(doc, st, ins.index)
            dest = ins.words[-1].value
            if wd is None or "$" in dest:
                continue
            dest_dir = posixpath.normpath(posixpath.join(wd, dest))
            src_from = ins.flag("from")
            for w in srcs:
                v = w.value
                if "$" in v or any(ch in v for ch in "*?["):
                    folder = posixpath.dirname(v[2:] if v.startswith("./") else v)
                    if (v.rsplit("/", 1)[-1].startswith("package") and src_from is None and "$" not in v
                            and not any(ch in folder for ch in "*?[")):
                        # package*.json ./ : the folder gets the context folder's package.json
                        out.append((dest_dir, folder))
                    continue
                if src_from is not None:
                    other = stage_by_name(doc, src_from.value or "")
                    if other is None or other.index >= stage.index or depth > 3 or not v.startswith("/"):
                        continue
                    followed = context_folder(doc, ctx, other, posixpath.normpath(v), depth=depth + 1)
                    if followed is not None:
                        out.append((dest_dir, followed))
                    continue
                rel = v.replace("\\", "/")
                while rel.startswith("./"):
                    rel = rel[2:]
                rel = rel.strip("/")
                rel = "" if rel in ("", ".") else posixpath.normpath(rel)
                if rel == "" or ctx.files.exists(rel) and rel in ctx.files.dirs:
                    out.append((dest_dir, rel))  # a folder: its contents land in dest
                elif rel.endswith("package.json"):
                    into = dest_dir if (dest.endswith("/") or dest in (".", "./") or len(srcs) > 1) \
                        else posixpath.dirname(dest_dir)
                    out.append((into, posixpath.dirname(rel)))
    return out


def context_folder(doc: Document, ctx: Context, stage: Stage, path: str, before: int | None = None,
                   depth: int = 0) -> str | None:
    """The build-context folder that image folder ``path`` of ``stage`` holds (``""``: the context
    root), from the COPY lines before ``before``; None when they do not tell."""
    for dest, folder in reversed(_copy_mappings(doc, ctx, stage, before, depth)):
        if path == dest or path.startswith(dest.rstrip("/") + "/"):
            rest = posixpath.relpath(path, dest)
            return folder if rest == "." else posixpath.normpath(posixpath.join(folder, rest)) if folder else rest
    return None


def package_at(doc: Document, ctx: Context, stage: Stage, before: int | None = None
               ) -> tuple[PackageJson | None, str, str | None]:
    """``(package, folder, reason)``: the package.json whose scripts count for a command run in
    ``stage`` (before instruction index ``before``, else where its CMD runs) and its context folder.

    Outside a workspace that is the context root's package.json.  In an npm/yarn/pnpm workspace it
    is the package the WORKDIR holds (``WORKDIR /app/packages/api`` after ``COPY . /app``:
    packages/api/package.json); ``reason`` names the missing fact when that cannot be told."""
    if ctx.package is None:
        return None, "", ctx.missing_package
    if workspace_patterns(ctx.files, ctx.package) is None:
        return ctx.package, "", None
    wd = workdir_at(doc, stage, before)
    folder = context_folder(doc, ctx, stage, wd, before) if wd is not None else None
    if folder is None:
        return None, "", (f"the build context is a workspace and the COPY lines do not tell which package the "
                          f"WORKDIR {wd or '(a variable)'} holds")
    pkg, reason = package_for_folder(ctx.files, folder, ctx.package)
    return pkg, folder, reason


def final_package(doc: Document, ctx: Context) -> tuple[PackageJson | None, str, str | None]:
    """:func:`package_at` for the final stage's start command."""
    final = doc.final_stage
    if final is None:
        return ctx.package, "", None
    return package_at(doc, ctx, final)


#: Options that make npm/yarn/pnpm run in another package or folder (their value is the next word
#: or follows ``=``).
_SELECTORS = {"-w": "ws", "--workspace": "ws", "--filter": "ws", "-F": "ws",
              "--prefix": "dir", "-C": "dir", "--dir": "dir", "--cwd": "dir"}


def selected_package(ctx: Context, argv: list[str] | tuple[str, ...], folder: str = ""
                     ) -> tuple[list[str], PackageJson | None, str | None] | None:
    """A start command that picks another package (``yarn workspace api start``, ``npm start -w
    api``, ``pnpm --filter api start``, ``npm --prefix packages/api start``): ``(argv without the
    selector, that package.json, None)``, or ``(argv, None, reason)`` when it cannot be found in
    the build context.  None when ``argv`` selects nothing (the WORKDIR's package counts)."""
    argv = list(argv)
    if not argv or argv[0].rsplit("/", 1)[-1] not in ("npm", "yarn", "pnpm"):
        return None
    target: tuple[str, str] | None = None
    rest: list[str] = [argv[0]]
    i = 1
    if argv[0].rsplit("/", 1)[-1] == "yarn" and len(argv) > 2 and argv[1] == "workspace":
        target, i = ("ws", argv[2]), 3
    while i < len(argv):
        a = argv[i]
        key, eq, val = a.partition("=")
        if key in _SELECTORS and target is None:
            if eq:
                target = (_SELECTORS[key], val)
            elif i + 1 < len(argv):
                target = (_SELECTORS[key], argv[i + 1])
                i += 1
            else:
                return argv, None, f"`{' '.join(argv)}` names no package after {key}"
        else:
            rest.append(a)
        i += 1
    if target is None:
        return None
    kind, value = target
    base = posixpath.normpath(posixpath.join(folder or ".", value))
    base = "" if base == "." else base
    if kind == "dir" or ctx.files.exists(f"{base}/package.json"):
        pkg, why = package_for_folder(ctx.files, base, ctx.package)
        return rest, pkg, why
    patterns = workspace_patterns(ctx.files, ctx.package)
    if patterns is None:
        return argv, None, f"`{' '.join(argv)}` selects the workspace {value!r}, but the root package.json has no workspaces"
    from dockerfix.fixer.workspaces import read_package, workspace_folders

    for f in workspace_folders(ctx.files, patterns):
        pkg = read_package(ctx.files, f).package
        if pkg is not None and pkg.data.get("name") == value:
            return rest, pkg, None
    return argv, None, f"no workspace package named {value!r} in the build context"
