"""Pipeline guarantees: only valid, stable results are returned; anything else leaves the file
untouched and reports an internal error naming the transform."""

from __future__ import annotations

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip, apply_edits, select_non_overlapping
from dockerfix.fixer.pipeline import Pipeline
from dockerfix.fixer.transform import Transform

SEED = "FROM node:22\n# keep me\nRUN npm install\nCMD node server.js\n"


class _T(Transform):
    code, name, summary = "DFX900", "test", "test"

    def __init__(self, fn):
        self.fn = fn

    def fix(self, doc: Document, ctx: Context):
        return self.fn(doc)


def run(fn, text=SEED, required=Applicability.SAFE):
    return Pipeline([_T(fn)], required=required).run(text, Context(), path="Dockerfile")


def test_breaking_syntax_is_an_internal_error_and_leaves_the_file():
    r = run(lambda d: [Fix("DFX900", "x", 1, (Edit.replace(d.instructions[0].keyword_span, "FROB"),))])
    assert r.status == "error" and r.error_kind == "internal"
    assert "DFX900" in r.error and r.after == SEED and not r.applied


def test_a_crashing_transform_is_reported_not_raised():
    def boom(_d):
        raise RuntimeError("kaboom")
    r = run(boom)
    assert r.status == "error" and "DFX900 crashed" in r.error and "kaboom" in r.error


def test_non_converging_fix_is_caught():
    # appends a comment at the end every round: never settles
    r = run(lambda d: [Fix("DFX900", "x", 1, (Edit.insert(len(d.source), "# more\n"),))])
    assert r.status == "error" and "did not settle" in r.error and r.after == SEED


def test_unparseable_input_is_an_input_error():
    r = run(lambda d: [], text="FROBNICATE\n")
    assert r.status == "error" and r.error_kind == "input" and "unknown instruction" in r.error


def test_skips_and_pending_are_reported_once():
    def fn(d):
        yield Skip("DFX900", "cannot prove it", 3)
        yield Fix("DFX900", "unsafe idea", 3, (Edit.insert(0, "# x\n"),), Applicability.UNSAFE)
        yield Fix("DFX900", "just saying", 3, (), Applicability.DISPLAY_ONLY)
    r = run(fn)
    assert r.status == "unchanged"
    assert [s.reason for s in r.skips] == ["cannot prove it"]
    assert sorted(f.message for f in r.pending) == ["just saying", "unsafe idea"]
    assert r.fixable  # the unsafe fix would apply with --unsafe-fixes


def test_unsafe_applies_when_asked_and_is_idempotent():
    def fn(d):
        if not d.source.startswith("# x"):
            yield Fix("DFX900", "unsafe idea", 1, (Edit.insert(0, "# x\n"),), Applicability.UNSAFE)
    r = run(fn, required=Applicability.UNSAFE)
    assert r.status == "changed" and r.after == "# x\n" + SEED


def test_an_edit_over_a_comment_is_downgraded_to_unsafe():
    def fn(d):
        s = d.instructions[0].span.end
        e = d.instructions[1].span.start
        if "# keep me" in d.source:
            yield Fix("DFX900", "drop the comment", 1, (Edit(s, e, "\n"),))
    r = run(fn)
    assert r.status == "unchanged" and r.pending[0].applicability == Applicability.UNSAFE


def test_suppression_comment_silences_the_code():
    text = "FROM node:22\n# dockerfix: ignore=DFX900\nCMD node server.js\n"
    r = run(lambda d: [Fix("DFX900", "x", 3, (Edit.replace(d.instructions[1].args_span, '["node"]'),))], text=text)
    assert r.status == "unchanged" and r.suppressed == 1 and not r.pending
    whole = "# dockerfix: ignore-file\nFROM node:22\nCMD node server.js\n"
    r = run(lambda d: [Fix("DFX900", "x", 3, (Edit.replace(d.instructions[1].args_span, '["node"]'),))], text=whole)
    assert r.status == "unchanged"


def test_overlapping_fixes_wait_for_the_next_round():
    a = Fix("A", "a", 1, (Edit(0, 4, "from"),))
    b = Fix("B", "b", 1, (Edit(2, 6, "xx"),))
    c = Fix("C", "c", 1, (Edit(10, 10, "!"),))
    kept, deferred = select_non_overlapping([a, b, c])
    assert kept == [a, c] and deferred == [b]
    assert apply_edits("0123456789ab", [Edit(0, 1, "X"), Edit(5, 5, "-")]) == "X1234-56789ab"


def test_bom_and_crlf_survive_a_fix():
    text = "\ufeffFROM node:22\r\nCMD node server.js\r\n"
    r = run(lambda d: [Fix("DFX900", "x", 2, (Edit.replace(d.instructions[1].args_span, '["node", "server.js"]'),))]
            if not d.instructions[1].is_json else [], text=text)
    assert r.after == '\ufeffFROM node:22\r\nCMD ["node", "server.js"]\r\n'


def test_fixes_to_other_context_files_are_collected_and_settle():
    class Ignore(Transform):
        code, name, summary = "DFX901", "ignore", "test"

        def fix(self, doc, ctx):
            current = ctx.file_text(".dockerignore") or ""
            if "node_modules" not in current.split("\n"):
                yield Fix("DFX901", "ignore node_modules", 0,
                          (Edit.insert(len(current), "node_modules\n"),), path=".dockerignore")

    ctx = Context(dockerignore=".git\n")
    r = Pipeline([Ignore()]).run(SEED, ctx, path="Dockerfile")
    assert r.status == "changed" and r.after == SEED
    assert r.extra_files == {".dockerignore": (".git\n", ".git\nnode_modules\n")}
    created = Pipeline([Ignore()]).run(SEED, Context(), path="Dockerfile")
    assert created.extra_files == {".dockerignore": (None, "node_modules\n")}
