"""Shell-word analysis of command text (CMD/ENTRYPOINT arguments, package.json scripts): does it
need a shell, and what argv would a shell run; plus exec-form (JSON array) text."""

from __future__ import annotations

import json
import re
import shlex

from dockerfix.fixer.commands import ASSIGNMENT_RE

#: Characters that make a shell command depend on the shell (expansion, control, redirection).
SHELL_META = set("$`|&;<>()*?[]{}~!\\\n")


def shell_reason(cmd: str) -> str | None:
    """Why ``cmd`` needs a shell to run as intended, or None if it is plain words."""
    quote = ""
    for i, ch in enumerate(cmd):
        if quote == "'":
            if ch == "'":
                quote = ""
            continue
        if quote == '"':
            if ch == '"':
                quote = ""
            elif ch in "$`":
                return "expands variables or commands at run time"
            elif ch == "\\":
                return "uses backslash escapes"
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "$" or ch == "`":
            return "expands variables or commands at run time"
        elif ch in "|&;":
            return "chains commands (&&, ||, ;, | or &)"
        elif ch in "<>":
            return "redirects input or output"
        elif ch in "*?[":
            return "uses filename globbing"
        elif ch in "(){}!":
            return "uses shell grouping or operators"
        elif ch == "~" and (i == 0 or cmd[i - 1] in " \t="):
            return "uses ~ home expansion"
        elif ch == "#" and (i == 0 or cmd[i - 1] in " \t"):
            return "contains a shell comment"
        elif ch == "\\":
            return "uses backslash escapes"
    if quote:
        return "has an unterminated quote"
    return None


#: Words a shell gives a meaning of its own when they come first: builtins and reserved words
#: (``exec`` alone is handled: ``exec node x`` runs exactly ``node x``).
SHELL_BUILTINS = frozenset(
    ". : [ alias bg break cd case command continue do done elif else esac eval exit export false fg fi "
    "for function getopts hash if in jobs kill local read readonly return select set shift source test "
    "then time times trap true type ulimit umask unalias unset until wait while".split()
)

def command_reason(words: list[str]) -> str | None:
    """Why a plain-word command still needs a shell: a leading ``VAR=value`` or a builtin."""
    if words and ASSIGNMENT_RE.match(words[0]):
        return f"sets {words[0].split('=', 1)[0]} for the command (a shell feature)"
    if words and words[0] in SHELL_BUILTINS:
        return f"starts with the shell builtin `{words[0]}`"
    return None


def _plain_split(cmd: str) -> tuple[list[str] | None, str | None]:
    """(argv, None) when ``cmd`` is plain words, else (None, why it needs a shell or None)."""
    reason = shell_reason(cmd)
    if reason is not None:
        return None, reason
    try:
        words = shlex.split(cmd, posix=True)
    except ValueError:
        return None, None
    while words and words[0] == "exec" and len(words) > 1 and not words[1].startswith("-"):
        words = words[1:]
    reason = command_reason(words)
    if reason is not None:
        return None, reason
    return words or None, None


def plain_words(cmd: str) -> list[str] | None:
    """The argv a POSIX shell would run for ``cmd``, when it is plain words; else None.
    ``exec node x`` is ``node x`` (exec only replaces the shell, which exec form has not)."""
    return _plain_split(cmd)[0]


def needs_shell(cmd: str) -> str | None:
    """Why ``cmd`` needs a shell (shell syntax, a leading assignment or builtin), or None."""
    return _plain_split(cmd)[1]



_SCRIPT_SPLIT_RE = re.compile(r"(\s+|&&|\|\||[;|&()])")
_SCRIPT_OPERATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")"})


def script_commands(body: str) -> list[list[str]]:
    """A package.json script (``tsc && node dist/x.js``) split into its simple commands at
    ``&&``, ``||``, ``;``, ``|``, ``&`` and parentheses, quotes around words removed.  A rough
    split: scripts are read for the programs and files they name, never rewritten."""
    cmds: list[list[str]] = [[]]
    for tok in _SCRIPT_SPLIT_RE.split(body):
        if not tok or tok.isspace():
            continue
        if tok in _SCRIPT_OPERATORS:
            cmds.append([])
            continue
        tok = tok.strip("'\"")
        if tok:
            cmds[-1].append(tok)
    return [c for c in cmds if c]


def json_array(values: list[str] | tuple[str, ...]) -> str:
    """Exec-form text in Docker's documented style: ``["node", "server.js"]``."""
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


SHELLS = frozenset({"sh", "bash", "dash"})
_PREFIXES = frozenset({"exec", "command", "nohup", "env", "time", "nice", "sudo", "xargs", "then", "do", "else",
                       "elif", "if", "while", "until", "!", "{", "(", "timeout"})
_SPLIT_RE = re.compile(r"&&|\|\||[;|&()`\n]|\$\(")


def programs_in(text: str) -> list[str]:
    """The programs a piece of shell text runs: the first word of each simple command (after
    ``VAR=x`` assignments and ``exec``/``env``/``sudo``-style prefixes), by basename.  Comment
    lines are left out; a word-level approximation, never used to rewrite anything."""
    out: list[str] = []
    lines = [ln for ln in text.replace("\\\n", " ").splitlines() if not ln.lstrip().startswith("#")]
    for part in _SPLIT_RE.split("\n".join(lines)):
        words = [w.strip("'\"") for w in part.split()]
        i = 0
        while i < len(words):
            w = words[i]
            if not w or ASSIGNMENT_RE.match(w) or w.startswith("-") or w in _PREFIXES or w.isdigit():
                i += 1
                continue
            if w in ("gosu", "su-exec", "chroot"):  # followed by a user (or a root folder)
                i += 2
                continue
            prog = w.rsplit("/", 1)[-1]
            out.append(prog)
            if prog in SHELLS and i + 2 < len(words) and words[i + 1] == "-c":
                out += programs_in(" ".join(words[i + 2:]))
            break
    return out
