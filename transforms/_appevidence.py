"""Evidence that the final image runs a Node.js application (DFX006, DFX007).

A non-root ``USER`` and an init belong in the image of an application.  Without a package.json in
the build context nothing says that the process is a Node.js app that works as uid 1000 or under
an init: the folder may not be the real build context (issue 12, class 9/10), or the Dockerfile
builds a base or tool image -- no app, an ENTRYPOINT script that runs whatever command it is given
(``exec "$@"``, often after stepping down with ``su-exec``/``gosu``) and no CMD that names an
application (none, a shell or the bare ``node`` REPL).  The two functions below say which of these
applies, with the evidence (:func:`tool_image_skip`, :func:`no_package_skip`), so the
transform leaves the image alone.
"""

from __future__ import annotations

import posixpath
import re

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Instruction
from dockerfix.fixer.edits import Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.roles import SHELLS as ROLE_SHELLS

from ._rootneeds import _STEP_DOWN_RE, _name, context_paths, copy_into, script_paths
from ._shell import SHELLS
from ._startcmd import command_words, final_command

#: A line of a shell script that replaces the shell with the command it was given (``exec "$@"``,
#: ``exec su-exec app "$@"``, ``exec gosu "$USER" "$@"``).
_EXEC_ARGS_RE = re.compile(r"""^[^#\n]*\bexec[ \t]+(?:[^\s#]+[ \t]+)*["']?\$(?:@|\{@\})["']?""", re.MULTILINE)


def _effective_cmd(ep: Instruction, cmd: Instruction | None) -> Instruction | None:
    """The CMD that runs after ``ep``: an ENTRYPOINT resets a CMD inherited from an earlier stage."""
    if cmd is None or (cmd.index < ep.index and cmd.stage != ep.stage):
        return None
    return cmd


def _names_no_app(argv: list[str]) -> str | None:
    """How ``argv`` (the words after the ENTRYPOINT script) names no application, or None."""
    if not argv:
        return "no CMD"
    prog = posixpath.basename(argv[0])
    if len(argv) == 1 and prog in ROLE_SHELLS:
        return f"a CMD that only opens a shell (`{argv[0]}`)"
    if len(argv) == 1 and prog == "node":
        return "a CMD that only opens the node REPL (`node`)"
    return None


def _entrypoint_script(ep: Instruction) -> tuple[str, list[str]] | None:
    """(the script an ENTRYPOINT runs, the words after it), or None when it runs no script."""
    words = command_words(ep)
    if not words:
        return None
    if posixpath.basename(words[0]) in SHELLS and len(words) > 1 and not words[1].startswith("-"):
        words = words[1:]
    scripts = script_paths(words)
    if not scripts or scripts[0] != words[0]:
        return None
    return words[0], words[1:]


def tool_image(doc: Document, ctx: Context) -> tuple[str | None, str | None]:
    """For an image with no package.json in its build context whose ENTRYPOINT is a script and
    whose CMD names no application: ``(evidence, None)`` when the script (read from the build
    context) runs the command it is given -- a base or tool image; ``(None, missing)`` when the
    script is not in the build context, so what it starts cannot be told.  ``(None, None)``
    otherwise."""
    final = doc.final_stage
    if final is None or ctx.package is not None or ctx.package_error is not None:
        return None, None
    ep, cmd = final_command(doc)
    if ep is None:
        return None, None
    found = _entrypoint_script(ep)
    if found is None:
        return None, None
    path, rest = found
    cmd = _effective_cmd(ep, cmd)
    no_app = _names_no_app(rest + (command_words(cmd) if cmd is not None else []))
    if no_app is None:
        return None, None
    rels = context_paths(doc, final, path)
    copy = copy_into(doc, final, path)
    if posixpath.basename(path) == "docker-entrypoint.sh" and copy is None:
        return None, None  # the official node image's own entrypoint (it runs `node` for a script name)
    where = f"ENTRYPOINT script {path} (line {source_line(doc, ep.line)})"
    for rel in rels:
        text = ctx.read_file(rel)
        if text is None:
            continue
        m = _EXEC_ARGS_RE.search(text)
        if m is None:
            return None, None  # the script starts something itself: not a tool image by this evidence
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        down = _STEP_DOWN_RE.search(body)
        steps = f" after stepping down with `{_name(down)}`" if down else ""
        return (f"no package.json in the build context, {no_app}, and its {where} runs the command it is "
                f"given{steps} (`{m.group(0).strip()}` in {rel})"), None
    if copy is not None:
        how = (f"`{copy.keyword} {copy.args_text}` on line {source_line(doc, copy.line)} copies it from the build "
               "context, but the source is not there")
    else:
        how = "no COPY/ADD line names it or a folder it is in"
    return None, (f"no package.json in the build context, {no_app}, and the {where} is not in the build context "
                  f"({how}), so whether it starts an application cannot be told")


def tool_image_skip(code: str, doc: Document, ctx: Context, change: str) -> Skip | None:
    """A Skip for a base or tool image, or for one whose ENTRYPOINT script is not in the build
    context (see :func:`tool_image`); ``change`` names what is not added (``"USER node"``)."""
    final = doc.final_stage
    evidence, missing = tool_image(doc, ctx)
    if final is None or (evidence is None and missing is None):
        return None
    if evidence is not None:
        return Skip(code, f"{change} not added: the final stage is a base or tool image, not an application's "
                    f"runtime ({evidence}); add it in the image that runs the application", final.from_.line)
    return Skip(code, f"{change} not added: {missing}", final.from_.line)


def no_package_skip(code: str, doc: Document, ctx: Context, change: str, needs: str) -> Skip | None:
    """A Skip when there is no (readable) package.json in the build context: nothing shows that
    the image runs a Node.js application.  ``needs`` says what it would have shown (``"works as
    uid 1000"``).  None when package.json is there."""
    final = doc.final_stage
    if final is None or ctx.package is not None:
        return None
    why = ctx.missing_package
    return Skip(code, f"{change} not added: {why}, so nothing shows that the image runs a Node.js application "
                f"that {needs}", final.from_.line)
