"""The comparison, the table and the build inputs of ``dockerfix verify``: pure, no engine."""
from __future__ import annotations

import json

import pytest

from dockerfix.fixer.verify import Options, build_inputs, parse_probe, secret_args, secret_mounts, values_of_file
from dockerfix.fixer.verify_compare import (FileReport, Measurement, compare, overall_exit, pid1_kind, render,
                                            size_limit)


def image(**kw) -> Measurement:
    base = dict(built=True, ran=True, size_bytes=100_000_000, uid=0, user="root", pid1=["node", "server.js"],
                node_env=None, node_env_seen=True, stop_timeout=4, stop_seconds=4.2, stop_exit=137)
    base.update(kw)
    return Measurement(**base)


GOOD = dict(uid=1000, user="node", pid1=["dumb-init", "--", "node", "server.js"], node_env="production",
            stop_seconds=0.3, stop_exit=143)


def verdicts(rows):
    return {r.check.split(" -t")[0]: r.verdict for r in rows}


def test_a_fix_that_improves_everything_is_ok():
    rows, status, reasons = compare(image(), image(**GOOD))
    assert status == "ok" and reasons == []
    v = verdicts(rows)
    assert v["user"] == v["PID 1"] == v["NODE_ENV"] == v["stop"] == "better"
    assert v["builds"] == v["runs"] == v["size"] == "same"


@pytest.mark.parametrize("change, word", [
    (dict(uid=0, user="root"), "root"),
    (dict(pid1=["/bin/sh", "-c", "node server.js"]), "PID 1"),
    (dict(node_env="development"), "NODE_ENV"),
    (dict(stop_seconds=4.1, stop_exit=137), "SIGTERM"),
    (dict(size_bytes=120_000_000), "size"),
])
def test_each_regression_is_named(change, word):
    good = image(**GOOD)
    rows, status, reasons = compare(good, image(**{**GOOD, **change}))
    assert status == "regression"
    assert len(reasons) == 1 and word in reasons[0]
    assert "worse" in [r.verdict for r in rows]


def test_size_tolerance_and_floor():
    assert size_limit(100_000_000, 0.05, 1_000_000) == 105_000_000
    assert size_limit(1_000_000, 0.05, 1_000_000) == 2_000_000  # small images: the 1 MB floor
    _rows, status, _ = compare(image(), image(**{**GOOD, "size_bytes": 104_000_000}))
    assert status == "ok"  # an init binary is not a regression
    _rows, status, reasons = compare(image(), image(**{**GOOD, "size_bytes": 104_000_000}), size_tolerance=0.01)
    assert status == "regression" and "size grew" in reasons[0]


def test_a_fixed_build_failure_is_an_error_with_the_last_line():
    broken = Measurement(built=False, build_error="#9 [4/5] RUN npm ci\nnpm error `npm ci` can only install ... in sync")
    rows, status, reasons = compare(image(), broken)
    assert status == "error"
    assert reasons == ["the fixed image does not build: npm error `npm ci` can only install ... in sync"]
    assert rows[0].check == "builds" and rows[0].after == "no" and rows[0].verdict == "worse"


def test_an_original_that_does_not_build_is_an_error_too():
    _rows, status, reasons = compare(Measurement(built=False, build_error="boom"), image(**GOOD))
    assert status == "error" and reasons == ["the original image does not build: boom"]


def test_an_image_that_does_not_run_is_an_error():
    _rows, status, reasons = compare(image(), image(ran=False, run_error="exited with code 1 after 0.2s"))
    assert status == "error" and reasons == ["the fixed image does not run: exited with code 1 after 0.2s"]


def test_secret_leaks():
    leaky = dict(secrets_checked=["build-arg NPM_TOKEN"], leaks={"build-arg NPM_TOKEN": ["layer 3: /app/.npmrc", "history"]})
    clean = dict(secrets_checked=["build-arg NPM_TOKEN"], leaks={})
    rows, status, _ = compare(image(**leaky), image(**GOOD, **clean))
    assert status == "ok" and verdicts(rows)["secret in image"] == "better"
    rows, status, reasons = compare(image(**GOOD, **clean), image(**GOOD, **leaky))
    assert status == "regression" and "NPM_TOKEN" in reasons[0] and "/app/.npmrc" in reasons[0]
    # leaking in both is not made worse by the fix
    _rows, status, _ = compare(image(**leaky), image(**GOOD, **leaky))
    assert status == "ok"


def test_an_image_that_ignores_sigterm_in_both_is_the_same():
    rows, status, _ = compare(image(), image(**{**GOOD, "stop_seconds": 4.1, "stop_exit": 137}))
    assert status == "ok" and verdicts(rows)["stop"] == "same"


