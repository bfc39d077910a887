"""The dockerfix command line: modes and exit codes (DESIGN §3), bad input, stdin, selection,
configuration, JSON schema; in-process with typer's CliRunner and as real subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockerfix.fixer import cli

REPO = Path(__file__).resolve().parent.parent
SEED = "FROM node\nWORKDIR /usr/src/app\nCOPY . /usr/src/app\nRUN npm install\nCMD \"npm\" \"start\"\n"
SEED_FIXED_CMD = 'CMD ["npm", "start"]\n'
CLEAN = 'FROM node:22\nCMD ["node", "server.js"]\n'  # nothing for DFX001 to do
ONLY = ["--select", "DFX001"]  # keeps these tests about the CLI, not about other transforms


def exe() -> list[str]:
    found = shutil.which("dockerfix")
    return [found] if found else [sys.executable, "-m", "dockerfix"]


def run(args, cwd, input=None, env=None):
    e = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    e.update(env or {})
    return subprocess.run(exe() + list(args), cwd=cwd, input=input, capture_output=True, env=e, timeout=60)


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, args, input=None):
    return runner.invoke(cli.app, args, input=input, catch_exceptions=False)


@pytest.fixture
def seed(tmp_path, monkeypatch):
    shutil.copytree(REPO / "examples/seed", tmp_path / "seed")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "seed"


# -- the seed example, as the user would run it ------------------------------------------------

def test_examples_seed_is_the_seed_file():
    assert (REPO / "examples/seed/Dockerfile").read_text() == SEED
    pkg = json.loads((REPO / "examples/seed/package.json").read_text())
    assert pkg["scripts"]["start"] == "node server.js"
    lock = json.loads((REPO / "examples/seed/package-lock.json").read_text())
    assert lock["lockfileVersion"] == 3 and lock["packages"][""]["name"] == "seed"
    assert "SIGTERM" not in (REPO / "examples/seed/server.js").read_text()


def test_seed_diff_then_write_then_check_subprocess(seed):
    cwd = seed.parent
    p = run(["--diff", "seed/Dockerfile"], cwd)
    assert p.returncode == 1, p.stderr
    out = p.stdout.decode()
    assert out.startswith("--- a/seed/Dockerfile\n+++ b/seed/Dockerfile\n")
    assert '-CMD "npm" "start"\n+CMD ["npm", "start"]\n' in out
    assert "\x1b[" not in out  # not a TTY: no colour
    assert (seed / "Dockerfile").read_text() == SEED  # --diff writes nothing

    p = run(["--write", *ONLY, "seed"], cwd)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b""  # human summary goes to stderr
    assert p.stderr.decode() == "Found 1 issue in 1 file (1 fixed). 1 file written.\n"
    assert (seed / "Dockerfile").read_text().endswith(SEED_FIXED_CMD)

    p = run(["--check", *ONLY, "seed"], cwd)
    assert p.returncode == 0, p.stderr
    p = run(["--diff", *ONLY, "seed"], cwd)
    assert (p.returncode, p.stdout) == (0, b"")


def test_write_with_all_transforms_settles(seed):
    """Whatever transforms exist: after --write --unsafe-fixes nothing is left to fix; --check
    still fails on what only a human can fix (the seed's server.js has no SIGTERM handler; no
    package install to add dumb-init to, so DFX007 asks for `docker run --init`)."""
    cwd = seed.parent
    p = run(["--write", "--unsafe-fixes", "--offline", "seed"], cwd)
    assert p.returncode == 0, p.stderr
    p = run(["--check", "--unsafe-fixes", "--offline", "seed"], cwd)
    assert p.returncode == 1, p.stderr.decode()
    assert "Found 2 issues in 1 file (2 to fix by hand)." in p.stderr.decode()
    assert "Apply" not in p.stderr.decode()
    p = run(["--diff", "--unsafe-fixes", "--offline", "seed"], cwd)
    assert (p.returncode, p.stdout) == (0, b"")


def test_check_exit_codes(runner, seed):
    r = invoke(runner, ["--check", *ONLY, "seed"])
    assert r.exit_code == 1
    assert "seed/Dockerfile:5:1: DFX001 [*] use exec form" in r.stderr
    assert "Apply with `dockerfix --write --select DFX001 seed`" in r.stderr
    assert r.stdout == ""
    (seed / "Dockerfile").write_text(CLEAN)
    assert invoke(runner, ["seed", *ONLY]).exit_code == 0


def test_check_counts_unsafe_fixes_as_fixable(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("Dockerfile").write_text("FROM node:22\nCMD node server.js > /tmp/log\n")
    r = invoke(runner, [*ONLY])
    assert r.exit_code == 1
    assert "Dockerfile:2:1: DFX001 [unsafe]" in r.stderr and "use --unsafe-fixes" not in r.stderr
    assert "Found 1 issue in 1 file (1 fixable with --unsafe-fixes)." in r.stderr
    assert "Apply with `dockerfix --write --unsafe-fixes --select DFX001`" in r.stderr
    r = invoke(runner, ["--diff", *ONLY])
    assert (r.exit_code, r.stdout) == (0, "")  # nothing applies with the current settings
    r = invoke(runner, ["--diff", "--unsafe-fixes", *ONLY])
    assert r.exit_code == 1 and '"/bin/sh", "-c"' in r.stdout


def test_write_exit_non_zero_on_fix(runner, seed):
    r = invoke(runner, ["--write", "--exit-non-zero-on-fix", *ONLY, "seed"])
    assert r.exit_code == 1
    r = invoke(runner, ["--write", "--exit-non-zero-on-fix", *ONLY, "seed"])
    assert r.exit_code == 0  # nothing written the second time


def test_conflicting_modes(runner, seed):
    assert invoke(runner, ["--diff", "--write", "seed"]).exit_code == 2
    assert invoke(runner, ["--check", "--exit-non-zero-on-fix", "seed"]).exit_code == 2


# -- bad input: one line, exit 2, the file untouched, the others still processed ---------------

BAD = {
    "utf8/Dockerfile": (b"FROM node\nLABEL a=\xff\nCMD x\n",
                        "not UTF-8 text (byte 0xff at offset 18); BuildKit reads UTF-8 only"),
    "nul/Dockerfile": (b"FROM node\x00\nCMD x\n", "binary file (NUL byte at offset 9)"),
    "empty/Dockerfile": (b"", "empty file"),
    "parse/Dockerfile": (b"FROM node\nFOO bar\nCMD x\n", "does not parse: line 2: unknown instruction: FOO"),
}


@pytest.mark.parametrize("mode", ["--check", "--diff", "--write"])
def test_bad_files_reported_others_processed(runner, tmp_path, monkeypatch, mode):
    monkeypatch.chdir(tmp_path)
    for rel, (raw, _) in BAD.items():
        Path(rel).parent.mkdir()
        Path(rel).write_bytes(raw)
    Path("good").mkdir()
    Path("good/Dockerfile").write_text("FROM node:22\nCMD node server.js\n")
    r = invoke(runner, [mode, *ONLY, "."])
    assert r.exit_code == 2
    errors = [line for line in r.stderr.splitlines() if line.startswith("dockerfix: ")]
    assert sorted(errors) == sorted(f"dockerfix: {rel}: {reason}" for rel, (_, reason) in BAD.items())
    for rel, (raw, _) in BAD.items():
        assert Path(rel).read_bytes() == raw
    if mode == "--write":
        assert Path("good/Dockerfile").read_text() == 'FROM node:22\nCMD ["node", "server.js"]\n'
    elif mode == "--diff":
        assert "+++ b/good/Dockerfile" in r.stdout


def test_missing_file_and_directory_named_dockerfile(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("Dockerfile").write_text(CLEAN)
    r = invoke(runner, ["nope/Dockerfile", "Dockerfile", *ONLY])
    assert r.exit_code == 2
    assert "dockerfix: nope/Dockerfile: no such file or directory" in r.stderr.splitlines()


def test_unreadable_file(runner, tmp_path, monkeypatch):
    """chmod 000 does not stop root, so the refusal is simulated at the open() call."""
    monkeypatch.chdir(tmp_path)
    Path("a").mkdir()
    Path("a/Dockerfile").write_text(CLEAN)
    Path("b").mkdir()
    Path("b/Dockerfile").write_text(CLEAN)
    real_open = open

    def deny(p, *a, **k):
        if str(p).endswith("a/Dockerfile"):
            raise PermissionError(13, "Permission denied", str(p))
        return real_open(p, *a, **k)

    monkeypatch.setattr("builtins.open", deny)
    r = invoke(runner, [*ONLY, "a", "b"])
    assert r.exit_code == 2
    assert "dockerfix: a/Dockerfile: permission denied" in r.stderr


@pytest.mark.skip_ok_in_ci("the permission check cannot be seen as root")
@pytest.mark.skipif(os.geteuid() == 0, reason="root can read mode-000 files; covered by test_unreadable_file")
def test_unreadable_file_for_real(tmp_path):
    (tmp_path / "Dockerfile").write_text(CLEAN)
    (tmp_path / "Dockerfile").chmod(0)
    p = run([*ONLY, "Dockerfile"], tmp_path)
    assert p.returncode == 2 and b"permission denied" in p.stderr


def test_context_must_be_a_directory(runner, seed):
    r = invoke(runner, ["--context", "seed/Dockerfile", "seed"])
    assert r.exit_code == 2 and "not a directory" in r.stderr


def test_read_only_file_not_written(runner, seed):
    f = seed / "Dockerfile"
    f.chmod(0o444)
    r = invoke(runner, ["--write", *ONLY, "seed"])
    assert r.exit_code == 2
    assert "dockerfix: seed/Dockerfile: read-only file (mode 0444); not written" in r.stderr
    assert f.read_text() == SEED


# -- byte fidelity of --write --------------------------------------------------------------------

@pytest.mark.parametrize("raw,expected", [
    (b"FROM node:22\r\nCMD node server.js\r\n", b'FROM node:22\r\nCMD ["node", "server.js"]\r\n'),
    (b"\xef\xbb\xbfFROM node:22\nCMD node server.js\n", b'\xef\xbb\xbfFROM node:22\nCMD ["node", "server.js"]\n'),
    (b"FROM node:22\nCMD node server.js", b'FROM node:22\nCMD ["node", "server.js"]'),
    (b"\xef\xbb\xbfFROM node:22\r\nLABEL x=\"caf\xc3\xa9\"\r\nCMD node server.js",
     b'\xef\xbb\xbfFROM node:22\r\nLABEL x="caf\xc3\xa9"\r\nCMD ["node", "server.js"]'),
])
def test_write_preserves_bytes_and_mode(tmp_path, raw, expected):
    f = tmp_path / "Dockerfile"
    f.write_bytes(raw)
    f.chmod(0o750)
    p = run(["--write", *ONLY, "Dockerfile"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert f.read_bytes() == expected
    assert stat.S_IMODE(f.stat().st_mode) == 0o750


def test_symlink_leaving_the_tree_refused(runner, tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text(SEED)
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app/Dockerfile").symlink_to(outside / "Dockerfile")
    (repo / "api").mkdir()
    (repo / "api/Dockerfile").write_text(SEED)
    monkeypatch.chdir(repo)
    r = invoke(runner, ["--write", *ONLY, "."])
    assert r.exit_code == 2
    assert any(line.startswith("dockerfix: app/Dockerfile: is a symlink to") and "outside" in line
               for line in r.stderr.splitlines())
    assert (outside / "Dockerfile").read_text() == SEED
    assert (repo / "api/Dockerfile").read_text().endswith(SEED_FIXED_CMD)


# -- stdin ----------------------------------------------------------------------------------------

def test_stdin_modes_subprocess(tmp_path):
    raw = b"FROM node:22\r\nCMD node server.js"
    p = run(["--write", *ONLY, "-"], tmp_path, input=raw)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b'FROM node:22\r\nCMD ["node", "server.js"]'
    p = run(["--diff", *ONLY, "--stdin-filename", "svc/Dockerfile", "-"], tmp_path, input=raw)
    assert p.returncode == 1
    assert p.stdout.startswith(b"--- a/svc/Dockerfile\n+++ b/svc/Dockerfile\n")
    p = run(["--check", *ONLY, "-"], tmp_path, input=b'FROM node:22\nCMD ["x"]\n')
    assert (p.returncode, p.stdout) == (0, b"")
    p = run(["--write", *ONLY, "-"], tmp_path, input=b"\xff\xfe")
    assert p.returncode == 2 and p.stderr.startswith(b"dockerfix: -: UTF-16 text")


def test_stdin_filename_alone_reads_stdin(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke(runner, ["--stdin-filename", "Dockerfile", "--diff", *ONLY], input="FROM node:22\nCMD a\n")
    assert r.exit_code == 1 and r.stdout.startswith("--- a/Dockerfile")


def test_stdin_write_rejects_json_and_extra_paths(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("Dockerfile").write_text(CLEAN)
    assert invoke(runner, ["--write", "--format", "json", "-"], input=CLEAN).exit_code == 2
    assert invoke(runner, ["--write", "-", "Dockerfile"], input=CLEAN).exit_code == 2


# -- selection and configuration ----------------------------------------------------------------

def test_select_ignore_and_unknown_codes(runner, seed):
    r = invoke(runner, ["--select", "DFX001", "--ignore", "dfx001", "seed"])
    assert r.exit_code == 0  # ignore wins
    r = invoke(runner, ["--select", "exec-form", "--diff", "seed"])
    assert r.exit_code == 1  # names work as well as codes
    r = invoke(runner, ["--select", "DFX001,DFX999", "seed"])
    assert r.exit_code == 2
    assert "unknown rule code DFX999 in --select; known codes: DFX001 (exec-form)" in r.stderr
    r = invoke(runner, ["--select", "exec-frm", "seed"])
    assert r.exit_code == 2 and "unknown rule code exec-frm (did you mean exec-form?) in --select" in r.stderr
    r = invoke(runner, ["--ignore", "BOGUS", "seed"])
    assert r.exit_code == 2 and "--ignore" in r.stderr


@pytest.mark.parametrize("name,body", [
    (".dockerfix.toml", 'ignore = ["DFX001"]\nselect = ["DFX001"]\n'),
    ("pyproject.toml", '[project]\nname = "x"\n\n[tool.dockerfix]\nignore = ["DFX001"]\nselect = ["DFX001"]\n'),
])
def test_config_files(runner, seed, name, body):
    (seed / name).write_text(body)
    assert invoke(runner, ["seed"]).exit_code == 0  # configured: DFX001 ignored
    assert invoke(runner, ["--select", "DFX001", "seed"]).exit_code == 0  # --select overrides select only
    (seed / name).write_text(body.replace('ignore = ["DFX001"]\n', ""))
    assert invoke(runner, ["seed"]).exit_code == 1


def test_config_unsafe_fixes_and_cli_override(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("Dockerfile").write_text("FROM node:22\nCMD node a.js > /tmp/log\n")
    Path(".dockerfix.toml").write_text('select = ["DFX001"]\nunsafe-fixes = true\n')
    assert invoke(runner, ["--diff"]).exit_code == 1
    assert invoke(runner, ["--diff", "--no-unsafe-fixes"]).exit_code == 0


@pytest.mark.parametrize("body,msg", [
    ("select = [\n", "invalid TOML"),
    ('select = ["DFX999"]\n', "unknown rule code DFX999"),
    ("colour = true\n", "unknown key(s) colour"),
    ("unsafe_fixes = true\n", "unknown key(s) unsafe_fixes (did you mean unsafe-fixes?)"),
    ('ignore = ["DFX01O"]\n', "unknown rule code DFX01O (did you mean DFX010?)"),
])
def test_broken_config_exit_2(runner, seed, body, msg):
    (seed / ".dockerfix.toml").write_text(body)
    r = invoke(runner, ["seed"])
    assert r.exit_code == 2
    line = r.stderr.splitlines()[0]
    assert line.startswith("dockerfix: seed/Dockerfile: ") and msg in line


def test_explicit_config(runner, seed, tmp_path):
    cfg = tmp_path / "custom.toml"
    cfg.write_text('ignore = ["DFX001"]\nselect = ["DFX001"]\n')
    assert invoke(runner, ["--config", str(cfg), "seed"]).exit_code == 0
    r = invoke(runner, ["--config", str(tmp_path / "missing.toml"), "seed"])
    assert r.exit_code == 2 and "no such config file" in r.stderr


# -- JSON ----------------------------------------------------------------------------------------

def test_json_schema(runner, seed, tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/Dockerfile").write_bytes(b"")
    r = invoke(runner, ["--format", "json", *ONLY, "seed", "bad"])
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    assert doc["version"] == 2 and doc["tool"] == "dockerfix" and doc["mode"] == "check"
    assert set(doc) >= {"version", "tool", "tool_version", "mode", "unsafe_fixes", "files", "summary"}
    seed_entry, bad_entry = doc["files"]
    assert seed_entry["path"] == "seed/Dockerfile" and seed_entry["status"] == "changed"
    assert seed_entry["written"] is False and seed_entry["error"] is None and seed_entry["fixable"] is True
    fix = seed_entry["fixes"][0]
    assert set(fix) == {"code", "name", "message", "line", "column", "status", "applicability", "applied",
                        "step", "edits", "notes"}
    assert (fix["code"], fix["name"], fix["line"], fix["column"], fix["status"], fix["applicability"],
            fix["applied"], fix["step"]) == ("DFX001", "exec-form", 5, 1, "fixable", "safe", False, 0)
    e = fix["edits"][0]
    assert SEED[: e["start"]] + e["text"] + SEED[e["end"]:] == SEED.replace('"npm" "start"', '["npm", "start"]')
    assert bad_entry == {**bad_entry, "status": "error", "error": "empty file", "error_kind": "input", "fixes": []}
    assert doc["summary"] == {"files": 2, "changed": 1, "unchanged": 0, "errors": 1, "written": 0,
                              "issues": 1, "fixed": 0, "fixable": 1, "unsafe": 0, "manual": 0, "skipped": 0,
                              "skipped_by_code": {}, "skipped_by_reason": [], "fixes_applied": 0, "fixes_pending": 1, "skips": 0}
    assert "dockerfix: bad/Dockerfile: empty file" in r.stderr  # errors still on stderr


def test_json_diff_mode_carries_diff_and_secrets_stay_out(runner, seed, monkeypatch):
    monkeypatch.setenv("DOCKERFIX_TEST_SECRET", "s3cr3t-value")
    r = invoke(runner, ["--diff", "--format", "json", *ONLY, "seed"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)  # stdout is only the JSON document
    assert doc["files"][0]["diff"].startswith("--- a/seed/Dockerfile")
    assert "s3cr3t-value" not in r.stdout + r.stderr


# -- surface -------------------------------------------------------------------------------------

def test_help_explains_modes_exit_codes_suppression_config(runner):
    r = runner.invoke(cli.app, ["--help"])
    assert r.exit_code == 0
    for needle in ["--check", "--diff", "--write", "Exit codes", "# dockerfix: ignore=DFX001",
                   "# dockerfix: ignore-file=DFX001", "# hadolint ignore=DL3025", "# check=skip=",
                   ".dockerfix.toml", "pyproject.toml", "Examples", "--stdin-filename", "--unsafe-fixes"]:
        assert needle in r.stdout, needle


def test_help_names_every_subcommand_with_one_line(tmp_path):
    """`dockerfix --help` lists each subcommand main() dispatches, one line each, and each
    answers `dockerfix NAME --help` with its own usage."""
    assert set(cli.SUBCOMMANDS) == {"rules", "verify", "pr"}
    p = run(["--help"], tmp_path)
    assert p.returncode == 0
    help_lines = p.stdout.decode().splitlines()
    start = next(i for i, ln in enumerate(help_lines) if ln.strip().startswith("Commands:"))
    block = []
    for ln in help_lines[start + 1:]:
        if not ln.strip():
            break
        block.append(ln.split())
    assert [words[0] for words in block] == list(cli.SUBCOMMANDS), help_lines[start:start + 5]
    for words, (name, (args, line)) in zip(block, cli.SUBCOMMANDS.items()):
        assert words == [name, *args.split(), *line.split()]  # the whole entry on one line
    for name in cli.SUBCOMMANDS:
        sub = run([name, "--help"], tmp_path)
        assert sub.returncode == 0, (name, sub.stderr)
        assert sub.stdout.decode().lstrip().lower().startswith(f"usage: dockerfix {name}"), (name, sub.stdout[:80])


def test_version_and_unknown_option_subprocess(tmp_path):
    p = run(["--version"], tmp_path)
    assert p.returncode == 0 and p.stdout.decode().startswith("dockerfix ")
    p = run(["--no-such-option"], tmp_path)
    assert p.returncode == 2 and b"No such option" in p.stderr


def test_fast_parser_matches_typer_command():
    """main() parses ordinary invocations without typer; both must know the same options."""
    import typer.main

    cmd = typer.main.get_command(cli.app)
    typer_opts = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}
    assert typer_opts - {"--help", "-h", "--version"} == set(cli.FAST_OPTIONS)
    by_dest = {p.name: p for p in cmd.params}
    for opt, spec in cli.FAST_OPTIONS.items():
        assert spec[0] in by_dest, opt
        assert by_dest[spec[0]].is_flag == (spec[1] in ("flag", "const")), opt
        assert by_dest[spec[0]].multiple == (spec[1] == "multi"), opt


@pytest.mark.parametrize("argv", [
    ["--diff", "a", "b"], ["--select=DFX001", "--select", "DFX002,DFX003", "--ignore", "X"],
    ["--format", "JSON", "--color=never", "-q", "--", "--write"], ["-", "--stdin-filename", "x/Dockerfile"],
    ["--no-unsafe-fixes", "--config", "c.toml", "--context", "ctx", "--offline", "--refresh"],
])
def test_fast_parser_results_equal_typer(argv, monkeypatch):
    seen = {}

    def fake_invoke(**kw):
        seen.setdefault("typer", kw)
        return 0

    monkeypatch.setattr(cli, "invoke", fake_invoke)
    CliRunner().invoke(cli.app, argv, catch_exceptions=False)
    fast = cli.fast_parse(argv)
    assert fast is not None
    t = {k: v for k, v in seen["typer"].items() if v not in (None, False, [], ())}
    f = {k: v for k, v in fast.items() if v not in (None, False, [], ())}
    t = {k: v for k, v in t.items() if not (k == "output_format" and v == cli.OutputFormat.text)
         and not (k == "color" and v == cli.Color.auto)}
    assert {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in t.items()} == f


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--version"], ["--bogus"], ["--format"], ["--format", "xml"],
                                  ["--select"], ["--diff=1"], ["-qx"]])
def test_fast_parser_defers_to_typer(argv):
    assert cli.fast_parse(argv) is None


def test_rules_subcommand_subprocess(tmp_path):
    p = run(["rules"], tmp_path)
    lines = p.stdout.decode().splitlines()
    assert p.returncode == 0 and lines[0].split() == ["CODE", "NAME", "SAFETY", "SUMMARY"]
    assert lines[1].split()[:3] == ["DFX001", "exec-form", "safe"]
    assert len(lines) < 20 and not any(line.strip() in ("diff", "text") for line in lines)
    p = run(["rules", "DFX001"], tmp_path)
    assert b"```" not in p.stdout and not any(line.strip() in (b"diff", b"text") for line in p.stdout.splitlines())
    p = run(["rules", "exec-frm"], tmp_path)
    assert p.returncode == 2 and b"(did you mean exec-form?)" in p.stderr
    p = run(["--help"], tmp_path)
    assert b"<list[str]>" not in p.stdout and b"PATH..." in p.stdout
    p = run(["--format", "yaml", "."], tmp_path)
    assert p.returncode == 2 and b"Value error" not in p.stderr and b"'yaml' is not one of" in p.stderr
    p = run(["pr", "--help"], tmp_path)
    assert p.stdout.startswith(b"Usage: dockerfix pr [OPTIONS] [PATH]")
    for opt in (b"--config PATH", b"--context DIR", b"--format", b"--select CODE", b"--offline", b"--refresh"):
        assert opt in p.stdout
    p = run(["rules", "DFX001", "--format", "markdown"], tmp_path)
    assert p.returncode == 0 and p.stdout.startswith(b"# DFX001 `exec-form`")
    assert b"## Fix safety" in p.stdout
    p = run(["rules", "DFX999"], tmp_path)
    assert p.returncode == 2 and b"unknown rule code DFX999" in p.stderr and b"DFX001" in p.stderr


def test_rules_app_in_process(runner):
    r = runner.invoke(cli.rules_app, ["exec-form"])
    assert r.exit_code == 0 and "WHAT IT DOES" in r.stdout


def test_no_dockerfiles_found_warns(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke(runner, [])
    assert r.exit_code == 0 and "no Dockerfiles found" in r.stderr


def test_quiet_prints_only_errors_and_the_summary(runner, seed):
    r = invoke(runner, ["-q", *ONLY, "seed"])
    assert r.exit_code == 1 and r.stderr == "Found 1 issue in 1 file (1 fixable).\n"


def test_startup_does_not_import_typer_httpx_or_rich(tmp_path):
    (tmp_path / "Dockerfile").write_text(CLEAN)
    code = ("import sys\nfrom dockerfix.fixer.cli import main\ntry:\n    main(['--diff', '--offline', 'Dockerfile'])\n"
            "except SystemExit:\n    pass\n"
            "bad = [m for m in ('typer', 'httpx', 'rich', 'pydantic') if m in sys.modules]\n"
            "sys.stderr.write('LOADED=' + ','.join(bad))\n")
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, timeout=60)
    assert p.stderr.decode().rsplit("LOADED=", 1)[1] == ""


def test_color_always_on_diff(runner, seed):
    r = invoke(runner, ["--diff", "--color", "always", *ONLY, "seed"])
    assert r.exit_code == 1 and "\x1b[32m+CMD" in r.stdout


def test_ctrl_c_exits_130_without_partial_files(tmp_path):
    import signal
    import time

    # On a loaded machine the whole run can end before this process sees the first write and sends
    # SIGINT; then nothing was tested, and the attempt is repeated with more files.
    for attempt, n in enumerate((300, 1200, 4000)):
        root = tmp_path / f"attempt{attempt}"
        for i in range(n):
            d = root / f"s{i:04d}"
            d.mkdir(parents=True)
            (d / "Dockerfile").write_text(f"FROM node:22\nLABEL n={i}\nCMD node server.js\n")
        proc = subprocess.Popen(exe() + ["--write", *ONLY, "."], cwd=root,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and "[" not in (root / "s0000/Dockerfile").read_text():
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        done = 0
        for i in range(n):
            text = (root / f"s{i:04d}/Dockerfile").read_text()
            assert text in (f"FROM node:22\nLABEL n={i}\nCMD node server.js\n",
                            f'FROM node:22\nLABEL n={i}\nCMD ["node", "server.js"]\n')
            done += "[" in text
        assert not list(root.rglob("*.dockerfix-tmp"))
        if done < n:
            break
    assert done < n, "every attempt finished before the interrupt; nothing was tested"
    assert proc.returncode == 130, err
    assert b"dockerfix: interrupted" in err


def test_other_context_file_that_cannot_be_written_is_an_error(tmp_path):
    (tmp_path / "Dockerfile").write_text('FROM node:22\nCMD ["node", "s.js"]\n')
    (tmp_path / "package.json").write_text('{"name": "a"}')
    (tmp_path / ".dockerignore").mkdir()
    p = subprocess.run(exe() + ["--write", "--unsafe-fixes", "--offline", "--select", "DFX011", "."],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stderr
    assert ".dockerignore is not a regular file" in p.stderr


def test_dockerfile_not_rewritten_when_only_dockerignore_changes(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text('FROM node:22\nCMD ["node", "s.js"]\n')
    (tmp_path / "package.json").write_text('{"name": "a"}')
    before = df.stat()
    p = subprocess.run(exe() + ["--write", "--unsafe-fixes", "--offline", "--select", "DFX011", "."],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    after = df.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (tmp_path / ".dockerignore").read_text().startswith("# Added by dockerfix")


def test_check_reports_lines_of_the_file_as_read(tmp_path):
    # DFX001 fixes line 6 in memory first; the DFX006 report (a final USER root, hadolint DL3002)
    # must still name line 5 of the input, and --check fails on it
    (tmp_path / "Dockerfile").write_text("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER root\nCMD node server.js\n")
    p = subprocess.run(exe() + ["--check", "--offline", "--format", "json", "."], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    report = json.loads(p.stdout)
    found = {f["code"]: f for f in report["files"][0]["fixes"]}
    assert found["DFX006"]["line"] == 5 and "line 5" in found["DFX006"]["message"]
    assert found["DFX006"]["applicability"] == "display-only" and p.returncode == 1


def test_report_on_a_rewritten_block_keeps_its_own_line(tmp_path):
    # the whole tail of the seed is rewritten; the DFX008 report on the CMD must name line 5
    for name in ("Dockerfile", "package.json", "package-lock.json", "server.js"):
        shutil.copy(Path(__file__).resolve().parents[1] / "examples" / "seed" / name, tmp_path / name)
    p = subprocess.run(exe() + ["--check", "--offline", "--unsafe-fixes", "--format", "json", "."], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    report = json.loads(p.stdout)
    lines = {f["code"]: f["line"] for f in report["files"][0]["fixes"] if not f["applied"]}
    assert lines["DFX008"] == 5
