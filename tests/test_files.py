"""fixer/files.py: discovery, strict reading, atomic writing; fixer/diffing.py: git-style diffs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dockerfix.fixer.diffing import colorize, split_lines, unified_diff, use_color
from dockerfix.fixer.files import (InputError, Target, TempFileError, decode, discover, is_dockerfile_name, read_source,
                                   replace_file, write_atomic)


def touch(p: Path, text: str = "FROM node\n") -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def names(targets) -> list[str]:
    return [t.display for t in targets]


# -- discovery --------------------------------------------------------------------------------

@pytest.mark.parametrize("name,ok", [
    ("Dockerfile", True), ("Containerfile", True), ("Dockerfile.prod", True), ("api.Dockerfile", True),
    ("Containerfile.dev", True), ("Dockerfile.dockerignore", False), ("api.Dockerfile.dockerignore", False),
    (".Dockerfile", False), ("dockerfile.txt", False), ("Dockerfiles", False), ("README.md", False),
])
def test_dockerfile_names(name, ok):
    assert is_dockerfile_name(name) is ok


def test_discovery_recursive_sorted_and_skips(tmp_path):
    for rel in ["Dockerfile", "b/Dockerfile.prod", "a/api.Dockerfile", "a/Containerfile",
                "node_modules/x/Dockerfile", ".git/Dockerfile", "a/Dockerfile.dockerignore", "a/notes.txt"]:
        touch(tmp_path / rel)
    targets, notes = discover(["."], cwd=tmp_path)
    assert names(targets) == ["Dockerfile", "a/Containerfile", "a/api.Dockerfile", "b/Dockerfile.prod"]
    assert notes == []
    assert all(not t.explicit for t in targets)
    # same result twice: deterministic
    assert names(discover(["."], cwd=tmp_path)[0]) == names(targets)


def test_discovery_honours_nested_gitignore(tmp_path):
    touch(tmp_path / ".gitignore", "build/\n*.generated.Dockerfile\n")
    touch(tmp_path / "build/Dockerfile")
    touch(tmp_path / "x.generated.Dockerfile")
    touch(tmp_path / "svc/.gitignore", "Dockerfile.local\n!keep.generated.Dockerfile\n")
    touch(tmp_path / "svc/Dockerfile.local")
    touch(tmp_path / "svc/keep.generated.Dockerfile")
    touch(tmp_path / "svc/Dockerfile")
    touch(tmp_path / "other/Dockerfile.local")  # svc's .gitignore does not reach here
    targets, _ = discover([str(tmp_path)], cwd=tmp_path)
    rel = sorted(str(t.path.relative_to(tmp_path)) for t in targets)
    assert rel == ["other/Dockerfile.local", "svc/Dockerfile", "svc/keep.generated.Dockerfile"]


def test_gitignore_of_enclosing_repo_applies_to_subfolder(tmp_path):
    (tmp_path / ".git").mkdir()
    touch(tmp_path / ".gitignore", "vendor/\n")
    touch(tmp_path / "app/vendor/Dockerfile")
    touch(tmp_path / "app/Dockerfile")
    targets, _ = discover(["app"], cwd=tmp_path)
    assert names(targets) == ["app/Dockerfile"]


def test_explicit_files_always_processed_and_deduplicated(tmp_path):
    touch(tmp_path / ".gitignore", "Dockerfile\n")
    f = touch(tmp_path / "Dockerfile")
    odd = touch(tmp_path / "my-docker-build")
    targets, notes = discover(["Dockerfile", "my-docker-build", "Dockerfile", "."], cwd=tmp_path)
    assert names(targets) == ["Dockerfile", "my-docker-build"]
    assert targets[0].explicit and targets[0].path == f and targets[1].path == odd
    assert notes == [".: no Dockerfiles found"]  # the folder itself only holds ignored/seen files


def test_missing_path_and_stdin_are_targets(tmp_path):
    targets, _ = discover(["nope/Dockerfile", "-"], cwd=tmp_path)
    assert targets[0].display == "nope/Dockerfile"
    assert targets[1].is_stdin
    with pytest.raises(InputError) as e:
        read_source(targets[0])
    assert e.value.reason == "no such file or directory"


def test_directory_symlinks_not_followed_in_walk(tmp_path):
    touch(tmp_path / "real/Dockerfile")
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree/link").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "tree/loop").symlink_to(tmp_path / "tree", target_is_directory=True)
    targets, _ = discover(["tree"], cwd=tmp_path)
    assert targets == []


# -- reading -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,reason", [
    (b"", "empty file"),
    (b"FROM node\n\x00\x01", "binary file (NUL byte at offset 10)"),
    (b"FROM node\nLABEL x=\xe9t\xe9\n", "not UTF-8 text (byte 0xe9 at offset 18); BuildKit reads UTF-8 only"),
    (b"\xff\xfeF\x00R\x00", "UTF-16 text (byte order mark FF FE); BuildKit reads UTF-8 only"),
])
def test_decode_errors(raw, reason):
    with pytest.raises(InputError) as e:
        decode(raw, "Dockerfile")
    assert e.value.reason == reason
    assert "\n" not in str(e.value)


def test_decode_keeps_bom_crlf_and_missing_final_newline():
    raw = b"\xef\xbb\xbfFROM node\r\nCMD x"
    assert decode(raw, "x") == "\ufeffFROM node\r\nCMD x"


def test_read_directory_and_unreadable(tmp_path, monkeypatch):
    d = tmp_path / "Dockerfile"
    d.mkdir()
    with pytest.raises(InputError) as e:
        read_source(Target("Dockerfile", d, tmp_path))
    assert e.value.reason == "is a directory, expected a Dockerfile"

    f = touch(tmp_path / "x/Dockerfile")
    real_open = open

    def deny(p, *a, **k):
        if Path(p) == f:
            raise PermissionError(13, "Permission denied", str(p))
        return real_open(p, *a, **k)

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(InputError) as e:
        read_source(Target("x/Dockerfile", f, tmp_path))
    assert e.value.reason == "permission denied"


@pytest.mark.skip_ok_in_ci("the permission check cannot be seen as root")
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads mode-000 files anyway")
def test_read_unreadable_for_real(tmp_path):
    f = touch(tmp_path / "Dockerfile")
    f.chmod(0)
    with pytest.raises(InputError) as e:
        read_source(Target("Dockerfile", f, tmp_path))
    assert e.value.reason == "permission denied"


# -- writing -----------------------------------------------------------------------------------

def test_write_atomic_preserves_mode_and_exact_bytes(tmp_path):
    f = tmp_path / "Dockerfile"
    f.write_bytes(b"\xef\xbb\xbfFROM node\r\nCMD a")
    f.chmod(0o640)
    old = f.read_bytes()
    write_atomic(f, "\ufeffFROM node\r\nCMD [\"a\"]", old, root=tmp_path)
    assert f.read_bytes() == b"\xef\xbb\xbfFROM node\r\nCMD [\"a\"]"
    assert (f.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]  # no temp file left


def test_write_refuses_changed_file(tmp_path):
    f = touch(tmp_path / "Dockerfile", "FROM node\n")
    old = f.read_bytes()
    f.write_text("FROM node:20\n")
    with pytest.raises(InputError) as e:
        write_atomic(f, "FROM x\n", old, root=tmp_path)
    assert "changed on disk" in e.value.reason
    assert f.read_text() == "FROM node:20\n"


def test_write_refuses_read_only(tmp_path):
    f = touch(tmp_path / "Dockerfile")
    f.chmod(0o444)
    with pytest.raises(InputError) as e:
        write_atomic(f, "FROM x\n", f.read_bytes(), root=tmp_path)
    assert e.value.reason == "read-only file (mode 0444); not written"
    assert f.read_text() == "FROM node\n"


def test_write_through_symlink_inside_root_keeps_link(tmp_path):
    target = touch(tmp_path / "shared/Dockerfile.node")
    link = tmp_path / "app/Dockerfile"
    link.parent.mkdir()
    link.symlink_to("../shared/Dockerfile.node")
    write_atomic(link, "FROM y\n", link.read_bytes(), root=tmp_path)
    assert link.is_symlink() and target.read_text() == "FROM y\n"


def test_write_refuses_symlink_leaving_root(tmp_path):
    outside = touch(tmp_path / "outside/Dockerfile")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").symlink_to(outside)
    with pytest.raises(InputError) as e:
        write_atomic(root / "Dockerfile", "FROM evil\n", outside.read_bytes(), root=root)
    assert "outside" in e.value.reason
    assert outside.read_text() == "FROM node\n"


def test_write_new_file(tmp_path):
    f = tmp_path / ".dockerignore"
    write_atomic(f, "node_modules\n", None, root=tmp_path)
    assert f.read_text() == "node_modules\n"
    with pytest.raises(InputError):
        write_atomic(f, "x\n", None, root=tmp_path)  # exists now: "appeared on disk"


_WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from dockerfix.fixer.files import write_atomic
    p = Path(sys.argv[1])
    a, b = Path(sys.argv[2]).read_bytes().decode(), Path(sys.argv[3]).read_bytes().decode()
    print("ready", flush=True)
    while True:
        cur = p.read_bytes()
        new = b if cur.decode() == a else a
        write_atomic(p, new, cur)
""")


