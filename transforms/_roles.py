"""The role of the final stage (``fixer.roles``) as the hardening transforms use it: NODE_ENV, a
non-root USER and an init belong in an application's runtime image only."""

from __future__ import annotations

import re

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Stage
from dockerfix.fixer.edits import Skip
from dockerfix.fixer.roles import BASE_IMAGE, Role, final_role

_WHAT = {
    "build": "a build stage",
    "base-image": "a base-image build",
    "development": "a development image",
    "test": "a test or CI image",
    "build-only": "a build-only image",
    "non-node": "an image that runs another program",
    "unknown": "of no known role",
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
        role = _entrypoint_only(doc, final, ctx) or role
    return role


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
