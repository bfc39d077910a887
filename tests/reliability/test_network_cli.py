"""The CLI against misbehaving registries (DOCKERFIX_REGISTRY_MIRROR -> loopback fakes).

tests/registry/test_registry_fake.py covers each fault at the client level (RegistryClient
raises a clear ResolveError).  Here the whole command runs: every faulty reference must end as a
skip with a clear reason in the JSON report, its FROM line left exactly as written, the good
references pinned, the file written whole (never partially), and the second host of a redirect
never sees an Authorization header.  The client's timeouts are shortened for the test run."""

from __future__ import annotations

import json
import os
import time

import pytest

from dockerfix.fixer import cli, registry as registry_mod

from .conftest import STATS
from .netfaults import FakeRegistry, Reply, ResetServer, index_body, sha, OCI_INDEX

USER, PASSWORD = "ci-bot", "reg-pw-" + os.urandom(6).hex()


class FastClient(registry_mod.RegistryClient):
    def __init__(self, *a, **kw):
        kw.update(timeout=1.5, backoff=0.01, max_retry_after=2.0)
        super().__init__(*a, **kw)


@pytest.fixture
def servers():
    made = []

    def make(cls=FakeRegistry, **kw):
        s = cls(**kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


@pytest.fixture
def env(tmp_path, monkeypatch):
    for k in list(os.environ):
        if k.startswith("DOCKER"):
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    monkeypatch.setenv("DOCKERFIX_NO_CACHE", "1")
    monkeypatch.setattr(registry_mod, "RegistryClient", FastClient)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def run_cli(args, capsys) -> tuple[int, str, str]:
    try:
        cli.main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


FAULTS = {
    # tag: (expected reason fragment, how the fake misbehaves)
    "hang": "timed out after",
    "unavailable": "answered 503",
    "ratelimited": "429",
    "badjson": "not valid JSON",
    "wrongdigest": "does not match",
    "huge": "larger than",
    "redirect-auth": "credentials are not forwarded",
}


def test_every_fault_is_a_skip_with_a_reason_and_the_file_is_whole(tmp_path, env, servers, capsys):
    reset = servers(ResetServer)
    target_open = servers()
    target_auth = servers(require_basic=("someone", "else"))
    origin = servers(require_basic=(USER, PASSWORD))
    good = {}
    for tag in ("22", "20-alpine", "slow-ratelimit", "redirect-ok"):
        body = index_body(tag)
        good[tag] = origin.serve_manifest("library/node", tag, body, OCI_INDEX)
    head = "/v2/library/node/manifests/"
    # 429 with Retry-After, then a good answer: retried and pinned
    ok_head = origin.routes[("HEAD", head + "slow-ratelimit")][0]
    origin.add("HEAD", head + "slow-ratelimit", Reply(429, {"Retry-After": "1"}), ok_head)
    # redirect to another host that serves it: pinned, and the other host saw no credentials
    target_open.serve_manifest("library/node", "redirect-ok", index_body("redirect-ok"), OCI_INDEX)
    for method, path in (("HEAD", head + "redirect-ok"), ("GET", head + good["redirect-ok"])):
        origin.add(method, path, Reply(307, {"Location": f"{target_open.base_url}{path}"}))
    # faults (a timeout marks its host down for the run, so the hanging one has a host of its own)
    slow = servers()
    slow.add("HEAD", head + "hang", Reply(200, {"Docker-Content-Digest": sha(b"x")}, delay=4))
    origin.add("HEAD", head + "unavailable", Reply(503))
    origin.add("HEAD", head + "ratelimited", Reply(429, {"Retry-After": "1"}))
    origin.serve_manifest("library/node", "badjson", b'{"schemaVersion": 2, "manifests": [', OCI_INDEX)
    origin.serve_manifest("library/node", "wrongdigest", index_body("w"), OCI_INDEX, digest_header="sha256:" + "0" * 64)
    huge = b'{"schemaVersion":2,"manifests":[],"pad":"' + b"x" * (5 * 1024 * 1024) + b'"}'
    origin.add("HEAD", head + "huge", Reply(200, {"Docker-Content-Digest": sha(huge), "Content-Type": OCI_INDEX}))
    origin.add("GET", head + sha(huge), Reply(200, {"Content-Type": OCI_INDEX}, huge, length=False))
    origin.add("HEAD", head + "redirect-auth", Reply(307, {"Location": f"{target_auth.base_url}{head}redirect-auth"}))
    STATS["network: faults injected (CLI)"] += len(FAULTS) + 1 + 2  # + reset, + 429-then-ok, redirect-ok

    env.setenv("DOCKERFIX_REGISTRY_MIRROR",
               f"docker.io={origin.base_url},reset.example={reset.base_url},slow.example={slow.base_url}")
    env.setenv("DOCKERFIX_REGISTRY_AUTH", f"{origin.host}={USER}:{PASSWORD}")

    lines = [f"FROM {'slow.example/library/' if t == 'hang' else ''}node:{t} AS s{i}"
             for i, t in enumerate(["22", "20-alpine", "slow-ratelimit", "redirect-ok", *FAULTS])]
    lines.append("FROM reset.example/app:1 AS reset")
    lines.append('CMD ["node", "server.js"]')
    text = "\r\n".join(lines) + "\r\n"  # CRLF must survive
    f = tmp_path / "Dockerfile"
    f.write_bytes(text.encode())
    f.chmod(0o640)

    t0 = time.monotonic()
    code, out, err = run_cli(["--write", "--select", "DFX002", "--format", "json", "Dockerfile"], capsys)
    elapsed = time.monotonic() - t0
    assert code == 0, err
    report = json.loads(out)
    entry = report["files"][0]
    reasons = {s["line"]: s["reason"] for s in entry["skips"] if s["code"] == "DFX002"}
    written = f.read_bytes().decode()
    expected = text
    for tag, digest in good.items():
        expected = expected.replace(f"FROM node:{tag} AS", f"FROM node:{tag}@{digest} AS")
    assert written == expected  # good ones pinned, faulty lines byte-for-byte as written, CRLF kept
    assert (f.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir() if "dockerfix-tmp" in p.name] == []
    for i, (tag, fragment) in enumerate(FAULTS.items(), start=5):
        assert fragment in reasons.get(i, ""), (tag, reasons.get(i), reasons)
        assert "node:" + tag in reasons[i]
    assert "cannot reach registry" in reasons[len(lines) - 1]
    assert entry["written"] is True and entry["error"] is None
    # credentials: the origin got them, the hosts it redirected to never did
    assert any(h.get("Authorization", "").startswith("Basic ") for _, _, h in origin.log)
    assert target_open.log and target_auth.log
    assert all("Authorization" not in h for _, _, h in target_open.log + target_auth.log)
    assert reset.accepted >= 1
    assert PASSWORD not in out + err
    assert elapsed < 60


def test_a_thousand_references_against_a_flaky_registry(tmp_path, env, servers, capsys):
    """100 Dockerfiles x 10 FROMs = 1,000 references; every 10th answers 500 (retried, then a
    skip), every 10th+7 is unknown (404): everything else is pinned with its own digest."""
    reg = servers()
    digests, failing = {}, set()
    for i in range(1000):
        tag = f"t{i}"
        if i % 10 == 3:
            reg.add("HEAD", f"/v2/library/node/manifests/{tag}", Reply(500))
            failing.add(tag)
        elif i % 10 == 7:
            failing.add(tag)  # not scripted: 404 MANIFEST_UNKNOWN
        else:
            digests[tag] = reg.serve_manifest("library/node", tag, index_body(i), OCI_INDEX)
    STATS["network: faults injected (CLI)"] += len(failing)
    env.setenv("DOCKERFIX_REGISTRY_MIRROR", f"docker.io={reg.base_url}")
    for d in range(100):
        folder = tmp_path / f"svc{d:03d}"
        folder.mkdir()
        body = "".join(f"FROM node:t{d * 10 + k} AS s{k}\n" for k in range(10))
        (folder / "Dockerfile").write_text(body + 'CMD ["node", "a.js"]\n')
    code, out, err = run_cli(["--write", "--select", "DFX002", "--format", "json", "."], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["summary"]["files"] == 100 and report["summary"]["errors"] == 0
    skipped = 0
    for d in range(100):
        text = (tmp_path / f"svc{d:03d}" / "Dockerfile").read_text()
        want = "".join(
            f"FROM node:t{d * 10 + k}@{digests[f't{d * 10 + k}']} AS s{k}\n" if f"t{d * 10 + k}" in digests
            else f"FROM node:t{d * 10 + k} AS s{k}\n" for k in range(10)) + 'CMD ["node", "a.js"]\n'
        assert text == want
    for entry in report["files"]:
        for s in entry["skips"]:
            skipped += 1
            assert ("answered 500" in s["reason"]) or ("not found" in s["reason"]), s
    assert skipped == len(failing) == 200
    heads = [p for m, p, _ in reg.log if m == "HEAD"]
    assert len(set(heads)) == 1000  # every reference asked for, once per distinct tag (plus retries)
    assert len(heads) == 1000 + 100 * 2  # the 100 failing with 500 were retried twice


# ---------------------------------------------------------------------------------------------
# a network that never stalls the run (issue 14): circuit breaker, deadline, messages, config errors


@pytest.fixture
def real_env(tmp_path, monkeypatch):
    """Like ``env`` but with the client's real timeouts (10 s per request, 2 retries)."""
    for k in list(os.environ):
        if k.startswith("DOCKER"):
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    monkeypatch.setenv("DOCKERFIX_NO_CACHE", "1")
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def sixteen_files(root, images):
    """16 Dockerfiles in 16 folders, cycling through ``images`` (so several files share one)."""
    for i in range(16):
        d = root / f"svc{i:02d}"
        d.mkdir()
        (d / "Dockerfile").write_text(f"FROM {images[i % len(images)]}\nCMD [\"node\", \"a.js\"]\n")


def warnings_of(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("dockerfix: warning:")]


def test_a_mirror_that_accepts_and_never_answers_costs_one_timeout(tmp_path, real_env, capsys):
    """The issue's scenario: 16 files, 10 distinct images, a loopback mirror that accepts the
    connection and never answers.  Before: 5 min 11 s in silence (10 look-ups x 3 attempts x
    10 s).  Now: one 10 s timeout, then the host is skipped; one warning, one hint."""
    from registry.servers import HangServer

    hang = HangServer()
    try:
        images = [f"node:{v}" for v in range(14, 24)]
        sixteen_files(tmp_path, images)
        real_env.setenv("DOCKERFIX_REGISTRY_MIRROR", f"docker.io={hang.base_url}")
        t0 = time.monotonic()
        code, out, err = run_cli(["--check", "--select", "DFX002", "--format", "json", "."], capsys)
        elapsed = time.monotonic() - t0
    finally:
        hang.stop()
    STATS["network: hanging mirror, 16 files / 10 images, seconds"] = round(elapsed, 1)
    assert elapsed < 20, elapsed  # a stall guard with a wide margin (measured: about 10 s)
    assert code == 0, err
    assert hang.accepted == 1  # one connection: no retry, the other nine never went out
    report = json.loads(out)
    reasons = [s["reason"] for f in report["files"] for s in f["skips"] if s["code"] == "DFX002"]
    assert len(reasons) == 16
    timed_out = [r for r in reasons if "timed out after 10s for" in r]
    assert 1 <= len(timed_out) <= 2  # the file(s) of the one image actually asked for
    for r in reasons:
        assert r in timed_out or "not contacted for library/node:" in r and f"{hang.host} timed out after 10s earlier in this run" in r, r
    assert warnings_of(err) == [
        f"dockerfix: warning: registry {hang.host} timed out after 10s; its other image look-ups in this run "
        "are skipped (those FROM lines stay unpinned)"]
    assert err.count("--offline") == 1 and err.count("dockerfix: hint:") == 1
    assert "\r" not in err and "looking up" not in err  # no progress line when stderr is not a terminal


def test_with_dns_failing_each_host_costs_one_attempt(tmp_path, real_env, capsys):
    import socket

    counts: dict[str, int] = {}
    real = socket.getaddrinfo

    def counting(host, *a, **kw):
        key = host.decode() if isinstance(host, bytes) else str(host)
        counts[key] = counts.get(key, 0) + 1
        return real(host, *a, **kw)

    real_env.setattr(socket, "getaddrinfo", counting)
    images = [f"node:{v}" for v in range(14, 21)] + ["ghcr.io/acme/api:1", "ghcr.io/acme/web:2", "ghcr.io/acme/job:3"]
    sixteen_files(tmp_path, images)
    real_env.setenv("DOCKERFIX_REGISTRY_MIRROR", "docker.io=https://hub-mirror.invalid,ghcr.io=https://ghcr-mirror.invalid")
    t0 = time.monotonic()
    code, out, err = run_cli(["--check", "--select", "DFX002", "--format", "json", "."], capsys)
    elapsed = time.monotonic() - t0
    STATS["network: DNS failing, name look-ups per host"] = max(counts.get("hub-mirror.invalid", 0),
                                                                 counts.get("ghcr-mirror.invalid", 0))
    assert code == 0, err
    assert counts.get("hub-mirror.invalid") == 1 and counts.get("ghcr-mirror.invalid") == 1, counts
    assert sorted(warnings_of(err)) == [
        f"dockerfix: warning: registry {h} did not resolve (DNS); its other image look-ups in this run "
        "are skipped (those FROM lines stay unpinned)" for h in ("ghcr-mirror.invalid", "hub-mirror.invalid")]
    assert err.count("dockerfix: hint: run with --offline") == 1
    reasons = [s["reason"] for f in json.loads(out)["files"] for s in f["skips"]]
    assert len(reasons) == 16 and all("resolve (DNS)" in r for r in reasons), reasons
    assert sum("its name does not resolve (DNS)" in r for r in reasons) >= 2  # the first look-up per host
    assert elapsed < 20, elapsed


def test_the_deadline_ends_the_network_work_of_the_run(tmp_path, real_env, capsys):
    from registry.servers import HangServer

    hangs = [HangServer() for _ in range(3)]
    try:
        images = [f"reg{i}.example/app:{t}" for i in range(3) for t in (1, 2)]
        sixteen_files(tmp_path, images)
        real_env.setenv("DOCKERFIX_REGISTRY_MIRROR", ",".join(f"reg{i}.example={h.base_url}" for i, h in enumerate(hangs)))
        real_env.setenv("DOCKERFIX_NETWORK_DEADLINE", "1.5")
        t0 = time.monotonic()
        code, out, err = run_cli(["--check", "--select", "DFX002", "--format", "json", "."], capsys)
        elapsed = time.monotonic() - t0
    finally:
        for h in hangs:
            h.stop()
    assert code == 0, err
    assert elapsed < 8, elapsed  # 1.5 s of network work, not 10 s per host
    reasons = [s["reason"] for f in json.loads(out)["files"] for s in f["skips"]]
    assert len(reasons) == 16 and all("network deadline of 1.5s" in r for r in reasons), reasons
    assert warnings_of(err) == [
        "dockerfix: warning: the network deadline of 1.5s passed; the remaining image look-ups are skipped "
        "(set DOCKERFIX_NETWORK_DEADLINE to allow more)"]
    assert err.count("dockerfix: hint:") == 1


def test_references_of_all_configurations_are_looked_up_together(tmp_path, env, servers, capsys):
    """Two folders with their own configuration (other platforms, other mirror): their look-ups
    overlap in time, and a reference used by both configurations of one mirror is asked once."""
    a, b = servers(), servers()
    for srv in (a, b):
        for t in ("1", "2", "3", "shared"):
            srv.serve_manifest("library/node", t, index_body(f"{srv.port}-{t}"), OCI_INDEX)
        for replies in srv.routes.values():
            replies[0].delay = 0.3
    layout = {"one": (a, '["linux/amd64"]'), "two": (a, '["linux/arm64"]'), "three": (b, '["linux/amd64"]')}
    for name, (srv, platforms) in layout.items():
        d = tmp_path / name
        d.mkdir()
        (d / ".dockerfix.toml").write_text(
            f'platforms = {platforms}\nregistry-mirrors = {{ "docker.io" = "{srv.base_url}" }}\n')
        for t in ("1", "2", "3", "shared"):
            (d / f"{t}.Dockerfile").write_text(f"FROM node:{t}\n")
    code, out, err = run_cli(["--write", "--select", "DFX002", "--format", "json", "."], capsys)
    assert code == 0, err
    assert json.loads(out)["summary"]["files"] == 12
    heads = [p for m, p, _ in a.log if m == "HEAD"]
    assert sorted(heads) == sorted(f"/v2/library/node/manifests/{t}" for t in ("1", "2", "3", "shared"))
    assert a.max_in_flight >= 2 and b.max_in_flight >= 2  # references of one mirror went out together
    assert any(sa < eb and sb < ea for sa, ea in a.spans for sb, eb in b.spans)  # and both mirrors at once


def test_progress_line_only_on_a_terminal(tmp_path):
    """The progress line appears on a terminal once look-ups take more than a second, and is
    erased at the end; the CLI tests above check that a non-terminal gets nothing."""
    import io

    from dockerfix.fixer.config import Config
    from dockerfix.fixer.imageref import parse
    from dockerfix.fixer.resolving import NetworkSession, RunResolver
    from registry.servers import HangServer

    class Tty(io.StringIO):
        def isatty(self):
            return True

    hang = HangServer()
    try:
        stream = Tty()
        session = NetworkSession(stream=stream, deadline=1.6, env={"DOCKERFIX_NO_CACHE": "1",
                                                                   "DOCKER_CONFIG": str(tmp_path)})
        config = Config()
        config.registry_mirrors = {"docker.io": hang.base_url}
        resolver = RunResolver(config, network=session)
        resolver.prefetch([parse("node:22"), parse("node:20")])
        session.close()
    finally:
        hang.stop()
    text = stream.getvalue()
    assert "\r\033[Kdockerfix: looking up image digests 0/2 (1s)" in text
    first_warning = text.index("dockerfix: warning:")
    assert text[:first_warning].endswith("\r\033[K")  # the progress line is erased before a warning
    assert text.endswith("\r\033[K") or text.endswith("\n")


def test_quiet_keeps_the_warning_and_drops_progress_and_hint(tmp_path):
    import io

    from dockerfix.fixer.config import Config
    from dockerfix.fixer.imageref import parse
    from dockerfix.fixer.resolving import NetworkSession, RunResolver
    from registry.servers import HangServer

    class Tty(io.StringIO):
        def isatty(self):
            return True

    hang = HangServer()
    try:
        stream = Tty()
        session = NetworkSession(stream=stream, quiet=True, deadline=1.3,
                                 env={"DOCKERFIX_NO_CACHE": "1", "DOCKER_CONFIG": str(tmp_path)})
        config = Config()
        config.registry_mirrors = {"docker.io": hang.base_url}
        RunResolver(config, network=session).prefetch([parse("node:22")])
        session.close()
    finally:
        hang.stop()
    assert stream.getvalue() == ("dockerfix: warning: the network deadline of 1.3s passed; the remaining image "
                                 "look-ups are skipped (set DOCKERFIX_NETWORK_DEADLINE to allow more)\n")


@pytest.mark.parametrize("setting,message", [
    ({"DOCKERFIX_REGISTRY_MIRROR": "docker.io=http://10.1.2.3:5000"},
     "plain http is only allowed for loopback registries, not 10.1.2.3 (use https://10.1.2.3:5000)"),
    ({"DOCKERFIX_REGISTRY_MIRROR": "docker.io"}, "entry 'docker.io' is not domain=url"),
    ({"DOCKERFIX_REGISTRY_MIRROR": "docker.io=https://user:pw@m.example"}, "must not contain credentials"),
    ({"DOCKERFIX_REGISTRY_MIRROR": "docker.io=https://m.example/v2"}, "must not have a path"),
    ({"DOCKERFIX_NETWORK_DEADLINE": "soon"}, "DOCKERFIX_NETWORK_DEADLINE='soon': must be a positive number"),
    ({"DOCKERFIX_REGISTRY_AUTH": "ghcr.io"}, "entry 1 is malformed"),
    ({"docker-config": '{"auths": {"ghcr.io": '}, "config.json is not valid JSON (line 1, column 23)"),
    ({"docker-config": '{"auths": {"ghcr.io": {"auth": "%%%"}}}'}, "'auth' is not base64"),
    ({"toml": 'registry-mirrors = { "docker.io" = "http://mirror.example" }\n'},
     ".dockerfix.toml: registry-mirrors['docker.io']: plain http is only allowed for loopback registries"),
])
def test_a_network_setting_that_cannot_work_is_one_line_and_exit_2(tmp_path, env, capsys, setting, message):
    (tmp_path / "Dockerfile").write_text("FROM node:22\n")
    before = (tmp_path / "Dockerfile").read_bytes()
    for key, value in setting.items():
        if key == "docker-config":
            (tmp_path / "dc").mkdir()
            (tmp_path / "dc" / "config.json").write_text(value)
            env.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
        elif key == "toml":
            (tmp_path / ".dockerfix.toml").write_text(value)
        else:
            env.setenv(key, value)
    STATS["config: bad network settings tried"] += 1
    for args in (["--write", "Dockerfile"], ["--check", "--format", "json", "."]):
        code, out, err = run_cli(args, capsys)
        assert code == 2, (args, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("dockerfix: ") and message in lines[0], err
        assert "Traceback" not in err and "pw" not in err
    assert (tmp_path / "Dockerfile").read_bytes() == before
    code, _out, err = run_cli(["--check", "--offline", "Dockerfile"], capsys)  # no network: not needed
    assert code in (0, 1) and "Traceback" not in err


def test_plain_http_mirror_on_a_real_process_exits_2_in_one_line(tmp_path):
    """The issue's report, as a user runs it: a traceback and exit 1 before."""
    import subprocess
    import sys

    (tmp_path / "Dockerfile").write_text("FROM node:22\n")
    envvars = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER")}
    envvars.update(DOCKERFIX_REGISTRY_MIRROR="docker.io=http://192.0.2.10:5000", XDG_CACHE_HOME=str(tmp_path / "c"))
    proc = subprocess.run([sys.executable, "-c", "from dockerfix.fixer.cli import main; main()", "--check", "Dockerfile"],
                          cwd=tmp_path, env=envvars, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "dockerfix: DOCKERFIX_REGISTRY_MIRROR: plain http is only allowed for loopback registries, not "
        "192.0.2.10 (use https://192.0.2.10:5000)"]
