"""The command the final image starts with: ENTRYPOINT/CMD of the final stage chain, inits
wrapped around it, ``npm start``-style runners and the ``node <file>`` they resolve to."""

from __future__ import annotations

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Instruction

from ._shell import SHELLS, plain_words, programs_in, shell_reason

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


def start_script_command(ctx: Context, runner: str = "npm") -> tuple[list[str] | None, str]:
    """The argv ``<runner> start`` ends up running, when it is a plain ``node <file> [args]``.

    Returns ``(argv, description)`` on success and ``(None, reason)`` otherwise.  A missing
    ``scripts.start`` means ``node server.js`` for npm and pnpm (their documented default) when
    ``server.js`` exists in the build context.  ``prestart``/``poststart`` scripts, environment
    assignments, ``&&`` chains, ``nodemon``/``ts-node`` and the like are not plain."""
    if ctx.package is None:
        return None, ctx.package_error or "no package.json in the build context"
    scripts = ctx.package.scripts
    hooks = [h for h in ("prestart", "poststart") if h in scripts]
    if hooks:
        return None, f"package.json also has {' and '.join('scripts.' + h for h in hooks)}, which `{runner} start` runs too"
    start = scripts.get("start")
    if start is None:
        if runner in ("npm", "pnpm") and ctx.read_file("server.js") is not None:
            return ["node", "server.js"], f"`{runner} start` without scripts.start runs `node server.js`"
        return None, "package.json has no scripts.start"
    words = plain_words(start)
    if words is None or words[0] != "node" or node_entry_file(words) is None:
        why = shell_reason(start)
        detail = f"it {why}" if why else "not a plain `node <file>` command"
        return None, f"scripts.start is `{start}`: {detail}"
    return words, f"scripts.start is `{start}`"


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
