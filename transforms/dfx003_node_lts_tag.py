"""Give node base images an explicit, supported LTS tag.

## What it does
``FROM node``, ``node:latest``, ``node:current``, ``node:lts`` and the tagless variants
(``node:alpine``, ``node:lts-slim``...) get an explicit major: the newest Active LTS line that
satisfies ``engines.node`` in package.json (or ``.nvmrc``), keeping the variant the user chose
(``node:lts-alpine`` becomes ``node:26-alpine``).  Majors that have reached end-of-life
(``node:16``, ``node:18-alpine``, ``node:20``...) get the same suggestion as an unsafe fix.
The release table ships with dockerfix and is dated; online, it is refreshed from the Node.js
Release Working Group's schedule (cached for a week; ``--offline`` keeps the bundled one). Every
message names the date of the data it used.

## Why
``node`` and ``node:latest`` move to a new major (often a short-lived odd "Current" line) the
day it is released, so the same Dockerfile builds a different runtime tomorrow; a digest pinned
to such a tag records the accident rather than a choice.  End-of-life majors get no security
fixes.  An explicit LTS major is a decision a reviewer can see, and it is the tag digest pinning
(DFX002) then makes exact.

## Example
```diff
-FROM node:lts-alpine
+FROM node:26-alpine
```

## Fix safety
``lts`` tags are rewritten safely: today ``node:lts`` and ``node:<newest LTS>`` are the same
image.  ``latest``/``current``/no tag can move to a different major than the one the image had,
and an end-of-life upgrade is a major upgrade: both are unsafe.  When ``engines.node`` or
``.nvmrc`` rules out every supported LTS line, or cannot be read, nothing is changed and the
reason is reported.  Images with a digest, a variable tag, or a registry other than Docker Hub's
official ``node`` are left alone.  Switching a Debian image to alpine is never done (musl vs
glibc, native modules).

## Related codes
hadolint DL3006 (tag the image explicitly), DL3007 (using latest); trivy DS-0001; checkov CKV_DOCKER_7.
"""

from __future__ import annotations

import re
from typing import Iterable

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.imageref import ImageRefError
from dockerfix.fixer.imageref import parse as parse_ref
from dockerfix.fixer.node_releases import major_filter
from dockerfix.fixer.transform import Transform

from ._images import is_official_node

_MOVING = ("latest", "current", "lts")
_VERSION_TAG = re.compile(r"^(\d+)(?:\.\d+){0,2}(?:-(.+))?$")
_OLD_DEBIAN = {"stretch", "buster", "bullseye", "jessie"}


def _variant_of_moving(tag: str | None) -> tuple[str, str] | None:
    """('lts'|'latest'|'current', variant) for moving tags; None for versioned ones."""
    if tag is None:
        return "latest", ""
    for word in _MOVING:
        if tag == word:
            return word, ""
        if tag.startswith(word + "-"):
            return word, tag[len(word) + 1 :]
    if not tag[0].isdigit():  # node:alpine, node:slim, node:bookworm ...
        return "latest", tag
    return None


def _modern_variant(variant: str) -> str:
    """Map an old variant to one a current major is published with."""
    parts = variant.split("-")
    out = []
    for p in parts:
        if re.fullmatch(r"alpine\d+(\.\d+)*", p):
            p = "alpine"
        elif p in _OLD_DEBIAN:
            p = "bookworm"
        out.append(p)
    return "-".join(out)


class NodeLtsTag(Transform):
    code = "DFX003"
    name = "node-lts-tag"
    summary = "Use an explicit, supported Node.js LTS tag for node base images"
    default_applicability = Applicability.UNSAFE
    related = ("DL3006", "DL3007")

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        table = None  # asked for only when a FROM needs a decision (it may be fetched)
        names: set[str] = set()
        for stage in doc.stages:
            base = stage.base
            earlier_stage = base.lower() in names
            if stage.name:
                names.add(stage.name)
            if earlier_stage or "$" in base:
                continue
            try:
                ref = parse_ref(base)
            except ImageRefError:
                continue
            if ref.is_scratch or ref.digest or not is_official_node(ref):
                continue
            line = stage.from_.line
            if table is None:
                table = ctx.node_releases()
            moving = _variant_of_moving(ref.tag)
            eol_major = None
            if moving is None:
                m = _VERSION_TAG.match(ref.tag or "")
                if not m:
                    continue
                rel = table.get(int(m.group(1)))
                if rel is None or not rel.is_eol_on(ctx.today):
                    continue
                eol_major, variant = rel, _modern_variant(m.group(2) or "")
                kind = "eol"
            else:
                kind, variant = moving
            constraint, source = self._constraint(ctx)
            allowed = None
            if constraint is not None:
                allowed = major_filter(constraint)
                if allowed is None:
                    yield Skip(self.code, f"{source} {constraint!r} is not a version range dockerfix understands; "
                               f"{base} left as it is", line)
                    continue
            rec = table.recommended(ctx.today, allowed)
            if rec is None:
                why = f"{source} {constraint!r} admits no supported LTS line" if constraint else "no supported LTS line"
                yield Skip(self.code, f"{why} ({table.label}); {base} left as it is", line)
                continue
            new_tag = f"{rec.major}-{variant}" if variant else str(rec.major)
            if new_tag == ref.tag:
                continue
            new = ref.format(tag=new_tag)
            dated = table.label
            if kind == "eol":
                msg = (f"Node.js {eol_major.major} reached end-of-life on {eol_major.end}: use the LTS line "
                       f"{rec.major} ({dated}); a major upgrade, test the app")
                app = Applicability.UNSAFE
            elif kind == "lts":
                msg = f"`{ref.tag}` moves with every LTS release; {rec.major} is today's LTS line ({dated})"
                app = Applicability.SAFE
            else:
                shown = ref.tag or "no tag (latest)"
                msg = (f"`{shown}` follows the newest release, whatever its major; use the LTS line "
                       f"{rec.major}" + (f" allowed by {source}" if constraint else "") + f" ({dated})")
                app = Applicability.UNSAFE
            yield Fix(self.code, msg, line, (Edit.replace(stage.base_span, new),), app)

    @staticmethod
    def _constraint(ctx: Context) -> tuple[str | None, str]:
        if ctx.package is not None and ctx.package.engines_node:
            return ctx.package.engines_node, "engines.node"
        if ctx.nvmrc:
            return ctx.nvmrc, ".nvmrc"
        return None, ""
