"""The pipeline: the only code that changes Dockerfile text.

parse → for each transform in order: collect its fixes, drop suppressed ones and those below the
requested applicability, apply the non-overlapping rest from the end, re-parse → repeat rounds
until one changes nothing.  The result must parse (our parser and, when installed, BuildKit's) and
a further round must change nothing; otherwise the file is left untouched and the result is an
internal error naming the transforms involved.  ``run`` never raises for bad input.

Every fix and skip is recorded in the file as read: each step's edits extend an exact offset map
(:class:`~.positions.Origin`) attached to the document it produced, and a finding found on that
document gets the line and column its instruction had in the input (``Fix.step`` names the text
its edit offsets refer to; :meth:`FileResult.step_text` rebuilds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from collections.abc import Sequence

from .context import Context
from .document import Document, ParseError, parse
from .edits import Applicability, Edit, Fix, Skip, apply_edits, select_non_overlapping
from .positions import Origin, attach, origin_of, position
from .secrets import mask_message
from .suppress import collect
from .transform import Transform
from .validate import validate

MAX_ROUNDS = 8


@dataclass
class FileResult:
    """What happened to one file.  ``status``: unchanged | changed | error."""

    path: str
    before: str
    after: str
    status: str = "unchanged"
    applied: list[Fix] = field(default_factory=list)
    pending: list[Fix] = field(default_factory=list)  # not applied: unsafe, display-only, overlaps
    skips: list[Skip] = field(default_factory=list)
    suppressed: int = 0
    error: str | None = None
    error_kind: str | None = None  # "input" (the file is bad) or "internal" (a dockerfix bug)
    #: Other files the fix wants to write (e.g. .dockerignore): path -> (old text | None, new text)
    extra_files: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    #: The edits of each step that changed the Dockerfile, in order (offsets into that step's
    #: text, see :meth:`step_text`).  Every line and column above is in the file as read; a fix's
    #: ``step`` names the text its edit offsets refer to.
    step_edits: list[tuple[Edit, ...]] = field(default_factory=list)

    def step_text(self, step: int) -> str:
        """The text (without a byte order mark) that step ``step`` started from: 0 is the file
        as read, ``len(step_edits)`` the result."""
        text = self.before[1:] if self.before.startswith("\ufeff") else self.before
        for edits in self.step_edits[:step]:
            text = apply_edits(text, list(edits))
        return text

    @property
    def changed(self) -> bool:
        return self.status == "changed"

    @property
    def fixable(self) -> bool:
        """Would a run with more permissive settings change something?"""
        return self.changed or any(f.has_edits and f.applicability > Applicability.DISPLAY_ONLY for f in self.pending)


def _is_covering_comment(doc: Document, fix: Fix) -> bool:
    spans = list(doc.comment_spans())
    for e in fix.edits:
        if e.start == e.end:
            continue
        for s in spans:
            if e.start < s.end and s.start < e.end:
                return True
    return False


class Pipeline:
    def __init__(self, transforms: Sequence[Transform], *, required: Applicability = Applicability.SAFE,
                 max_rounds: int = MAX_ROUNDS):
        self.transforms = list(transforms)
        self.required = required
        self.max_rounds = max_rounds

    def _round(self, doc: Document, ctx: Context, result: FileResult, record: bool,
               memo: dict[int, tuple[tuple, list]]) -> tuple[Document, Context, bool]:
        """One pass over every transform.  Returns the new document and context, and whether any
        text (the Dockerfile's or another context file's) changed.  ``memo`` holds each
        transform's findings for the text it last saw: a transform is pure, so on the same text
        (e.g. in the settled round) it is not asked again.  Every finding recorded is placed in
        the file as read (:func:`_placed`) with the map of the document it was found on."""
        changed = False
        sup = collect(doc)
        for i, t in enumerate(self.transforms):
            key = (doc.source, tuple(sorted(ctx.overrides.items())))
            hit = memo.get(i)
            if hit is not None and hit[0] == key:
                findings = hit[1]
            else:
                try:
                    findings = list(t.fix(doc, ctx))
                except Exception as exc:  # a transform bug must not take the run down
                    raise _TransformCrash(t.code, exc) from exc
                memo[i] = (key, findings)
            candidates: list[Fix] = []
            for f in findings:
                if isinstance(f, Skip):
                    if record and not sup.suppressed(f.code, t.related, f.line):
                        result.skips.append(_placed(doc, replace(f, reason=mask_message(f.reason))))
                    continue
                if _suppressed(sup, doc, f, t.related):
                    result.suppressed += record
                    continue
                if f.path is None and f.applicability == Applicability.SAFE and _is_covering_comment(doc, f):
                    f = f.with_applicability(Applicability.UNSAFE)
                if f.has_edits and f.applicability >= self.required and f.applicability > Applicability.DISPLAY_ONLY:
                    candidates.append(f)
                elif record or f.applicability == Applicability.DISPLAY_ONLY:
                    # reports (display-only) stay true once made; other pending fixes are taken
                    # from the settled round, so they describe the final text
                    f = _placed(doc, _masked(f))
                    if not any(p.code == f.code and p.message == f.message for p in result.pending):
                        result.pending.append(f)
            others = [f for f in candidates if f.path is not None]
            candidates = [f for f in candidates if f.path is None]
            if others:
                ctx = self._apply_other_files(others, ctx, result, doc)
                changed = True
            if not candidates:
                continue
            kept, _deferred = select_non_overlapping(candidates)
            edits = [e for f in kept for e in f.edits]
            text = apply_edits(doc.source, edits)
            if doc.bom:
                text = "\ufeff" + text
            try:
                new_doc = parse(text)
            except ParseError as e:
                raise _BrokeSyntax(t.code, str(e)) from None
            origin = origin_of(doc)
            result.applied.extend(_placed(doc, _masked(f)) for f in kept)
            result.step_edits.append(tuple(sorted(edits, key=lambda e: (e.start, e.end))))
            if origin is not None:
                attach(new_doc, origin.then(edits))
            doc, changed = new_doc, True
            sup = collect(doc)
        return doc, ctx, changed

    @staticmethod
    def _apply_other_files(fixes: list[Fix], ctx: Context, result: FileResult, doc: Document) -> Context:
        """Apply fixes to other build-context files (e.g. .dockerignore); the transforms see the
        new text through the returned context in later rounds."""
        overrides: dict[str, str] = {}
        by_path: dict[str, list[Fix]] = {}
        for f in fixes:
            assert f.path is not None  # only fixes to other files come here
            by_path.setdefault(f.path, []).append(f)
        for path, group in by_path.items():
            current = ctx.file_text(path)
            if path not in result.extra_files:
                result.extra_files[path] = (current, current or "")
            kept, _deferred = select_non_overlapping(group)
            overrides[path] = apply_edits(current or "", [e for f in kept for e in f.edits])
            result.applied.extend(_placed(doc, _masked(f)) for f in kept)
        return ctx.with_files(overrides)

    def run(self, text: str, ctx: Context, path: str = "<stdin>") -> FileResult:
        result = FileResult(path=path, before=text, after=text)
        try:
            doc = parse(text)
        except ParseError as e:
            result.status, result.error, result.error_kind = "error", f"does not parse: {e}", "input"
            return result
        attach(doc, Origin(doc.source))
        memo: dict[int, tuple[tuple, list]] = {}
        try:
            for _ in range(self.max_rounds):
                doc, ctx, changed = self._round(doc, ctx, result, record=False, memo=memo)
                if not changed:
                    break
            else:
                codes = sorted({f.code for f in result.applied})
                return self._internal(result, f"fixes did not settle after {self.max_rounds} rounds ({', '.join(codes)})")
            # the settled round, recorded: skips and pending fixes describe the final text
            doc, ctx, changed = self._round(doc, ctx, result, record=True, memo=memo)
            if changed:  # pragma: no cover - guarded by the loop above
                return self._internal(result, "a second run would change the file again")
        except _TransformCrash as c:
            import traceback  # only for a crash: its import costs start-up

            detail = "".join(traceback.format_exception_only(type(c.exc), c.exc)).strip()
            return self._internal(result, f"{c.code} crashed: {detail}")
        except _BrokeSyntax as b:
            return self._internal(result, f"{b.code} produced text that does not parse ({b.detail})")
        for path, (old, _new) in list(result.extra_files.items()):
            new_text = ctx.overrides.get(path, old or "")
            if new_text == (old or "") and old is not None:
                del result.extra_files[path]
            else:
                result.extra_files[path] = (old, new_text)
        after = ("\ufeff" if doc.bom else "") + doc.source
        if result.extra_files and after == text:
            result.status = "changed"
        if after != text:
            try:
                validate(after, doc=doc)
            except ParseError as e:
                return self._internal(result, f"result rejected by the BuildKit check: {e}")
            result.after, result.status = after, "changed"
        # de-duplicate skips (one per code/line/reason)
        seen = set()
        uniq = []
        for s in result.skips:
            key = (s.code, s.line, s.reason)
            if key not in seen:
                seen.add(key)
                uniq.append(s)
        result.skips = uniq
        return result

    @staticmethod
    def _internal(result: FileResult, msg: str) -> FileResult:
        result.status, result.error, result.error_kind = "error", f"internal error, file left untouched: {msg}", "internal"
        result.after = result.before
        result.applied.clear()
        result.extra_files.clear()
        result.step_edits.clear()
        return result


def lines_to_original(result: FileResult) -> None:
    """Kept for callers of the old API: the pipeline now places every finding in the file as read
    itself (exactly, through :class:`~.positions.Origin`), so there is nothing left to do."""
    return None


def _placed(doc: Document, f):
    """``f`` (a Fix or Skip found on ``doc``) with its line and column in the file as read and,
    for a fix, the step whose text its edit offsets refer to."""
    line, column = position(doc, f.line)
    if isinstance(f, Fix):
        origin = origin_of(doc)
        step = len(origin.steps) if origin is not None and f.path is None else 0  # other files: their own text
        return replace(f, line=line, column=column, step=step)
    return replace(f, line=line, column=column)


def _suppressed(sup, doc: Document, f: Fix, related: tuple[str, ...]) -> bool:
    """A fix is silenced by a suppression on its reported line or on any instruction it edits
    (its edits apply together, so one silenced instruction silences the whole fix)."""
    lines = {f.line}
    if f.path is None:
        lines.update(_anchor_line(doc, e.start) for e in f.edits)
    return any(sup.suppressed(f.code, related, line) for line in lines)


def _anchor_line(doc: Document, pos: int) -> int:
    """The first line of the instruction an edit at ``pos`` belongs to: the one containing it,
    else the next one (a line inserted above a comment block belongs to the instruction below)."""
    for ins in doc.instructions:
        if pos <= ins.span.end:
            return ins.line
    return doc.line_of(pos)


def _masked(f: Fix) -> Fix:
    """The fix as reports show it: messages and notes never carry a secret value (the edits,
    which only the pipeline applies, stay as they are)."""
    return replace(f, message=mask_message(f.message), notes=tuple(mask_message(n) for n in f.notes))


class _TransformCrash(Exception):
    def __init__(self, code: str, exc: Exception):
        self.code, self.exc = code, exc


class _BrokeSyntax(Exception):
    def __init__(self, code: str, detail: str):
        self.code, self.detail = code, detail
