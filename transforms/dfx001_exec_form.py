"""Write CMD and ENTRYPOINT in exec (JSON) form.

## What it does
Rewrites a shell-form ``CMD``/``ENTRYPOINT`` whose arguments are plain words into the JSON exec
form: ``CMD node server.js`` and ``CMD "npm" "start"`` become ``CMD ["node", "server.js"]`` and
``CMD ["npm", "start"]``.  A JSON array mistakenly written with single quotes
(``CMD ['node', 'server.js']``, which Docker runs through ``/bin/sh`` and fails) is corrected.

## Why
In shell form Docker starts ``/bin/sh -c "<command>"``: the shell is PID 1, it does not pass
``SIGTERM`` on to the app, so ``docker stop`` waits its whole timeout and then kills the
container.  In exec form the program itself receives the signals.  Both hadolint and BuildKit's
own checks ask for it.

## Example
```diff
-CMD "npm" "start"
+CMD ["npm", "start"]
```

## Fix safety
Safe when the command is plain words: no variables, globbing, redirection, pipes or command
chains, no leading ``VAR=value`` assignment or shell builtin (a leading ``exec`` is dropped: it
only replaces the shell, which exec form does not start), no ``SHELL`` instruction
and no ``ENTRYPOINT`` in the stage that would receive the command
as arguments.  Then the same program runs with the same arguments, only without a shell in front.
A command that relies on the shell (``$PORT``, ``&&``, ``|``, ``>``...) gets an *unsafe* fix to the
explicit ``["/bin/sh", "-c", "..."]`` form, which is exactly what Docker runs today, and a
report line saying why it cannot go further.  A shell-form ``ENTRYPOINT`` followed by a ``CMD``
is unsafe too: Docker ignores that ``CMD`` today and would pass it as arguments afterwards.
``CMD`` with an exec-form ``ENTRYPOINT`` in the same
stage is only reported: the entrypoint would receive different arguments.  Comments inside the
instruction make the fix unsafe.

## Related codes
hadolint DL3025; BuildKit JSONArgsRecommended.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Instruction
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.transform import Transform

from ._shell import json_array, needs_shell, plain_words


def _single_quoted_array(text: str) -> list[str] | None:
    """``['node', 'x']`` -> ["node", "x"] when it is a list of simple single-quoted strings."""
    t = text.strip()
    if not (t.startswith("[") and t.endswith("]")) or "'" not in t or '"' in t or "\\" in t:
        return None
    try:
        val = json.loads(t.replace("'", '"'))
    except ValueError:
        return None
    if isinstance(val, list) and val and all(isinstance(v, str) for v in val):
        return val
    return None


class ExecForm(Transform):
    code = "DFX001"
    name = "exec-form"
    summary = "Write CMD and ENTRYPOINT in exec (JSON) form"
    default_applicability = Applicability.SAFE
    related = ("DL3025", "JSONArgsRecommended")
    after = (
        "DFX007",  # DFX007 writes ENTRYPOINT/CMD in exec form itself, with the init
    )

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        for stage in doc.stages:
            has_shell = any(i.keyword == "SHELL" for i in stage.instructions)
            entrypoints = [i for i in stage.instructions if i.keyword == "ENTRYPOINT"]
            for ins in stage.instructions:
                if ins.keyword not in ("CMD", "ENTRYPOINT") or ins.is_json or not ins.args_text:
                    continue
                later_cmd = next((i for i in stage.instructions if i.keyword == "CMD" and i.index > ins.index), None)
                yield from self._one(doc, ins, has_shell, entrypoints, later_cmd)

    def _one(self, doc: Document, ins: Instruction, has_shell: bool, entrypoints: list[Instruction],
             later_cmd: Instruction | None) -> Iterable[Fix | Skip]:
        kw = ins.keyword
        quoted = _single_quoted_array(ins.args_text)
        if quoted is not None:
            yield Fix(self.code, f"{kw} is a JSON array with single quotes; Docker runs it through /bin/sh, "
                      "where it fails: use double quotes", ins.line,
                      (Edit.replace(ins.args_span, json_array(quoted)),), Applicability.SAFE)
            return
        if has_shell:
            yield Skip(self.code, f"{kw} on line {source_line(doc, ins.line)} runs through the stage's custom SHELL; "
                       "converting it would change which interpreter runs it", ins.line)
            return
        if kw == "CMD" and any(e.is_json and e.index < ins.index for e in entrypoints):
            yield Skip(self.code, f"CMD on line {source_line(doc, ins.line)} is passed to an exec-form ENTRYPOINT as "
                       "`/bin/sh -c ...`; exec form would change the entrypoint's arguments", ins.line)
            return
        words = plain_words(ins.args_text)
        if words is not None and kw == "ENTRYPOINT" and later_cmd is not None:
            yield Fix(self.code, f"ENTRYPOINT in shell form ignores CMD; in exec form the CMD on line "
                      f"{source_line(doc, later_cmd.line)} would start being passed to it as arguments", ins.line,
                      (Edit.replace(ins.args_span, json_array(words)),), Applicability.UNSAFE)
            return
        if words is not None:
            yield Fix(self.code, f"use exec form for {kw} so the process gets signals directly", ins.line,
                      (Edit.replace(ins.args_span, json_array(words)),), Applicability.SAFE)
            return
        reason = needs_shell(ins.args_text) or "needs a shell"
        yield Fix(self.code, f"{kw} {reason}, so it needs a shell; the explicit form "
                  "[\"/bin/sh\", \"-c\", ...] is what Docker runs today (the shell stays PID 1)", ins.line,
                  (Edit.replace(ins.args_span, json_array(["/bin/sh", "-c", ins.args_text])),),
                  Applicability.UNSAFE)
