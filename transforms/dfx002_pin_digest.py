"""Pin base images to the digest their tag points to today.

## What it does
Adds ``@sha256:<digest>`` to every image the build pulls: ``FROM`` lines, ``COPY --from=<image>``,
``RUN --mount=...,from=<image>`` and the ``# syntax=`` frontend.  The digest is the one the
registry serves for the tag now — for a multi-platform image the index (manifest list) digest, so
every platform keeps working.  The tag stays, so the line stays readable and Renovate or Dependabot
can keep it fresh: ``node:26-alpine@sha256:…``.  A ``FROM ${BASE}`` whose ``ARG BASE=<image>``
default is used by nothing else is pinned in the ``ARG`` line.

## Why
A tag is a moving pointer: ``node:26-alpine`` is rebuilt every few days.  Without a digest, two
builds of the same commit can ship different bases, and a compromised or broken tag reaches
production unreviewed.  With it, every change of base is a visible diff.

## Example
```diff
-FROM node:26-alpine
+FROM node:26-alpine@sha256:3f1c…
```

With ``--update-pins``, when ``node:26-alpine`` has moved since:

```diff
-FROM node:26-alpine@sha256:3f1c…
+FROM node:26-alpine@sha256:9a0e…
```

## Fix safety
Safe: the digest is what the tag resolves to at the time of the run, so the build is the same
image it would pull today.  Not touched: ``scratch``, earlier stage names, references whose tag
comes from a variable (a digest beside a variable tag would be a lie) or an ARG used elsewhere.
A failed or skipped look-up (``--offline``, network, credentials) leaves the line as it is and
says why.  When the index lacks a platform the configuration asks for (``platforms``, default
linux/amd64 and linux/arm64) the pin is made and the gap reported.

Pins go stale: a pinned base gets no OS security fixes until someone moves the pin.  With
``--update-pins`` (config ``update-pins = true``; the bot's default) every ``name:tag@sha256:…``
whose tag has moved gets the tag's digest of today, and the message says how old the pinned image
is and how old the new one is (from the image configs' ``created``, when the registry serves
them).  A pin of one platform's manifest stays per-platform (that platform's manifest of the new
index).  A pin without a tag beside it is reported, never touched: nothing says what to refresh
it to.  Without the option, pins are left alone (Renovate and Dependabot can refresh them too).

## Related codes
hadolint DL3006/DL3007 (loosely); Docker Scout ``not_pinned_digest``; semgrep
``dockerfile-source-not-pinned``; OpenSSF Scorecard Pinned-Dependencies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Iterator

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Span
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.imageref import ImageRef, ImageRefError
from dockerfix.fixer.imageref import parse as parse_ref
from dockerfix.fixer.transform import Transform

_VAR_RE = re.compile(r"^\$(?:\{(\w+)\}|(\w+))$")


@dataclass(frozen=True)
class Target:
    """One image reference in the file: where it is written and what it says."""

    text: str  # the image as written
    span: Span  # where to write the pinned reference
    line: int
    what: str  # "FROM", "COPY --from", "RUN --mount from", "# syntax"


def image_targets(doc: Document) -> Iterator[Target | Skip]:
    """Every pullable image reference in ``doc`` (also used to pre-resolve them concurrently)."""
    syntax = doc.directive("syntax")
    if syntax is not None:
        line_text = doc.text(syntax.span)
        start = syntax.span.start + line_text.index("=") + 1
        start += len(line_text) - (start - syntax.span.start) - len(line_text[start - syntax.span.start:].lstrip())
        yield Target(syntax.value, Span(start, start + len(syntax.value)), doc.line_of(start), "# syntax")
    stage_names: set[str] = set()
    for stage in doc.stages:
        frm = stage.from_
        base = stage.base
        if base.lower() in stage_names:
            pass
        elif "$" in base:
            yield from _arg_target(doc, stage.base, frm.line)
        else:
            yield Target(base, stage.base_span, frm.line, "FROM")
        if stage.name:
            stage_names.add(stage.name)
        for ins in stage.instructions[1:]:
            if ins.keyword == "COPY":
                f = ins.flag("from")
                if f and f.value and not f.value.isdigit() and f.value.lower() not in stage_names and "$" not in f.value:
                    span = value_span(doc, f.span, "--from=", f.value)
                    if span is None:
                        yield Skip(PinDigest.code, f"COPY --from={f.value} is quoted or split across lines; "
                                   "pin it by hand", ins.line)
                    else:
                        yield Target(f.value, span, ins.line, "COPY --from")
            if ins.keyword == "RUN":
                for mount in ins.mounts:
                    for o in mount.options:
                        v = o.value
                        if o.key == "from" and v and not v.isdigit() and v.lower() not in stage_names and "$" not in v:
                            whole = value_span(doc, mount.flag.span, "--mount=", mount.flag.value or "")
                            if whole is None:
                                yield Skip(PinDigest.code, f"RUN --mount from={v} is quoted or split across "
                                           "lines; pin it by hand", ins.line)
                            else:
                                start = whole.start + o.start
                                yield Target(v, Span(start, start + len(v)), ins.line, "RUN --mount from")


def value_span(doc: Document, span: Span, prefix: str, value: str) -> Span | None:
    """Where ``value`` stands in ``prefix + value`` written at ``span`` (also inside one pair of
    quotes); None when the source is written differently (escapes, continuation lines)."""
    raw = doc.text(span)
    if not raw.startswith(prefix):
        return None
    rest = raw[len(prefix):]
    if rest == value:
        return Span(span.start + len(prefix), span.end)
    if len(rest) == len(value) + 2 and rest[0] == rest[-1] and rest[0] in "\"'" and rest[1:-1] == value:
        return Span(span.start + len(prefix) + 1, span.end - 1)
    return None


def _arg_target(doc: Document, base: str, line: int) -> Iterator[Target | Skip]:
    m = _VAR_RE.match(base)
    code = PinDigest.code
    if not m:
        yield Skip(code, f"FROM {base} builds its reference from variables; a digest beside a variable "
                   "tag would be a lie", line)
        return
    var = m.group(1) or m.group(2)
    arg_ins = arg = None
    for ins in doc.instructions:
        if ins.stage == -1 and ins.keyword == "ARG":
            for a in ins.assignments:
                if a.name == var:
                    arg_ins, arg = ins, a
    if arg_ins is None or arg is None or not arg.value:
        yield Skip(code, f"FROM {base}: the ARG {var} has no default to pin", line)
        return
    uses = 0
    pattern = re.compile(r"\$(?:\{" + var + r"(?:[:}])|" + var + r"\b)")
    for ins in doc.instructions:
        if ins is arg_ins:
            continue
        uses += len(pattern.findall(ins.logical))
    if uses > 1:
        yield Skip(code, f"FROM {base}: ARG {var} is used elsewhere too; pin it by hand where it is "
                   "meant to be an image", line)
        return
    image = arg.value
    if "$" in image:
        yield Skip(code, f"FROM {base}: the default of ARG {var} contains variables", line)
        return
    span = value_span(doc, arg.word.span, f"{var}=", image)
    if span is None:
        yield Skip(code, f"FROM {base}: the default of ARG {var} is written with escapes or across lines; "
                   "pin it by hand", line)
        return
    yield Target(image, span, arg_ins.line, f"ARG {var}")


class PinDigest(Transform):
    code = "DFX002"
    name = "pin-digest"
    summary = "Pin base images to the digest their tag points to today"
    default_applicability = Applicability.SAFE
    related = ("DL3006", "DL3007")
    after = (
        "DFX003",  # pin the tag DFX003 chose, not the one it replaces
    )

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        for t in image_targets(doc):
            if isinstance(t, Skip):
                yield t
                continue
            if t.text.lower() == "scratch":
                continue
            try:
                ref = parse_ref(t.text)
            except ImageRefError as e:
                yield Skip(self.code, f"{t.what} {t.text}: {e}", t.line)
                continue
            if ref.digest:
                if ctx.config.update_pins:
                    yield from self._refresh(t, ref, ctx)
                continue  # already pinned and well-formed (parse checked the format)
            if ctx.offline or ctx.digests is None:
                reason = "--offline" if ctx.offline else "no registry client"
                yield Skip(self.code, f"{t.what} {t.text} not pinned: digest look-up skipped ({reason})", t.line)
                continue
            res = ctx.digest(ref, tuple(ctx.config.platforms))
            if res is None:  # not looked up before the run (e.g. a tag another fix just wrote)
                yield Skip(self.code, f"{t.what} {t.text} not pinned: its digest was not looked up", t.line,
                           wants=(ref,))
                continue
            if isinstance(res, Exception):  # the registry's answer was an error
                yield Skip(self.code, f"{t.what} {t.text} not pinned: {res}", t.line)
                continue
            try:
                pinned = ref.format(digest=res.digest)
            except ImageRefError as e:
                yield Skip(self.code, f"{t.what} {t.text} not pinned: registry answered {e}", t.line)
                continue
            kind = "index" if res.kind == "index" else "single-platform manifest"
            yield Fix(self.code, f"pin {t.text} to the {kind} digest it points to today", t.line,
                      (Edit.replace(t.span, pinned),), Applicability.SAFE)
            missing = list(getattr(res, "missing_platforms", ()) or ())
            if missing:
                yield Fix(self.code, f"{t.text} is not published for {', '.join(missing)} (wanted by the "
                          "`platforms` setting)", t.line, (), Applicability.DISPLAY_ONLY)

    def _refresh(self, t: Target, ref: ImageRef, ctx: Context) -> Iterator[Fix | Skip]:
        """``--update-pins``: move a ``name:tag@sha256:…`` pin to what the tag points to now."""
        if ref.tag is None:
            yield Fix(self.code, f"{t.text} is pinned without a tag: dockerfix cannot tell what to refresh it to "
                      "(write the tag beside the digest, e.g. node:22-alpine@sha256:…)", t.line, (),
                      Applicability.DISPLAY_ONLY)
            return
        if ctx.offline or ctx.digests is None:
            reason = "--offline" if ctx.offline else "no registry client"
            yield Skip(self.code, f"{t.what} {t.text}: pin not refreshed, look-up skipped ({reason})", t.line)
            return
        platforms = tuple(ctx.config.platforms)
        tag_ref = ref.without_digest()
        old_ref = ref.without_tag()
        now, old = ctx.digest(tag_ref, platforms), ctx.digest(old_ref, platforms)
        if now is None or old is None:
            yield Skip(self.code, f"{t.what} {t.text}: pin not refreshed, the tag was not looked up", t.line,
                       wants=tuple(r for r, v in ((tag_ref, now), (old_ref, old)) if v is None))
            return
        if isinstance(now, Exception):
            yield Skip(self.code, f"{t.what} {t.text}: pin not refreshed: {now}", t.line)
            return
        if now.digest == ref.digest or ref.digest in now.children.values():
            return  # the tag still points to the pinned image (or its platform's manifest of it)
        new_digest = now.digest
        what = "index"
        if not isinstance(old, Exception) and old.kind != "index" and now.kind == "index":
            # a per-platform pin stays per-platform: the same platform's manifest of the new index
            plat = old.platforms[0] if len(old.platforms) == 1 else None
            child = now.child_for(plat) if plat else None
            if child is None:
                yield Skip(self.code, f"{t.what} {t.text}: pinned to a single-platform manifest whose platform "
                           "the new index does not name; refresh it by hand", t.line)
                return
            new_digest, what = child, f"{plat} manifest"
        try:
            pinned = ref.format(digest=new_digest)
        except ImageRefError as e:
            yield Skip(self.code, f"{t.what} {t.text}: pin not refreshed: registry answered {e}", t.line)
            return
        ages = _ages(None if isinstance(old, Exception) else old, now, ctx)
        yield Fix(self.code, f"refresh the pin of {ref.format(digest=False)}: the tag has moved to a newer {what}"
                  f"{ages}", t.line, (Edit.replace(t.span, pinned),), Applicability.SAFE)


def _ages(old: Any, now: Any, ctx: Context) -> str:
    """`` (pinned image built 2026-09-01, 89 days old; new one built 2026-11-20)`` from the image
    configs' ``created``, when the registry answer has them."""
    def day(res: Any) -> date | None:
        created = getattr(res, "created", None) if res is not None else None
        try:
            return date.fromisoformat(created[:10]) if isinstance(created, str) else None
        except ValueError:
            return None

    o, n = day(old), day(now)
    parts = []
    if o is not None:
        parts.append(f"pinned image built {o.isoformat()}, {(ctx.today - o).days} days old")
    if n is not None:
        parts.append(f"new one built {n.isoformat()}")
    return f" ({'; '.join(parts)})" if parts else ""