def test_never_a_partial_file_under_sigkill(tmp_path):
    """Kill a writer at random moments: the file is always exactly the old or the new text."""
    f = tmp_path / "Dockerfile"
    a = "FROM node:20\n" + "RUN echo a\n" * 20000
    b = "FROM node:22\r\n" + "RUN echo bbbb\r\n" * 15000
    f.write_text(a, newline="")
    (tmp_path / "a.txt").write_bytes(a.encode())
    (tmp_path / "b.txt").write_bytes(b.encode())
    seen = set()
    for i in range(12):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(f), str(tmp_path / "a.txt"), str(tmp_path / "b.txt")],
                                stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.02 + (i % 5) * 0.013)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        content = f.read_bytes()
        assert content in (a.encode(), b.encode())
        seen.add(content)
    assert len(seen) == 2  # the writer really switched between both versions


# -- diffs -------------------------------------------------------------------------------------

def test_split_lines_only_on_newline():
    assert split_lines("a\r\nb\rc\x0cd\u2028e") == ["a\r\n", "b\rc\x0cd\u2028e"]
    assert split_lines("") == []


@pytest.mark.parametrize("before,after", [
    ("FROM node\nCMD a\n", "FROM node\nCMD [\"a\"]\n"),
    ("FROM node\r\nCMD a\r\n", "FROM node\r\nCMD [\"a\"]\r\n"),
    ("FROM node\nCMD a", "FROM node\nCMD [\"a\"]"),
    ("\ufeffFROM node\nCMD a", "\ufeffFROM node\nCMD [\"a\"]\n"),
    ("x\n" * 10 + "CMD a\n" + "y\n" * 10, "x\n" * 10 + "CMD [\"a\"]\n" + "y\n" * 10),
])
def test_diff_applies_with_git(tmp_path, before, after):
    d = unified_diff(before, after, "./sub/Dockerfile")
    assert d.startswith("--- a/sub/Dockerfile\n+++ b/sub/Dockerfile\n@@ ")
    if not before.endswith("\n"):
        assert "\\ No newline at end of file\n" in d
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/Dockerfile").write_bytes(before.encode())
    (tmp_path / "p.diff").write_bytes(d.encode())
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "apply", "p.diff"], cwd=tmp_path, check=True)
    assert (tmp_path / "sub/Dockerfile").read_bytes() == after.encode()


