"""The role of the final stage (``fixer.roles``) as the hardening transforms use it: NODE_ENV, a
non-root USER and an init belong in an application's runtime image only."""

from __future__ import annotations

import posixpath
import re

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Stage
from dockerfix.fixer.edits import Skip
from dockerfix.fixer.roles import (BASE_IMAGE, SHELLS, STEP_DOWN, UNKNOWN, Role, command_role, final_role,
                                   start_argv)

_WHAT = {
    "build": "a build stage",
    "base-image": "a base-image build",
    "development": "a development image",
    "test": "a test or CI image",
    "build-only": "a build-only image",
    "non-node": "an image that runs another program",
    "unknown": "an image whose role is unknown",
}


def final_stage_role(doc: Document, ctx: Context) -> Role | None:
    """The role of the final stage, judged with the Dockerfile's name and package.json scripts."""
    final = doc.final_stage
    if final is None:
        return None
    name = str(ctx.dockerfile) if ctx.dockerfile is not None else "Dockerfile"
    scripts = ctx.package.scripts if ctx.package is not None else None
    role = final_role(doc, final, name, scripts)
    if role.is_runtime:
        role = _entrypoint_only(doc, final, ctx) or _start_script(doc, final, ctx, scripts) or role
    return role


#: Words in front of a command in a script that are not the program (``exec npm start``).
_PREFIXES = frozenset({"exec", "command", "nohup", "env", "then", "do", "else", "time", "sudo", "dumb-init", "tini",
                       "--", "{"})


def _script_commands(text: str) -> list[tuple[int, list[str]]]:
    """(line, words) of the simple commands of a shell script (comments dropped, ``exec``,
    ``VAR=x`` and step-down prefixes removed).  A word-level reading, never used to rewrite."""
    from ._shell import script_commands

    out: list[tuple[int, list[str]]] = []
    lines = text.replace("\\\n", " ").splitlines()
    for n, line in enumerate(lines, 1):
        body = line.split(" #", 1)[0].strip()
        if not body or body.startswith("#"):
            continue
        for words in script_commands(body):
            while words and (words[0] in _PREFIXES or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0])
                             or words[0].startswith("-")):
                words = words[1:]
            if len(words) > 2 and words[0] in STEP_DOWN:
                words = words[2:]
            if words:
                out.append((n, words))
    return out


def _start_script(doc: Document, final: Stage, ctx: Context, scripts) -> Role | None:
    """A start command that is a shell script (``bash /entrypoint.sh``, ``./start.sh``): the role
    of what the script runs when it is in the build context (a development server, a test run),
    and no known role when it is not (nothing tells what it starts)."""
    from ._rootneeds import context_paths

    argv = start_argv(doc, final)
    if not argv:
        return None
    first = posixpath.basename(argv[0])
    if first in SHELLS and len(argv) > 1 and not argv[1].startswith("-"):
        path, args = argv[1], argv[2:]
    elif first.endswith((".sh", ".bash")):
        path, args = argv[0], argv[1:]
    else:
        return None
    if "$" in path:
        return None
    rels = context_paths(doc, final, path)
    if posixpath.basename(path) == "docker-entrypoint.sh" and ctx.read_file("docker-entrypoint.sh") is None:
        return None  # the official node image's own entrypoint, not copied in
    for rel in rels:
        text = ctx.read_file(rel)
        if text is None:
            continue
        commands = _script_commands(text)
        for n, words in commands:
            role = command_role(words, scripts, "the command", f" (line {n} of its start script {rel})")
            if role is not None:
                return role
        if args and not args[0].startswith("-"):
            return command_role(args, scripts, f"the command handed to {path}")
        if not commands:
            return Role(UNKNOWN, f"its start command runs the script {rel}, in which no command could be read, so "
                        "what it starts is unknown")
        return None
    if args and not args[0].startswith("-"):
        # a wrapper handed a command (`start.sh node server.js`, usually `exec "$@"`): that command
        return command_role(args, scripts, f"the command handed to {path}")
    return Role(UNKNOWN, f"its start command runs the script `{path}`, which is not in the build context, so what "
                "it starts is unknown")


def _entrypoint_only(doc: Document, final: Stage, ctx: Context) -> Role | None:
    """An ENTRYPOINT script that runs the command it is given (``exec "$@"``) with no CMD after it:
    the image runs whatever a derived image or ``docker run`` names -- a base image."""
    from ._rootneeds import context_paths, script_paths
    from ._startcmd import command_words, final_command

    ep, cmd = final_command(doc)
    if ep is None or (cmd is not None and cmd.index > ep.index):
        return None
    for path in script_paths(command_words(ep))[:1]:
        for rel in context_paths(doc, final, path):
            text = ctx.read_file(rel)
            if text is not None and re.search(r"""exec\s+(?:\S+\s+)*["']?\$(?:@|\{@\})""", text):
                return Role(BASE_IMAGE, f"its ENTRYPOINT {path} runs the command it is given (`exec \"$@\"`, "
                            f"{rel}) and no CMD names an application")
    return None


def not_runtime_skip(code: str, doc: Document, ctx: Context, change: str) -> Skip | None:
    """A Skip when the final stage is not an application's runtime (None when it is): ``change``
    names what is not added (``"USER node"``)."""
    role = final_stage_role(doc, ctx)
    if role is None or role.is_runtime:
        return None
    assert doc.final_stage is not None
    return Skip(code, f"{change} not added: the final stage is not a Node.js application's runtime image but "
                f"{_WHAT.get(role.kind, role.kind)} ({role.evidence})", doc.final_stage.from_.line)