def test_probe():
    o = image(probe="3000/", probe_status=200)
    rows, status, reasons = compare(o, image(**GOOD, probe="3000/", probe_error="connection refused after 30s"))
    assert status == "regression" and "does not answer HTTP" in reasons[0]
    rows, status, _ = compare(o, image(**GOOD, probe="3000/", probe_status=200))
    assert status == "ok" and rows[-1].check == "HTTP 3000/" and rows[-1].verdict == "same"


@pytest.mark.parametrize("argv, kind", [
    (["dumb-init", "--", "node", "a.js"], "init"), (["/sbin/docker-init", "--", "x"], "init"),
    (["/sbin/tini", "--", "node"], "init"), (["node", "server.js"], "exec"), (["/bin/sh", "-c", "node a"], "wrapper"),
    (["npm", "start"], "wrapper"), (["npm start"], "wrapper"), (["node", "/usr/local/bin/npm", "start"], "wrapper"),
    ([], None),
])
def test_pid1_kind(argv, kind):
    assert pid1_kind(argv) == kind


def test_render_text_markdown_json_and_exit():
    rows, status, reasons = compare(image(), image(**GOOD))
    ok = FileReport("app/Dockerfile", image(), image(**GOOD), rows, status, reasons, ["DFX006"])
    broken = Measurement(built=False, build_error="line 1\nnpm error in sync")
    rows2, status2, reasons2 = compare(image(), broken)
    bad = FileReport("b/Dockerfile", image(), broken, rows2, status2, reasons2)
    assert overall_exit([ok]) == 0 and overall_exit([ok, bad]) == 2
    text = render([ok, bad], "text", "docker 20.10")
    assert "app/Dockerfile: no regression (fixes DFX006)" in text
    assert "user" in text and "0 (root)" in text and "1000 (node)" in text
    assert "error: the fixed image does not build: npm error in sync" in text
    assert text.rstrip().endswith("verify: cannot build or run (exit 2) — engine: docker 20.10")
    md = render([ok], "markdown")
    assert "| check | original | fixed | verdict |" in md and "|---|---|---|---|" in md
    md = render([bad], "markdown")
    assert "| builds | yes | no | worse |\n\n- the fixed image does not build: npm error in sync\n" in md
    doc = json.loads(render([ok, bad], "json", "docker"))
    assert doc["exit"] == 2 and [f["status"] for f in doc["files"]] == ["ok", "error"]
    assert doc["files"][0]["fixed"]["pid1_kind"] == "init" and doc["files"][0]["original"]["killed"] is True
    assert doc["files"][1]["fixed"]["built"] is False


# -- build inputs -------------------------------------------------------------------------------

ORIGINAL = """FROM node:22
ARG NODE_VERSION=22
ARG NPM_TOKEN
ARG PUBLIC_KEY
RUN echo "//r/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci
"""
FIXED = """FROM node:22
ARG NODE_VERSION=22
RUN --mount=type=secret,id=npm_token,required=true echo "$(cat /run/secrets/npm_token)"
RUN --mount=type=secret,target=/root/.npmrc npm ci
RUN --mount=type=cache,target=/root/.npm npm ci
"""


def test_secret_args_and_mounts():
    assert secret_args(ORIGINAL) == ["NPM_TOKEN"]  # PUBLIC_KEY is allowed by BuildKit's rule
    assert secret_mounts(FIXED) == ["npm_token", ".npmrc"]


def test_build_inputs_generates_one_value_for_the_arg_and_its_secret():
    b = build_inputs(Options(), ORIGINAL, FIXED, {})
    token = b.build_args["NPM_TOKEN"]
    assert token.startswith("dfx-verify-") and b.needles["build-arg NPM_TOKEN"] == token
    # DFX009's secret npm_token gets the value the build-arg had, through the environment
    spec = next(s for s in b.secrets if s.startswith("id=npm_token,"))
    var = spec.split("env=")[1]
    assert b.secret_env[var] == token
    # the .npmrc secret is the .npmrc the original wrote, with the same token (not a new value)
    spec = next(s for s in b.secrets if s.startswith("id=.npmrc,"))
    assert b.secret_env[spec.split("env=")[1]] == f"//registry.npmjs.org/:_authToken={token}\n"
    assert b.generated == ["NPM_TOKEN"] and "secret .npmrc" not in b.needles
    # without a token build-arg it gets a throw-away token of its own
    b = build_inputs(Options(), "FROM node:22\n", FIXED, {})
    assert set(b.generated) == {"secret npm_token", "secret .npmrc"}
    spec = next(s for s in b.secrets if s.startswith("id=.npmrc,"))
    assert b.secret_env[spec.split("env=")[1]] == f"//registry.npmjs.org/:_authToken={b.needles['secret .npmrc']}\n"


