"""--write under hostile conditions, at the CLI level (tests/test_files.py kills a bare
write_atomic loop 12 times and checks read-only files, symlinks and a changed file at the
function level; tests/test_cli.py covers byte fidelity and Ctrl-C).  Added here: the real
command SIGKILLed 200 times at random moments, owner preservation, every format property
through every transform, and a file changed on disk while the run is working on it."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time

import pytest

from dockerfix.fixer import cli

from .conftest import STATS

KILL_ITERATIONS = int(os.environ.get("DOCKERFIX_KILL_ITERATIONS", "200"))
CMD = [sys.executable, "-m", "dockerfix"]


def _old(i: int) -> bytes:
    # big enough that writing takes a while; CRLF, BOM and no final newline on some
    pad = "x" * 300  # ~60 KB per file in few instructions
    body = f"FROM node:22\nLABEL n={i}\n" + "".join(f"RUN echo {i}-{k}-{pad}\n" for k in range(200)) + "CMD node server.js\n"
    if i % 3 == 1:
        body = body.replace("\n", "\r\n")
    if i % 4 == 2:
        body = "\ufeff" + body
    if i % 5 == 3:
        body = body.rstrip("\r\n")
    return body.encode()


def _new(old: bytes) -> bytes:
    return old.replace(b"CMD node server.js", b'CMD ["node", "server.js"]')


def test_sigkill_at_random_moments_never_leaves_a_partial_file(tmp_path):
    n = 12
    files = []
    for i in range(n):
        d = tmp_path / f"s{i:02d}"
        d.mkdir()
        f = d / "Dockerfile"
        f.write_bytes(_old(i))
        f.chmod(0o640 if i % 2 else 0o644)
        files.append((f, _old(i), _new(_old(i)), stat.S_IMODE(f.stat().st_mode)))
    t0 = time.monotonic()
    subprocess.run(CMD + ["--write", "--select", "DFX001", "."], cwd=tmp_path, capture_output=True, check=True, timeout=120)
    full = time.monotonic() - t0
    rng = random.Random(20261126)
    outcomes = {"none": 0, "some": 0, "all": 0}
    for it in range(KILL_ITERATIONS):
        for f, old, _unused, mode in files:
            f.write_bytes(old)
            f.chmod(mode)
        proc = subprocess.Popen(CMD + ["--write", "--select", "DFX001", "."], cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, full * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        STATS["files: SIGKILLs of a dockerfix --write run"] += 1
        done = 0
        for f, old, new, mode in files:
            content = f.read_bytes()
            assert content in (old, new), f"iteration {it}: {f} is neither the old nor the new text"
            assert stat.S_IMODE(f.stat().st_mode) == mode
            done += content == new
        outcomes["none" if done == 0 else "all" if done == n else "some"] += 1
        for tmp in tmp_path.rglob("*.dockerfix-tmp"):  # what a killed writer leaves: never a Dockerfile
            assert not tmp.name.endswith("Dockerfile")
            tmp.unlink()
    assert outcomes["some"] > 0, f"no kill landed while files were being written: {outcomes}"
    STATS["files: kills that landed mid-run (some files written)"] += outcomes["some"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing a file's owner needs root")
def test_write_keeps_the_owner(tmp_path):
    f = tmp_path / "Dockerfile"
    f.write_text("FROM node:22\nCMD node server.js\n")
    os.chown(f, 1234, 2345)
    f.chmod(0o600)
    p = subprocess.run(CMD + ["--write", "--select", "DFX001", "Dockerfile"], cwd=tmp_path, capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    st = f.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 2345, 0o600)
    assert f.read_text() == 'FROM node:22\nCMD ["node", "server.js"]\n'


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final", [True, False])
def test_all_transforms_keep_bom_newlines_and_final_newline(tmp_path, monkeypatch, capsys, bom, newline, final):
    """Every transform (unsafe ones included: they add lines) keeps the file's format."""
    lines = ["FROM node", "WORKDIR /usr/src/app", "COPY . /usr/src/app", "RUN npm install", 'CMD "npm" "start"']
    text = ("\ufeff" if bom else "") + newline.join(lines) + (newline if final else "")
    (tmp_path / "Dockerfile").write_bytes(text.encode())
    (tmp_path / "package.json").write_text('{"name": "a", "scripts": {"start": "node server.js"}}')
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}')
    (tmp_path / "server.js").write_text("process.on('SIGTERM', () => process.exit(0))\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        cli.main(["--write", "--unsafe-fixes", "--offline", "Dockerfile"])
    assert e.value.code == 0, capsys.readouterr().err
    out = (tmp_path / "Dockerfile").read_bytes().decode("utf-8")
    assert out != text
    assert out.startswith("\ufeff") == bom and out.count("\ufeff") == int(bom)
    if newline == "\r\n":
        assert out.count("\n") == out.count("\r\n")
    else:
        assert "\r" not in out
    assert out.endswith("\n") == final


def test_file_changed_on_disk_during_the_run_is_not_written(tmp_path, monkeypatch, capsys):
    from dockerfix.fixer import pipeline

    f = tmp_path / "Dockerfile"
    f.write_text("FROM node:22\nCMD node server.js\n")
    real_run = pipeline.Pipeline.run

    def run_and_edit(self, text, ctx, path="<stdin>"):
        result = real_run(self, text, ctx, path)
        f.write_text("FROM node:20\nCMD node other.js\n")  # someone saves the file meanwhile
        return result

    monkeypatch.setattr(pipeline.Pipeline, "run", run_and_edit)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        cli.main(["--write", "--select", "DFX001", "Dockerfile"])
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert "dockerfix: Dockerfile: changed on disk since it was read; not written" in err
    assert f.read_text() == "FROM node:20\nCMD node other.js\n"
    assert not list(tmp_path.glob("*.dockerfix-tmp"))


@pytest.mark.skip_ok_in_ci("root may create files in a read-only folder")
def test_read_only_folder_of_a_writable_file(tmp_path, monkeypatch, capsys):
    """The temp file cannot be created next to the file: a clear error, the file untouched."""
    if os.geteuid() == 0:
        pytest.skip("root may create files in a read-only folder")
    d = tmp_path / "ro"
    d.mkdir()
    f = d / "Dockerfile"
    f.write_text("FROM node:22\nCMD node server.js\n")
    d.chmod(0o555)
    try:
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit) as e:
            cli.main(["--write", "--select", "DFX001", "ro/Dockerfile"])
        assert e.value.code == 2
        assert "ro/Dockerfile: cannot write in" in capsys.readouterr().err
        assert f.read_text() == "FROM node:22\nCMD node server.js\n"
    finally:
        d.chmod(0o755)
