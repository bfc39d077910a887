"""Secret names and masking.

``is_secret_name`` is BuildKit's SecretsUsedInArgOrEnv test for an ARG/ENV key (deny words
between ``_`` or at the ends of the name, minus the allow words).  ``mask_secrets`` hides the
values a Dockerfile line gives to such keys, and npm auth settings, in what dockerfix prints:
a diff shown in a CI log must not become the place a token leaks.  Files are never masked;
only the diff display is (so a masked diff is for reading; ``--write`` applies the real change).

:class:`Redactor` is the other kind of masking: it hides *known* secret strings (a registry
password or token, the bot's GitHub token and their encoded forms) in any text shown to the user.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from collections.abc import Iterable

MASK = "***"

#: Patterns, compiled on first use (:func:`_re`): start-up stays free of regex compilation.
_PATTERNS: dict[str, tuple[str, int]] = {
    "secret": (r"(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)", 0),
    "allow": (r"(?i)(?:_|^)(?:public|file|version)(?:_|$)", 0),
    "arg_env": (r"^(\s*(?:ONBUILD\s+)?(?:ARG|ENV)\s+)(.*)$", re.I),
    "pair": (r"""(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<val>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']+)""", 0),
    "legacy_env": (r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?P<sp>\s+)(?P<val>\S.*)$", 0),
    "npm_auth": (r"(?P<key>_authToken|_auth|_password)=(?P<val>[^\s\"'`]+)", 0),
}


@cache
def _re(name: str) -> re.Pattern[str]:
    pattern, flags = _PATTERNS[name]
    return re.compile(pattern, flags)


def is_secret_name(name: str) -> bool:
    """BuildKit's SecretsUsedInArgOrEnv test for an ARG/ENV key."""
    return bool(_re("secret").search(name)) and not _re("allow").search(name)


def _is_reference(value: str) -> bool:
    v = value.strip("\"'")
    return v == "" or v.startswith("$")


def mask_secrets(line: str) -> str:
    """``line`` with the literal values of secret-named ARG/ENV keys and npm auth settings
    replaced by ``***`` (variable references such as ``${NPM_TOKEN}`` are kept)."""
    m = _re("arg_env").match(line)
    if m:
        head, rest = m.groups()
        ending = line[m.end(2):]  # the line ending, kept as it was

        def pair(pm: re.Match) -> str:
            if is_secret_name(pm["key"]) and not _is_reference(pm["val"]):
                return f"{pm['key']}={MASK}"
            return pm.group(0)

        if rest.strip() and "=" in rest.split(None, 1)[0]:
            line = head + _re("pair").sub(pair, rest) + ending
        else:
            lm = _re("legacy_env").match(rest.rstrip("\r"))
            if lm and is_secret_name(lm["key"]) and not _is_reference(lm["val"]):
                line = head + lm["key"] + lm["sp"] + MASK + rest[len(rest.rstrip("\r")):] + ending
    return _re("npm_auth").sub(lambda am: am.group(0) if _is_reference(am["val"]) else f"{am['key']}={MASK}", line)


def mask_message(text: str) -> str:
    """A report message, note or skip reason with every secret-named ``KEY=value`` and npm auth
    setting masked, wherever it stands in the text (messages quote Dockerfile fragments)."""
    def pair(pm: re.Match) -> str:
        if is_secret_name(pm["key"]) and not _is_reference(pm["val"]):
            return f"{pm['key']}={MASK}"
        return pm.group(0)

    text = _re("pair").sub(pair, text)
    return _re("npm_auth").sub(lambda am: am.group(0) if _is_reference(am["val"]) else f"{am['key']}={MASK}", text)


def mask_dockerfile(text: str) -> str:
    """``text`` with secret values masked instruction by instruction (continuation lines
    included), then line by line (ONBUILD triggers, and text that does not parse)."""
    from .document import ParseError, parse

    try:
        doc = parse(text)
    except ParseError:
        doc = None
    if doc is not None:
        spans: list[tuple[int, int]] = []
        for ins in doc.instructions:
            words = ins.words
            if ins.keyword not in ("ARG", "ENV") or not words:
                continue
            if ins.keyword == "ENV" and "=" not in words[0].value:  # legacy `ENV KEY value`
                if len(words) > 1 and is_secret_name(words[0].value) and not _is_reference(words[1].value):
                    spans.append((words[1].span.start, words[-1].span.end))
                continue
            for w in words:
                key, eq, val = w.value.partition("=")
                if eq and is_secret_name(key) and not _is_reference(val) and doc.text(w.span).startswith(key + "="):
                    spans.append((w.span.start + len(key) + 1, w.span.end))
        out = doc.source
        for start, end in sorted(spans, reverse=True):
            out = out[:start] + MASK + out[end:]
        text = ("\ufeff" if doc.bom else "") + out
    return "".join(mask_secrets(line) for line in text.splitlines(keepends=True))


class Redactor:
    """Replaces known secret strings with ``***`` in text shown to the user (error messages, git
    output).  Secrets shorter than ``min_length`` are not hidden (a 1-character password would
    mask every such letter); the longest are replaced first, so a secret that contains another
    is hidden whole.  Thread-safe: secrets may be added while other threads redact."""

    def __init__(self, secrets: Iterable[str] = (), *, min_length: int = 1):
        self.min_length = min_length
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        self.update(secrets)

    def add(self, secret: str | None) -> None:
        if secret:
            with self._lock:
                self._secrets.add(secret)

    def update(self, secrets: Iterable[str | None]) -> None:
        for s in secrets:
            self.add(s)

    def __call__(self, text: str) -> str:
        with self._lock:
            secrets = sorted((s for s in self._secrets if len(s) >= self.min_length), key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text
