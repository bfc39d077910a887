"""The document model: lossless round trip, BuildKit-identical boundaries, and the facts the
transforms rely on (escape, directives, newline style, BOM, stages, flags, words, heredocs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfix.fixer.document import ParseError, Span, parse
from dockerfix.fixer.validate import buildkit_boundaries

from fixture_cases import FIXTURES, parser_samples

SAMPLES = parser_samples()
MALFORMED = sorted((FIXTURES / "_malformed").glob("*.txt"))


def _read(p: Path) -> str:
    return p.read_bytes().decode("utf-8")


@pytest.mark.parametrize("path", SAMPLES, ids=[str(p.relative_to(FIXTURES)) for p in SAMPLES])
def test_round_trip_is_byte_exact(path):
    text = _read(path)
    doc = parse(text)
    rendered = ("\ufeff" if doc.bom else "") + "".join(s.text for s in doc.segments)
    assert rendered.encode("utf-8") == path.read_bytes()
    # segments tile the source without gaps or overlaps
    pos = 0
    for seg in doc.segments:
        assert seg.span.start == pos
        pos = seg.span.end
    assert pos == len(doc.source)
    # every instruction's span text starts with its keyword as written
    for ins in doc.instructions:
        assert doc.text(ins.span).lstrip().startswith(ins.keyword_as_written)
        assert doc.text(ins.keyword_span) == ins.keyword_as_written


@pytest.mark.parametrize("path", SAMPLES, ids=[str(p.relative_to(FIXTURES)) for p in SAMPLES])
def test_boundaries_match_buildkit(path):
    pytest.importorskip("dockerfile", reason="BuildKit's parser (PyPI `dockerfile`) is not installed")
    doc = parse(_read(path))
    assert [(i.keyword, i.line, i.end_line) for i in doc.instructions] == buildkit_boundaries(doc.source)


@pytest.mark.parametrize("path", MALFORMED, ids=[p.name for p in MALFORMED])
def test_malformed_files_raise_a_clear_error(path):
    with pytest.raises(ParseError) as exc:
        parse(_read(path))
    assert exc.value.reason and "\n" not in str(exc.value)


def test_escape_directive_backtick():
    doc = parse(_read(FIXTURES / "_parser" / "escape-backtick.Dockerfile"))
    assert doc.escape == "`"
    run = doc.instructions[1]
    assert run.keyword == "RUN" and (run.line, run.end_line) == (3, 6)
    assert len(run.comment_spans) == 1 and doc.text(run.comment_spans[0]).strip() == "# a comment inside"
    assert "Write-Host hi" in run.logical and "#" not in run.logical


def test_heredoc_bodies_are_not_instructions():
    doc = parse(_read(FIXTURES / "_parser" / "heredocs.Dockerfile"))
    assert [i.keyword for i in doc.instructions] == ["FROM", "RUN", "COPY", "RUN", "RUN", "CMD"]
    run = doc.instructions[1]
    assert run.heredocs[0].name == "EOT"
    assert "CMD not-an-instruction" in run.heredocs[0].body
    copy = doc.instructions[2]
    assert copy.heredocs[0].strip_tabs and copy.heredocs[0].name == "EOF"
    two = doc.instructions[3]
    assert [h.name for h in two.heredocs] == ["A", "B"]
    assert doc.instructions[4].heredocs == ()  # "<<NOT_A_HEREDOC" is quoted
    assert doc.directive("syntax").value == "docker/dockerfile:1"


def test_crlf_bom_and_final_newline():
    crlf = parse(_read(FIXTURES / "_parser" / "crlf.Dockerfile"))
    assert crlf.newline == "\r\n" and crlf.final_newline
    assert crlf.instructions[2].logical.endswith("npm cache clean --force")
    bom = parse(_read(FIXTURES / "_parser" / "bom.Dockerfile"))
    assert bom.bom and bom.source.startswith("FROM")
    nofinal = parse(_read(FIXTURES / "_parser" / "no-final-newline.Dockerfile"))
    assert not nofinal.final_newline and nofinal.newline == "\n"


def test_stages_args_flags_and_words():
    doc = parse(_read(FIXTURES / "_parser" / "multistage-args.Dockerfile"))
    assert doc.global_args == {"NODE_VERSION": "22", "BASE": "node:${NODE_VERSION}-alpine"}
    assert doc.stage_names == ("deps", "runtime")
    deps, runtime = doc.stages
    assert deps.base == "${BASE}" and deps.platform == "$BUILDPLATFORM"
    assert runtime.base.startswith("node:22-alpine@sha256:")
    assert doc.text(runtime.base_span) == runtime.base
    run = deps.instructions[3]
    assert [f.name for f in run.flags] == ["mount", "mount"]
    assert run.flags[1].value == "type=secret,id=npmrc,target=/root/.npmrc"
    assert run.args_text == "npm ci" and doc.text(run.args_span) == "npm ci"
    copy = runtime.instructions[1]
    assert copy.flag("from").value == "deps" and copy.flag("chown").value == "node:node"
    assert [w.value for w in copy.words] == ["/app/node_modules", "./node_modules"]
    for w in copy.words:
        assert doc.text(w.span) == w.text
    label = runtime.instructions[3]
    assert label.words[-1].value == 'org.opencontainers.image.description=a "quoted" label'
    assert doc.final_stage is runtime


def test_json_form_and_onbuild():
    doc = parse(_read(FIXTURES / "_parser" / "json-odd-spacing.Dockerfile"))
    ep, cmd = doc.instructions[1], doc.instructions[2]
    assert ep.json_args == ("dumb-init", "--") and cmd.json_args == ("node", "server.js")
    hc = doc.instructions[5]
    assert hc.flag("interval").value == "30s"
    ob = parse(_read(FIXTURES / "_parser" / "onbuild.Dockerfile"))
    assert ob.instructions[1].onbuild.keyword == "COPY"
    assert ob.instructions[3].onbuild.keyword == "RUN"
    assert ob.instructions[3].end_line == 6  # the heredoc body belongs to the ONBUILD RUN


def test_lowercase_keywords_keep_their_case():
    doc = parse(_read(FIXTURES / "_parser" / "lowercase.Dockerfile"))
    assert doc.instructions[0].keyword == "FROM" and doc.instructions[0].keyword_as_written == "from"
    assert doc.stages[0].name == "build"


def test_spans_of_words_across_continuations():
    text = "FROM node:22\nCOPY --chown=node:node \\\n   package.json \\\n   ./\n"
    doc = parse(text)
    copy = doc.instructions[1]
    assert [doc.text(w.span) for w in copy.words] == ["package.json", "./"]
    assert doc.text(copy.flags[0].span) == "--chown=node:node"
    assert doc.line_of(copy.words[1].span.start) == 4


def test_span_helpers():
    assert Span(1, 3).overlaps(Span(2, 4)) and not Span(1, 2).overlaps(Span(2, 3))
    assert Span(0, 10).contains(Span(2, 3))


# -- the command layer (fixer/commands.py) -------------------------------------------------------


def _run(text: str):
    return parse("FROM node:22\n" + text + "\n").instructions[1]


def test_commands_split_on_operators_with_argv_and_spans():
    doc = parse("FROM node:22\nRUN FOO=1 npm ci --omit=dev && cd /app ; exec node x.js | tee log\n")
    ins = doc.instructions[1]
    assert [c.argv for c in ins.commands] == [("npm", "ci", "--omit=dev"), ("cd", "/app"), ("node", "x.js"),
                                              ("tee", "log")]
    first = ins.commands[0]
    assert doc.source[first.start:first.end] == "npm ci --omit=dev"
    assert [w.value for w in first.all_words] == ["FOO=1", "npm", "ci", "--omit=dev"]
    assert first.before is None and first.after.text == "&&"
    assert ins.commands[0].program == "npm"
    assert ins.shell.simple and len(ins.shell.simple_commands) == 4


def test_commands_are_computed_once_per_parse():
    ins = _run("RUN npm ci")
    assert ins.commands is ins.commands
    assert ins.assignments is ins.assignments and ins.mounts is ins.mounts


def test_redirections_take_their_target():
    ins = _run("RUN echo a > out && echo b >| out2 && echo c 2>/dev/null && cat <> f x && echo d &>> log y")
    assert [c.argv for c in ins.commands] == [("echo", "a"), ("echo", "b"), ("echo", "c"), ("cat", "x"),
                                              ("echo", "d", "y")]
    assert ins.commands[0].stdout_target == ("out", False)
    assert ins.commands[1].stdout_target == ("out2", False)
    assert ins.commands[2].stdout_target is None
    assert _run("RUN echo x >>.npmrc").commands[0].stdout_target == (".npmrc", True)
    assert _run("RUN echo x >&2").commands[0].stdout_target is None  # a descriptor copy, not a file


def test_compound_shell_is_not_a_simple_list():
    for text in ("RUN if true; then npm ci; fi", "RUN (cd x && npm ci)", "RUN npm ci &&", "RUN && npm ci",
                 "RUN find . -exec rm {} \\;"):
        ins = _run(text)
        assert ins.shell.simple_commands is None, text
    assert [c.argv for c in _run("RUN if true; then npm ci; fi").commands] == [("true",), ("npm", "ci"), ("fi",)]


def test_exec_form_and_other_instructions_have_no_commands():
    assert _run('RUN ["npm", "ci"]').commands == ()
    assert _run("CMD npm start").commands == ()
    heredoc = parse("FROM node:22\nRUN <<EOF\nnpm ci\nEOF\n").instructions[1]
    assert heredoc.commands == () and heredoc.shell.simple_commands is None


def test_assignments_of_arg_and_env():
    assert [(a.name, a.value) for a in _run("ARG A B=1 C=").assignments] == [("A", None), ("B", "1"), ("C", "")]
    assert [(a.name, a.value) for a in _run('ENV A=1 B="two words"').assignments] == [("A", "1"), ("B", "two words")]
    legacy = _run("ENV NODE_ENV production mode").assignments
    assert [(a.name, a.value) for a in legacy] == [("NODE_ENV", "production mode")]
    assert legacy[0].word.value == "NODE_ENV"
    assert _run("RUN A=1 true").assignments == ()


def test_mount_options_are_split_and_located():
    ins = _run("RUN --mount=type=cache,target=/root/.npm --mount=Type=bind,from=node:22,source=/x npm ci")
    cache, bind = ins.mounts
    assert cache.type == "cache" and cache.get("target", "dst") == "/root/.npm"
    assert bind.type == "bind" and bind.get("from") == "node:22" and bind.get("source", "src") == "/x"
    o = next(o for o in bind.options if o.key == "from")
    assert bind.flag.value[o.start:o.end] == "node:22"
    assert _run("RUN --mount=target=/x true").mounts[0].type == "bind"  # BuildKit's default


def test_stage_chain_follows_stage_names():
    doc = parse("FROM node:22 AS base\nFROM base AS build\nFROM alpine\nFROM build\n")
    assert [s.index for s in doc.stage_chain(doc.stages[3])] == [3, 1, 0]
    assert [s.index for s in doc.stage_chain(doc.stages[2])] == [2]


def test_heredoc_scripts_are_split_like_run_lines():
    doc = parse("FROM node:22\nRUN <<EOF\nset -e\n# a comment\nnpm ci \\\n  --omit=dev  # why\ncd x && echo hi > f\nEOF\n"
                "RUN python3 <<EOF\nprint('npm ci')\nEOF\nRUN bash <<-EOF\n\tnpm i\nEOF\n"
                "RUN <<EOF\n#!/usr/bin/env node\nconsole.log(1)\nEOF\nRUN <<EOF\n#!/bin/sh -e\nyarn\nEOF\n")
    run, python, bash, node, sh = doc.instructions[1:]
    (script,) = run.heredoc_scripts
    assert [c.argv for c in script.commands] == [("set", "-e"), ("npm", "ci", "--omit=dev"), ("cd", "x"),
                                                 ("echo", "hi")]
    npm = script.commands[1]
    assert doc.source[npm.start:npm.end] == "npm ci \\\n  --omit=dev"
    assert script.commands[3].stdout_target == ("f", False)
    assert python.heredoc_scripts == () and node.heredoc_scripts == ()
    assert [c.argv for c in bash.heredoc_scripts[0].commands] == [("npm", "i")]
    assert [c.argv for c in sh.heredoc_scripts[0].commands] == [("yarn",)]
    assert run.heredoc_scripts is run.heredoc_scripts
