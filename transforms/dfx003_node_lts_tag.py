"""Give node base images an explicit, supported LTS tag; report end-of-life majors, and upgrade
them only when asked (``--upgrade-node``) and when the evidence allows.

## What it does
``FROM node``, ``node:latest``, ``node:current``, ``node:lts`` and the tagless variants
(``node:alpine``, ``node:lts-slim``...) get an explicit major: the newest Active LTS line that
satisfies ``engines.node`` in package.json (or ``.nvmrc``), keeping the variant the user chose
(``node:lts-alpine`` becomes ``node:26-alpine``).  This is not an upgrade: it writes down the
major the tag stands for.  When the Dockerfile runs ``yarn`` or ``corepack`` (without installing
it) and that line's official image lacks it (no yarn from Node 26, docker-node PR #2422; no
corepack from Node 25), the tag already resolves to an image where the build fails: the newest
LTS line whose image still ships the tool is written instead (``node:lts`` becomes
``node:24-trixie``, keeping the release the tag has today), or nothing when that line has no
published tag for the variant.  All moving-tag stages of a file move to the same major.

A major that has reached end-of-life (``node:16``, ``node:carbon``, ``node:0.10``,
``node:18-bullseye-slim``...) is reported, naming its end-of-life date and the supported LTS
lines.  Moving it to another major is a decision of its own (it needs the app's tests), so it is
only offered with ``--upgrade-node`` (or ``upgrade-node = true`` in ``[tool.dockerfix]``); it is
never implied by ``--unsafe-fixes``.  Before an upgrade every supported LTS line newer than the
image's, newest first, is checked against the evidence, and the first one all of it allows is
chosen:

* ``engines.node`` of the project (package.json, else ``.nvmrc``) and of every locked package
  (npm lockfiles v2/v3 and pnpm lockfiles record ``engines`` per package);
* known breakages by major (a dated table shipped with dockerfix): OpenSSL 3 from Node 17 breaks
  webpack 4 and react-scripts < 5 (``error:0308010C``) unless ``--openssl-legacy-provider`` is
  set; node-sass supports Node only up to 20;
* the package manager the Dockerfile runs: official images of Node 26 and later have no yarn
  (docker-node PR #2422) and Node 25 and later ship no corepack, so a Dockerfile that runs
  ``yarn`` or ``corepack`` without installing it stays on a line that has it;
* the tag must exist: it is written only when dockerfix's table of the official image's tags
  (or, online, the registry) proves it is published and maintained.  The Debian or Alpine
  release is kept where the new major is published with it (``node:20`` becomes
  ``node:26-bookworm``, since ``node:26`` is trixie); otherwise the message says the
  distribution changes, from what to what.

When no line is allowed, nothing changes and the report says why, line by line.  Packages with
install scripts (native modules) are named in the report: they are rebuilt for the new major.

Every message names the date of the data it used.  The release table ships with dockerfix and,
online, is refreshed from the Node.js Release Working Group's schedule (cached for a week;
``--offline`` keeps the bundled one).

## Why
``node`` and ``node:latest`` move to a new major (often a short-lived odd "Current" line) the
day it is released, so the same Dockerfile builds a different runtime tomorrow; a digest pinned
to such a tag records the accident rather than a choice.  End-of-life majors get no security
fixes, and their Debian releases are often archived (``apt-get update`` fails).  But a major
upgrade that breaks the build (OpenSSL 3 and webpack 4, a missing yarn) makes a whole pull
request unmergeable, so it is kept apart and made only on evidence.

## Example
```diff
-FROM node:lts-alpine
+FROM node:26-alpine
```
With ``--upgrade-node --unsafe-fixes``, a project whose Dockerfile runs ``yarn install``:
```diff
-FROM node:16-bullseye-slim
+FROM node:24-bookworm-slim
```
(26 is left out: its image has no yarn; the message says Debian 11 (bullseye) becomes
Debian 12 (bookworm), since ``node:24-bullseye-slim`` is no longer updated.)

## Fix safety
``lts`` tags are rewritten safely: today ``node:lts`` and ``node:<newest LTS>`` are the same image
(when ``engines.node`` asks for an older line, the rewrite changes the major: unsafe).
``latest``/``current``/no tag can move to a different major than the one the image had: unsafe.  A
moving tag written as an older line because its image lacks the yarn or corepack the Dockerfile runs
changes the image (``node:lts`` is 26, the fix writes 24): it mends a build that fails as it is, but
it is a different major: unsafe, and the message names the tool, the line that lacks it and the
release kept or changed.  An end-of-life upgrade is a major upgrade: unsafe, and only offered with
``--upgrade-node``; without it the finding is report-only.  An upgrade needs package.json and a
lockfile in the build context (the evidence); without them it is skipped with the reason.  When
``engines.node`` or ``.nvmrc`` rules out every supported LTS line, or cannot be read, nothing is
changed and the reason is reported.  A tag that is not proved to exist (``node:26-alpine3.16``,
``node:26-carbon``) is never written, for safe fixes too.  Images with a variable tag, a digest
without a tag, or a registry other than Docker Hub's official ``node`` are left alone; a pinned
moving tag (``node:lts@sha256:…``) is a pin (``--update-pins`` refreshes it).  A pinned end-of-life
image is still reported, and upgraded only when the new tag can be pinned in the same run (the old
digest is dropped, DFX002 pins the new tag; ``--offline`` keeps the pin and only reports).
Switching a Debian image to alpine (or back) is never done (musl vs glibc, native modules).

## Related codes
hadolint DL3006 (tag the image explicitly), DL3007 (using latest); trivy DS-0001; checkov CKV_DOCKER_7.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Stage
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.imageref import ImageRefError
from dockerfix.fixer.imageref import parse as parse_ref
from dockerfix.fixer.node_images import MAINTAINED, NodeImages, ParsedTag
from dockerfix.fixer.node_releases import major_filter
from dockerfix.fixer.transform import Transform
from dockerfix.fixer.positions import source_line

from ._images import is_official_node, repin_blocker
from ._startcmd import argv_of

_LEGACY_PROVIDER = "--openssl-legacy-provider"
#: ``<program> <sub-command>`` words that install a package, and what follows them.
_INSTALLERS = {("npm", "i"), ("npm", "install"), ("npm", "add"), ("apk", "add"), ("apt-get", "install"),
               ("apt", "install")}


@dataclass
class _Plan:
    """What the evidence says about an upgrade of one FROM."""

    target: int | None = None
    tags: dict = field(default_factory=dict)  # stage index -> (tag, distribution note)
    rejected: list[str] = field(default_factory=list)  # "26: the Dockerfile runs yarn ..." per ruled-out line
    checked: list[str] = field(default_factory=list)  # the evidence looked at
    notes: list[str] = field(default_factory=list)
    missing: str | None = None  # a fact without which no upgrade is offered


class NodeLtsTag(Transform):
    code = "DFX003"
    name = "node-lts-tag"
    summary = "Use an explicit, supported Node.js LTS tag for node base images"
    default_applicability = Applicability.UNSAFE
    related = ("DL3006", "DL3007")

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        table = None  # asked for only when a FROM needs a decision (it may be fetched)
        facts: NodeImages = ctx.node_images
        names: set[str] = set()
        eol: list[tuple] = []  # (stage, ref, parsed, release): upgraded together, to one major
        current: set[int] = set()  # supported majors other node stages already use
        moving: list[tuple] = []  # (stage, ref, parsed): moving tags made explicit, to one major
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
            if ref.is_scratch or not is_official_node(ref) or (ref.digest and ref.tag is None):
                continue
            if table is None:
                table = ctx.node_releases()
            parsed = facts.parse_tag(ref.tag)
            if parsed.major is None and ref.digest:
                continue  # a pinned moving tag is a pin: refreshing it is --update-pins' job
            if parsed.major is None:
                moving.append((stage, ref, parsed))
                continue
            rel = table.get(parsed.major)
            oldest = min((r.major for r in table.releases), default=0)
            if rel is not None and not rel.is_eol_on(ctx.today):
                current.add(parsed.major)
                continue
            if rel is None and parsed.major >= oldest:
                continue  # a major the release table does not know (newer data needed): leave it
            eol.append((stage, ref, parsed, rel))
        plan = self._plan(doc, ctx, eol, current, table, facts) if eol else None
        # the yarn/corepack every moving-tag stage runs: stages that copy node_modules from each
        # other stay on one major, so one stage's need decides for all of them
        uses = [self._tools_used(doc, stage) for stage, _ref, _parsed in moving]
        todo = [(s.index, "moving", (s, r, p)) for s, r, p in moving] + [(e[0].index, "eol", e) for e in eol]
        for _index, kind, item in sorted(todo, key=lambda t: t[0]):
            if kind == "moving":
                stage, ref, parsed = item
                yield from self._moving(doc, ctx, stage, ref, parsed, table, facts, uses)
            else:
                stage, ref, parsed, rel = item
                assert plan is not None
                yield from self._end_of_life(ctx, stage, ref, parsed, rel, table, plan,
                                             facts.distro_of_variant(parsed.major, parsed.variant))

    # -- moving tags: latest / current / lts / bare variants ------------------------------------
    def _moving(self, doc, ctx, stage, ref, parsed: ParsedTag, table, facts: NodeImages, uses: list[dict]):
        line = stage.from_.line
        base = stage.base
        kind, variant = parsed.alias or "latest", parsed.variant
        constraint, source = self._constraint(ctx)
        allowed = None
        if constraint is not None:
            allowed = major_filter(constraint)
            if allowed is None:
                yield Skip(self.code, f"{source} {constraint!r} is not a version range dockerfix understands; "
                           f"{base} left as it is", line)
                return
        rec = table.recommended(ctx.today, allowed)
        if rec is None:
            why = f"{source} {constraint!r} admits no supported LTS line" if constraint else "no supported LTS line"
            yield Skip(self.code, f"{why} ({table.label}); {base} left as it is", line)
            return
        if self._missing_tools(doc, uses, facts, rec.major):
            yield from self._moving_without_tool(doc, ctx, stage, ref, parsed, table, facts, rec.major, uses,
                                                 allowed, constraint, source)
            return
        new_tag = facts.node_tag(rec.major, variant)
        if new_tag == ref.tag:
            return
        state = facts.tag_state(new_tag, ctx.today, table)
        if state != MAINTAINED:
            yield Skip(self.code, f"{rec.major} is today's LTS line ({table.label}), but `node:{new_tag}` "
                       f"{_state_words(state)} ({_published(facts, rec.major)}); {base} left as it is"
                       + _frozen_hint(facts, ref.tag, ctx, table), line)
            return
        new = ref.format(tag=new_tag)
        dated = table.label
        today_lts = table.recommended(ctx.today)
        if kind == "lts" and today_lts is not None and today_lts.major == rec.major:
            msg = f"`{ref.tag}` moves with every LTS release; {rec.major} is today's LTS line ({dated})"
            app = Applicability.SAFE
        elif kind == "lts":
            msg = (f"`{ref.tag}` is Node.js {today_lts.major if today_lts else '?'} today, which {source} "
                   f"{constraint!r} does not allow; use the LTS line {rec.major} ({dated})")
            app = Applicability.UNSAFE
        else:
            shown = ref.tag or "no tag (latest)"
            msg = (f"`{shown}` follows the newest release, whatever its major; use the LTS line "
                   f"{rec.major}" + (f" allowed by {source}" if constraint else "") + f" ({dated})")
            app = Applicability.UNSAFE
        yield Fix(self.code, msg, line, (Edit.replace(stage.base_span, new),), app)

    def _moving_without_tool(self, doc, ctx, stage, ref, parsed: ParsedTag, table, facts: NodeImages, major: int,
                             uses: list[dict], allowed, constraint, source):
        """The line a moving tag stands for has no yarn/corepack that the Dockerfile runs: write the
        newest LTS line whose image still ships them (a different image: unsafe), or skip."""
        line = stage.from_.line
        base, variant = stage.base, parsed.variant
        shown = ref.tag or "no tag (latest)"
        now = facts.moving_major(ref.tag, ctx.today, table) or major
        lacks = self._missing_tools(doc, uses, facts, major)
        tools = " and ".join(t for t, _w in lacks)
        if major == now:
            head = (f"`{shown}` is Node.js {now} today ({table.label}), and the Dockerfile runs "
                    + "; ".join(w for _t, w in lacks) + f": the floating tag already resolves to a line without {tools}")
        else:
            head = (f"`{shown}` is Node.js {now} today ({table.label}); {source} {constraint!r} selects {major}, "
                    "but the Dockerfile runs " + "; ".join(w for _t, w in lacks))

        def fits(m: int) -> bool:
            return (allowed is None or allowed(m)) and not self._missing_tools(doc, uses, facts, m)

        alt = table.recommended(ctx.today, fits)
        if alt is None:
            within = f" that {source} {constraint!r} allows" if constraint else ""
            yield Skip(self.code, f"{head}; no supported LTS line{within} ships {tools}; {base} left as it is "
                       f"(install {tools} in the Dockerfile)", line)
            return
        v = variant.lower()
        if v in ("", "slim", "alpine"):
            tag, note, why = self._target_tag(facts, ctx, table, now, variant, alt.major)
        else:  # a release the user named (`lts-bookworm-slim`): that release, or nothing
            tag, note, why = facts.node_tag(alt.major, variant), "", ""
            state = facts.tag_state(tag, ctx.today, table)
            if state != MAINTAINED:
                tag, why = None, f"`node:{tag}` {_state_words(state)} ({_published(facts, alt.major)})"
        if tag is None:
            yield Skip(self.code, f"{head}; {alt.major}, the newest LTS line that ships {tools}, has no tag for "
                       f"`{variant}`: {why}; {base} left as it is", line)
            return
        own = not self._missing_tools(doc, [self._tools_used(doc, stage)], facts, major)
        msg = (f"{head}; use {alt.major}, the newest LTS line whose image still ships {tools}"
               + (f" ({note})" if note else "")
               + (f"; this stage does not run {tools} itself, but the node stages stay on one major" if own else "")
               + f"; this changes the image from Node.js {now} to {alt.major} to mend what fails today: run the "
               "app's tests")
        notes = (f"to move to Node.js {now} or later, install {tools} in the Dockerfile first",)
        yield Fix(self.code, msg, line, (Edit.replace(stage.base_span, ref.format(tag=tag)),),
                  Applicability.UNSAFE, notes)

    @staticmethod
    def _missing_tools(doc: Document, uses: list[dict], facts: NodeImages, major: int) -> list[tuple[str, str]]:
        """[(tool, why)] for the yarn/corepack that stages run (each use as :meth:`_tools_used`
        finds it, when the stage does not install the tool itself) and ``node:<major>`` images lack."""
        out: dict[str, str] = {}
        for u in uses:
            if "yarn" in u and not facts.has_yarn(major) and not u["yarn-installed"]:
                out.setdefault("yarn", f"yarn (line {source_line(doc, u['yarn'])}), which node:{major} images do not "
                               "include (docker-node PR #2422)")
            if "corepack" in u and not facts.has_corepack(major) and not u["corepack-installed"]:
                out.setdefault("corepack", f"corepack (line {source_line(doc, u['corepack'])}), which Node.js {major} "
                               "does not ship")
        return list(out.items())

    # -- end-of-life majors -----------------------------------------------------------------------
    def _end_of_life(self, ctx, stage, ref, parsed: ParsedTag, rel, table, plan: _Plan, distro=None):
        line = stage.from_.line
        old = parsed.major
        shown_old = "0.x" if old == 0 else str(old)
        ended = f"reached end-of-life on {rel.end}" if rel is not None else "is older than every line in the release table"
        lines = sorted((r.major for r in table.releases if r.is_lts_on(ctx.today)), reverse=True)
        supported = ", ".join(map(str, lines)) or "none"
        head = f"Node.js {shown_old} {ended}; supported LTS lines: {supported} ({table.label})"
        if distro is not None and distro.archived:
            head += f"; its {distro.label} is archived since {distro.since} (`apt-get update` fails there)"
        tag, distro_note = plan.tags.get(stage.index, (None, ""))
        if not ctx.config.upgrade_node:
            if plan.target is not None:
                tail = (f"a major upgrade is its own decision: `--upgrade-node` offers `node:{tag}` "
                        f"(the newest line the evidence allows{'; ' + distro_note if distro_note else ''})")
            elif plan.missing:
                tail = f"`--upgrade-node` cannot offer an upgrade: {plan.missing}"
            else:
                tail = "no supported LTS line fits yet: " + "; ".join(plan.rejected)
            yield Fix(self.code, f"{head}; {tail}", line, (), Applicability.DISPLAY_ONLY, tuple(plan.notes))
            return
        if plan.target is None:
            why = plan.missing or ("no supported LTS line fits: " + "; ".join(plan.rejected))
            yield Fix(self.code, f"{head}; not upgraded (the evidence allows no newer line; see the skipped "
                      "items)", line, (), Applicability.DISPLAY_ONLY, tuple(plan.notes))
            yield Skip(self.code, f"{stage.base} left as it is: {why}", line)
            return
        if ref.digest:  # a pinned end-of-life image: the new tag is pinned by DFX002 in the same run
            blocker = repin_blocker(ctx, ref.format(tag=tag, digest=False))
            if blocker is not None:
                yield Fix(self.code, f"{head}; `--upgrade-node` offers `node:{tag}`, but {stage.base} is pinned and "
                          f"the new tag cannot be pinned in this run ({blocker})", line, (),
                          Applicability.DISPLAY_ONLY, tuple(plan.notes))
                return
        msg = (f"Node.js {shown_old} {ended}: move to the LTS line {plan.target} ({table.label}); "
               + (f"{distro_note}; " if distro_note else "")
               + ("the old digest is dropped and digest pinning (DFX002) pins the new tag; " if ref.digest else "")
               + "a major upgrade: run the app's tests")
        notes = [f"checked: {', '.join(plan.checked)}"] + [f"ruled out {r}" for r in plan.rejected] + plan.notes
        yield Fix(self.code, msg, line, (Edit.replace(stage.base_span, ref.format(tag=tag, digest=False)),),
                  Applicability.UNSAFE, tuple(notes))

    def _plan(self, doc: Document, ctx: Context, eol: list[tuple], current: set[int], table,
              facts: NodeImages) -> _Plan:
        """One decision for every end-of-life node FROM of the file: they move to the same major
        (node_modules built in one stage run in another), the one other node stages already use."""
        plan = _Plan()
        old = min(parsed.major for _s, _r, parsed, _rel in eol)
        newest_old = max(parsed.major for _s, _r, parsed, _rel in eol)
        if ctx.package is None:
            plan.missing = ctx.package_error or "no package.json in the build context (the app's requirements are unknown)"
            return plan
        if ctx.lockfile is None:
            plan.missing = "no lockfile in the build context (the installed packages are unknown)"
            return plan
        constraint, source = self._constraint(ctx)
        allowed = None
        if constraint is not None:
            allowed = major_filter(constraint)
            if allowed is None:
                plan.missing = f"{source} {constraint!r} is not a version range dockerfix understands"
                return plan
            plan.checked.append(f"{source} {constraint!r}")
        else:
            plan.checked.append("engines.node (none set)")
        locked = [p for p in ctx.locked_packages if p.engines_node]
        filters: dict[str, Callable[[int], bool] | None] = {}
        unread: set[str] = set()
        if locked:
            plan.checked.append(f"engines of {len(locked)} locked packages")
        else:
            plan.checked.append(f"{ctx.lockfile} (it records no engines)")
        breakage_versions = self._breakage_versions(ctx, facts)
        legacy = _LEGACY_PROVIDER in doc.source or any(_LEGACY_PROVIDER in s for s in ctx.package.scripts.values())
        plan.checked.append("known breakages (" + ", ".join(sorted({b.package for b in facts.breakages})) + ")")
        uses = [self._tools_used(doc, stage) for stage, *_rest in eol]
        run = sorted({k for u in uses for k in u if not k.endswith("-installed")})
        plan.checked.append("package managers in the image (" + (", ".join(run) if run else "npm only") + ")")
        candidates = sorted((r for r in table.releases if r.is_lts_on(ctx.today) and r.major > newest_old),
                            key=lambda r: r.major, reverse=True)
        if not candidates:
            plan.missing = f"no supported LTS line is newer than {newest_old}"
            return plan
        if current:
            plan.checked.append("the node majors of the other stages (" + ", ".join(map(str, sorted(current))) + ")")
        rejected: list[tuple[list[int], str]] = []
        for r in candidates:
            m = r.major
            reasons: list[str] = []
            if allowed is not None and not allowed(m):
                reasons.append(f"{source} {constraint!r} excludes it")
            blockers = []
            for p in locked:
                if p.engines_node is None:  # `locked` holds only packages that record engines
                    continue
                f = filters.get(p.engines_node)
                if f is None and p.engines_node not in filters:
                    f = filters[p.engines_node] = major_filter(p.engines_node)
                if f is None:
                    unread.add(p.name)
                elif not f(m):
                    blockers.append(f"{p.name}@{p.version} ({p.engines_node})")
            if blockers:
                more = f" and {len(blockers) - 3} more" if len(blockers) > 3 else ""
                reasons.append("engines.node of " + ", ".join(sorted(set(blockers))[:3]) + more)
            for b, versions in breakage_versions:
                if b.unless and legacy:
                    continue
                hit = [v for v in versions if b.breaks(v, m) and not b.breaks(v, old)]
                if hit:
                    reasons.append(f"{b.package} {hit[0] or '(version unknown)'}: {b.why}")
            if current and m not in current:
                reasons.append("other stages use node " + ", ".join(map(str, sorted(current)))
                               + " (all stages move to one major)")
            reasons.extend(f"the Dockerfile runs {why}" for _tool, why in self._missing_tools(doc, uses, facts, m))
            tags = {}
            for stage, _ref, parsed, _rel in eol:
                tag, note, why = self._target_tag(facts, ctx, table, parsed.major, parsed.variant, m)
                if tag is None:
                    reasons.append(why)
                tags[stage.index] = (tag, note)
            reasons = list(dict.fromkeys(reasons))
            if reasons:
                why = "; ".join(reasons)
                same = next((i for i, (_ms, w) in enumerate(rejected) if w == why), None)
                if same is None:
                    rejected.append(([m], why))
                else:
                    rejected[same][0].append(m)
                continue
            plan.target, plan.tags = m, tags
            break
        plan.rejected = [f"{', '.join(map(str, ms))}: {why}" for ms, why in rejected]
        if unread:
            plan.notes.append("engines not understood (not checked): " + ", ".join(sorted(unread)[:5])
                              + (f" and {len(unread) - 5} more" if len(unread) > 5 else ""))
        native = sorted({p.name for p in ctx.locked_packages if p.has_install_script})
        if native and plan.target is not None:
            plan.notes.append(f"packages with install scripts are rebuilt for Node.js {plan.target} (test the build): "
                              + ", ".join(native[:8]) + (f" and {len(native) - 8} more" if len(native) > 8 else ""))
        return plan

    @staticmethod
    def _target_tag(facts: NodeImages, ctx: Context, table, old: int, variant: str,
                    new: int) -> tuple[str | None, str, str]:
        """(tag, distribution note, why none) for ``node:<new>`` standing in for ``node:<old>-<variant>``."""
        v = variant.lower()
        parts = v.split("-")
        alpine = parts[0].startswith("alpine")
        slim = parts[-1] == "slim"
        debian_named = facts.distro(parts[0]) is not None and not alpine
        if v not in ("", "slim", "alpine") and not alpine and not (debian_named and (len(parts) == 1 or v.endswith("-slim"))):
            return None, "", f"the variant `{variant}` has no counterpart in node:{new} images"
        if alpine and len(parts) > 1:
            return None, "", f"the variant `{variant}` has no counterpart in node:{new} images"
        old_d = facts.distro_of_variant(old, v)

        def ok(tag: str) -> bool:
            return facts.tag_state(tag, ctx.today, table) == MAINTAINED

        if v in ("", "slim", "alpine"):
            same = facts.node_tag(new, v)
            d = facts.distro_of_variant(new, v)
            if ok(same) and old_d is not None and d is not None and d.release == old_d.release:
                return same, f"keeps {d.label}", ""
        if old_d is not None and "/" not in old_d.release:
            keep = (f"alpine{old_d.release}" if old_d.family == "alpine" else old_d.release + ("-slim" if slim else ""))
            if ok(facts.node_tag(new, keep)):
                return facts.node_tag(new, keep), f"keeps {old_d.label}", ""
        m = facts.major(new)
        tag: str | None
        if v in ("", "slim", "alpine"):
            tag = facts.node_tag(new, v)
        elif alpine:
            tag = facts.node_tag(new, m.alpine_default) if m and m.alpine_default else None
        else:
            tag = facts.node_tag(new, m.debian_default + ("-slim" if slim else "")) if m and m.debian_default else None
        if tag is None or not ok(tag):
            return None, "", f"no published node:{new} tag for the variant `{variant or 'default'}`"
        d = facts.distro_of_tag(tag, ctx.today, table)
        was = old_d.label if old_d is not None else f"the release of node:{old}{'-' + variant if variant else ''}"
        note = f"the distribution changes from {was} to {d.label}" if d is not None else "the distribution may change"
        return tag, note, ""

    @staticmethod
    def _breakage_versions(ctx: Context, facts: NodeImages):
        """[(breakage, [versions of its package installed])] for the packages the project has."""
        out = []
        for b in facts.breakages:
            versions = sorted({p.version or "" for p in ctx.locked_packages if p.name == b.package})
            if not versions and ctx.package is not None:
                spec = ctx.package.dependencies.get(b.package) or ctx.package.dev_dependencies.get(b.package)
                if isinstance(spec, str):
                    m = re.search(r"\d+(?:\.\d+){0,2}", spec)
                    versions = [m.group(0) if m else ""]
            if versions:
                out.append((b, [v or None for v in versions]))
        return out

    @staticmethod
    def _tools_used(doc: Document, stage: Stage) -> dict:
        """Which of yarn/corepack the stage (and stages built on it) runs, by line, and whether the
        Dockerfile installs them itself."""
        family = [s for s in doc.stages if stage in doc.stage_chain(s)]
        uses: dict = {"yarn-installed": False, "corepack-installed": False}
        for st in family:
            for ins in st.instructions:
                if ins.keyword == "RUN":
                    if ins.is_json:
                        argvs = [tuple(ins.json_args or ())]
                    else:
                        argvs = [c.argv for c in ins.commands]
                        argvs += [c.argv for script in ins.heredoc_scripts for c in script.commands]
                elif ins.keyword in ("CMD", "ENTRYPOINT"):
                    argvs = [tuple(argv_of(ins) or ())]
                else:
                    continue
                for argv in argvs:
                    if not argv:
                        continue
                    tool = argv[0].rsplit("/", 1)[-1]
                    if len(argv) > 2 and (tool, argv[1]) in _INSTALLERS:
                        names = {a.split("@", 1)[0] for a in argv[2:] if not a.startswith("-")}
                        global_ = tool != "npm" or any(a in ("-g", "--global") for a in argv[2:])
                        if "yarn" in names and global_:
                            uses["yarn-installed"] = True
                        if "corepack" in names and global_:
                            uses["corepack-installed"] = True
                    if tool in ("yarn", "yarnpkg"):
                        uses.setdefault("yarn", ins.line)
                    elif tool == "corepack":
                        uses.setdefault("corepack", ins.line)
                        if "yarn" in argv[1:] or (len(argv) > 1 and argv[1] == "enable" and not argv[2:]):
                            uses["yarn-installed"] = True  # corepack provides yarn (if corepack exists)
        return uses

    @staticmethod
    def _constraint(ctx: Context) -> tuple[str | None, str]:
        if ctx.package is not None and ctx.package.engines_node:
            return ctx.package.engines_node, "engines.node"
        if ctx.nvmrc:
            return ctx.nvmrc, ".nvmrc"
        return None, ""


def _state_words(state: str) -> str:
    return {"frozen": "is no longer updated", "absent": "is not a published tag"}.get(
        state, "cannot be proved to exist")


def _published(facts: NodeImages, major: int) -> str:
    m = facts.major(major)
    if m is None or not m.variants:
        return f"no variants of node:{major} are recorded"
    return f"node:{major} is published as " + ", ".join(m.variants)


def _frozen_hint(facts: NodeImages, tag: str | None, ctx: Context, table) -> str:
    if facts.tag_state(tag, ctx.today, table) == "frozen":
        return f" (`node:{tag}` itself is no longer updated: choose a maintained variant)"
    return ""
