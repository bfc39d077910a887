"""Evidence that the final image runs an application (DFX006, DFX007): tool images, no package.json."""

from __future__ import annotations

from dockerfix.fixer.context import Context, PackageJson
from dockerfix.fixer.document import parse
from dockerfix.fixer.facts import ContextFiles
from dockerfix.transforms._appevidence import no_package_skip, tool_image
from dockerfix.transforms._rootneeds import copy_into

TOOL = "FROM node:22-alpine\nCOPY entrypoint /entrypoint\nENTRYPOINT [\"/entrypoint\"]\n"
SCRIPT = "#!/bin/sh\nset -e\n# exec \"$@\" in a comment does not count\nexec su-exec dev \"$@\"\n"


def ctx(files=None, package=None):
    return Context(package=package, files=ContextFiles.of(files or {}))


def test_a_script_that_runs_its_arguments_is_a_tool_image():
    evidence, missing = tool_image(parse(TOOL), ctx({"entrypoint": SCRIPT}))
    assert missing is None and evidence is not None
    assert "no CMD" in evidence and "stepping down with `su-exec`" in evidence
    assert '`exec su-exec dev "$@"` in entrypoint' in evidence


def test_a_commented_exec_is_not_evidence():
    evidence, missing = tool_image(parse(TOOL), ctx({"entrypoint": "#!/bin/sh\n# exec \"$@\"\nnode /srv/a.js\n"}))
    assert (evidence, missing) == (None, None)


def test_a_missing_script_is_named_with_its_copy():
    evidence, missing = tool_image(parse(TOOL), ctx())
    assert evidence is None and missing is not None
    assert "`COPY entrypoint /entrypoint` on line 2" in missing


def test_a_cmd_that_names_an_app_or_a_package_json_is_not_a_tool_image():
    files = {"entrypoint": SCRIPT}
    assert tool_image(parse(TOOL + 'CMD ["node", "server.js"]\n'), ctx(files)) == (None, None)
    assert tool_image(parse(TOOL), ctx(files, PackageJson({"name": "a"}))) == (None, None)
    for cmd, what in (('CMD ["bash"]\n', "shell"), ('CMD ["node"]\n', "node REPL")):
        evidence, _ = tool_image(parse(TOOL + cmd), ctx(files))
        assert evidence is not None and what in evidence, cmd


def test_an_entrypoint_resets_an_inherited_cmd():
    text = 'FROM node:22-alpine AS base\nCMD ["node", "server.js"]\nFROM base\nCOPY entrypoint /entrypoint\n' \
           'ENTRYPOINT ["/entrypoint"]\n'
    evidence, _ = tool_image(parse(text), ctx({"entrypoint": SCRIPT}))
    assert evidence is not None and "no CMD" in evidence


def test_the_official_images_entrypoint_is_not_a_script_of_the_context():
    doc = parse('FROM node:22-alpine\nENTRYPOINT ["docker-entrypoint.sh"]\nCMD ["node"]\n')
    assert tool_image(doc, ctx()) == (None, None)


def test_copy_into_follows_path_and_workdir():
    doc = parse("FROM node:22\nWORKDIR /app\nCOPY bin/ ./bin/\nCOPY run.sh /usr/local/bin/\n")
    assert copy_into(doc, doc.final_stage, "run.sh").line == 4
    assert copy_into(doc, doc.final_stage, "bin/start").line == 3
    assert copy_into(doc, doc.final_stage, "other.sh") is None  # run.sh names a file, not a folder
    doc = parse("FROM node:22\nWORKDIR /app\nCOPY scripts ./scripts\nCOPY . .\nCOPY cfg /etc/cfg\n")
    assert copy_into(doc, doc.final_stage, "scripts/entry.sh").line == 4  # the last one: COPY . .
    assert copy_into(doc, doc.final_stage, "/etc/cfg/x") is not None


def test_no_package_skip_names_the_missing_fact():
    doc = parse('FROM node:22\nCMD ["node", "a.js"]\n')
    skip = no_package_skip("DFX006", doc, ctx(), "USER node", "works as uid 1000")
    assert skip is not None and "no package.json in the build context" in skip.reason
    broken = Context(package_error="package.json is not valid JSON (x)")
    skip = no_package_skip("DFX006", doc, broken, "USER node", "works as uid 1000")
    assert skip is not None and "package.json is not valid JSON" in skip.reason
    assert no_package_skip("DFX006", doc, ctx(package=PackageJson({})), "USER node", "x") is None