def test_no_diff_when_equal_and_new_file_header():
    assert unified_diff("a\n", "a\n", "x") == ""
    assert unified_diff(None, "node_modules\n", ".dockerignore").startswith("--- /dev/null\n+++ b/.dockerignore\n")


def test_color_decision(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color("auto", Tty()) is True
    assert use_color("auto", sys.__stdout__ if False else None) is False
    assert use_color("never", Tty()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color("auto", Tty()) is False
    assert use_color("always", None) is True
    c = colorize(unified_diff("a\r\n", "b\r\n", "D"))
    assert "\x1b[31m-a\x1b[0m" in c and "^M" in c


def test_replace_file_mode_and_cleanup(tmp_path):
    """The one temp-file-then-rename writer: the new file gets the mode asked for, and a failed
    last check leaves the old content and no temporary file behind."""
    p = tmp_path / "cache.json"
    replace_file(p, b"one", mode=0o600)
    assert p.read_bytes() == b"one" and (p.stat().st_mode & 0o777) == 0o600

    def refuse() -> None:
        raise RuntimeError("changed meanwhile")

    with pytest.raises(RuntimeError):
        replace_file(p, b"two", last_check=refuse)
    assert p.read_bytes() == b"one"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["cache.json"]
    with pytest.raises(TempFileError) as e:
        replace_file(tmp_path / "missing" / "f", b"x")
    assert isinstance(e.value.cause, FileNotFoundError)