def test_build_inputs_uses_what_the_user_passes(tmp_path):
    npmrc = tmp_path / "npmrc"
    npmrc.write_text("//registry.npmjs.org/:_authToken=abcdef123456\n")
    opts = Options(secrets=["id=npm_token,env=MY_TOKEN", f"id=.npmrc,src={npmrc}"], build_args=["NPM_TOKEN", "X=1"])
    b = build_inputs(opts, ORIGINAL, FIXED, {"MY_TOKEN": "tok-from-env-1", "NPM_TOKEN": "tok-2"})
    assert b.build_args == {"NPM_TOKEN": "tok-2", "X": "1"} and b.generated == []
    assert b.secrets == ["id=npm_token,env=MY_TOKEN", f"id=.npmrc,src={npmrc}"] and b.secret_env == {}
    assert b.needles["secret npm_token"] == "tok-from-env-1" and b.needles["build-arg NPM_TOKEN"] == "tok-2"
    assert "abcdef123456" in b.needles.values() and "X" not in str(b.needles)


def test_values_of_file(tmp_path):
    p = tmp_path / "f"
    p.write_text("registry=https://r.example\n//r/:_authToken=${NPM_TOKEN}\n//s/:_authToken=s3cr3t-value\n"
                 "@acme:registry=http://u:p4ssw0rd@h/\n")
    # a registry URL is no secret (npm writes it into node_modules), one with credentials is
    assert values_of_file(p)[1:] == ["s3cr3t-value", "http://u:p4ssw0rd@h/"]
    assert values_of_file(tmp_path / "missing") == []


@pytest.mark.parametrize("text, out", [(None, (None, "/")), ("3000", (3000, "/")), ("8080/health", (8080, "/health"))])
def test_parse_probe(text, out):
    assert parse_probe(text) == out


@pytest.mark.parametrize("text", ["http", "0", "70000/x", "/x"])
def test_parse_probe_rejects(text):
    with pytest.raises(ValueError, match="PORT"):
        parse_probe(text)


