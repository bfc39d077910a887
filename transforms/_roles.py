"""The role of the final stage (``fixer.roles``) as the hardening transforms use it: NODE_ENV, a
non-root USER and an init belong in an application's runtime image only."""

from __future__ import annotations

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document
from dockerfix.fixer.edits import Skip
from dockerfix.fixer.roles import Role, final_role

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
    return final_role(doc, final, name, scripts)


def not_runtime_skip(code: str, doc: Document, ctx: Context, change: str) -> Skip | None:
    """A Skip when the final stage is not an application's runtime (None when it is): ``change``
    names what is not added (``"USER node"``)."""
    role = final_stage_role(doc, ctx)
    if role is None or role.is_runtime:
        return None
    assert doc.final_stage is not None
    return Skip(code, f"{change} not added: the final stage is not a Node.js application's runtime image but "
                f"{_WHAT.get(role.kind, role.kind)} ({role.evidence})", doc.final_stage.from_.line)
