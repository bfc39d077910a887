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