def test_cli_without_an_engine_exits_2(monkeypatch, tmp_path, capsys):
    """No docker and no podman on PATH: one line naming why, exit 2, nothing built."""
    from dockerfix.fixer import cli

    (tmp_path / "Dockerfile").write_text("FROM node:22\nCMD node a.js\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("DOCKERFIX_DOCKER", raising=False)
    with pytest.raises(SystemExit) as e:
        cli.main(["verify", "--offline", str(tmp_path)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "no container engine" in err and "Traceback" not in err


def test_cli_rejects_stdin_and_bad_probe(capsys):
    from dockerfix.fixer.verify import main

    assert main(["-"]) == 2 and "standard input" in capsys.readouterr().err
    assert main(["--probe", "web", "."]) == 2 and "PORT[/PATH]" in capsys.readouterr().err


def _tar(files: dict[str, bytes], gz: bool = False) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_scan_archive_names_layer_history_and_config(tmp_path):
    """A save archive: the token in layer 2's file (deleted by layer 3), in the history and in an
    ENV of the config; layers numbered as manifest.json lists them, gzip layers read too."""
    from dockerfix.fixer.verify_engine import scan_archive

    config = {"config": {"Env": ["A=tok-123456789"]},
              "history": [{"created_by": "RUN |1 NPM_TOKEN=tok-123456789 /bin/sh -c npm ci"}]}
    archive = tmp_path / "image.tar"
    archive.write_bytes(_tar({
        "manifest.json": json.dumps([{"Config": "cfg.json", "Layers": ["b/layer.tar", "a/layer.tar", "c/layer.tar"]}]).encode(),
        "cfg.json": json.dumps(config).encode(),
        "a/layer.tar": _tar({"app/.npmrc": b"//r/:_authToken=tok-123456789\n", "app/x": b"nothing"}, gz=True),
        "b/layer.tar": _tar({"bin/sh": b"\x7fELF" + b"\0" * 3000}),
        "c/layer.tar": _tar({"app/.wh..npmrc": b""}),
    }))
    found: dict = {}
    scan_archive(archive, {"NPM_TOKEN": b"tok-123456789", "OTHER": b"never-there"}, found)
    assert sorted(found["NPM_TOKEN"]) == ["config", "history", "layer 2: /app/.npmrc"]
    assert "OTHER" not in found


def test_the_reason_quotes_the_error_line_not_the_last_step():
    log = "STEP 1/5: FROM node\nError: committing container for step: internal error\nSTEP 2/5: WORKDIR /app"
    _rows, status, reasons = compare(Measurement(built=False, build_error=log), image(**GOOD))
    assert status == "error"
    assert reasons == ["the original image does not build: Error: committing container for step: internal error"]


def test_port_busy_ignores_time_wait_but_sees_a_listener():
    import socket

    from dockerfix.fixer.verify_engine import port_busy

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    port = srv.getsockname()[1]
    assert port_busy(port)
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = srv.accept()
    conn.close()  # the server side closes first: its port is left in TIME_WAIT
    client.close()
    srv.close()
    assert not port_busy(port)


def test_fix_options_reach_the_session(monkeypatch, tmp_path):
    """--update-pins (and --upgrade-node where this dockerfix has it) go to the Session; an option
    the Session lacks is a usage error (exit 2), not a silent no-op."""
    import inspect

    from dockerfix.fixer import session as session_mod
    from dockerfix.fixer import verify as verify_mod

    seen = {}

    class Stop(Exception):
        pass

    real = session_mod.Session

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, **kw):
            seen.update(kw)
            raise Stop

    monkeypatch.setattr(session_mod, "Session", Spy)
    with pytest.raises(Stop):
        verify_mod.run_verify(Options(paths=[str(tmp_path)], update_pins=True, unsafe_fixes=True))
    assert seen["update_pins"] is True and seen["unsafe_fixes"] is True and seen["mode"].value == "check"
    if "upgrade_node" not in inspect.signature(real).parameters:
        monkeypatch.setattr(session_mod, "Session", real)
        assert verify_mod.main(["--upgrade-node", str(tmp_path)]) == 2


def test_dev_dependencies_row():
    o = dict(dev_deps_checked=["prettier", "typescript"], dev_deps=["prettier", "typescript"])
    rows, status, _ = compare(image(**o), image(**GOOD, dev_deps_checked=o["dev_deps_checked"]))
    assert status == "ok" and verdicts(rows)["devDependencies"] == "better"
    assert [r.before for r in rows if r.check == "devDependencies"] == ["2 (prettier, typescript)"]
    rows, status, reasons = compare(image(**GOOD, dev_deps_checked=["husky"]),
                                    image(**GOOD, dev_deps_checked=["husky"], dev_deps=["husky"]))
    assert status == "regression" and reasons == ["the fixed image has devDependencies the original did not: husky"]


def test_dev_dependencies_of_a_package_json(tmp_path):
    from dockerfix.fixer.verify_engine import dev_dependencies

    (tmp_path / "package.json").write_text(json.dumps({
        "dependencies": {"ms": "1", "both": "1"},
        "devDependencies": {"prettier": "3", "@types/node": "22", "both": "1", "../evil": "1"}}))
    assert dev_dependencies(tmp_path / "package.json") == ["@types/node", "prettier"]
    assert dev_dependencies(tmp_path / "missing.json") == []


class FakeEngine:
    """verify_engine.Engine with canned ``exec`` answers (what `sh`, `cat` print in a container)."""

    def __new__(cls, answers: dict):
        import subprocess

        from dockerfix.fixer.verify_engine import Engine

        engine = Engine("docker", "docker", {})

        def call(*args, timeout=0, env=None):
            for key, out in answers.items():
                if key in args:
                    return subprocess.CompletedProcess(args, 0 if out is not None else 1, out or "", "")
            return subprocess.CompletedProcess(args, 1, "", "no such file")

        engine.call = call  # type: ignore[method-assign]
        return engine


def test_the_app_process_is_found_below_the_init_and_npm():
    """dumb-init -> npm start -> sh -c node server.js -> node server.js: the app is the last one,
    its uid and NODE_ENV are the app's; the reader (pid 40, and its cat 41) is left out."""
    procs = ("@@self 40\n"
             "@@dfx 1 PPid: 0 Uid: 0 \ndumb-init\0--\0npm\0start\0\n"
             "@@dfx 7 PPid: 1 Uid: 1000 \nnpm start\0\n"
             "@@dfx 19 PPid: 7 Uid: 1000 \nsh\0-c\0node server.js\0\n"
             "@@dfx 20 PPid: 19 Uid: 1000 \nnode\0server.js\0\n"
             "@@dfx 40 PPid: 0 Uid: 1000 \nsh\0-c\0...\0\n"
             "@@dfx 41 PPid: 40 Uid: 1000 \ncat\0/proc/41/cmdline\0\n")
    engine = FakeEngine({"sh": procs, "/etc/passwd": "root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n",
                         "/proc/20/environ": "PATH=/bin\0NODE_ENV=production\0"})
    m = Measurement()
    engine.measure_process("c", "t", m)
    assert m.pid1 == ["dumb-init", "--", "npm", "start"] and m.pid1_uid == 0
    assert m.app == ["node", "server.js"] and m.uid == 1000 and m.user == "node"
    assert m.node_env == "production" and m.node_env_seen
    assert [p["pid"] for p in m.processes] == [1, 7, 19, 20]
