"""Real-engine tests: dockerfix's sample apps built, run and measured by ``dockerfix verify``.

The base images are the stack's test images (tests/infra/baseimage.py): real Debian root filesystems
with the official Node.js builds for the ``node:<major>[-bookworm|-trixie][-slim]`` tags (synthetic
only for ``*-alpine``). Builds run with ``--network=host`` and install REAL dependencies from the
npm registry (lockfiles committed with each app); the private package ``@acme/secret-lib`` comes from
the stack's verdaccio with a per-stack token.

One implementation measures: for each app under ``apps/`` the suite runs the user's command,
``dockerfix verify --unsafe-fixes --format json`` (online against the loopback registry, the
docker.io mirror; ``--probe`` on the app's port; the private app's ``.npmrc`` as the ``npmrc``
build secret), once, against the stack's dockerd. verify builds the original and the fixed image,
runs both and measures them; the tests assert on its JSON:

* the ORIGINAL image (what is true of it today): it answers HTTP; root, no init as PID 1, no
  NODE_ENV; the node-as-PID-1 image ignores SIGTERM and is SIGKILLed after the timeout; the
  npm-private-token image leaks its .npmrc token into a layer;
* dockerfix's FIXED image (:func:`assert_production_ready`): HTTP answer, the app's uid and PID 1's,
  PID 1 an init, ``stop`` time and exit code, NODE_ENV as the app process sees it, no
  devDependencies in the app's node_modules, written folders writable (from the app's answer), no
  build secret anywhere in the image, and verify's verdict: no regression. Where the app needs
  root (a port below 1024) or steps down itself (gosu), dockerfix must refuse ``USER`` and say why
  in its report (``dockerfix --write --unsafe-fixes --format json`` on a copy: no build);
* for apps with a hand-written ``Dockerfile.expected-shape`` (what dockerfix should produce), verify
  of that file: it must be production-ready, and dockerfix must not make it worse.

Apps whose correct outcome needs a dockerfix fix that is not merged yet are marked
``xfail(strict=True, reason=...)``: they turn into failures (XPASS) as soon as dockerfix does the
right thing, and the mark must then be removed.

No Dockerfile here may use a ``# syntax=`` line, heredocs or ``COPY --link`` (BuildKit would need to
fetch a frontend image). Every measured image adds a row to the before/after table printed at the end.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra.stack import DOCKER_CLI

pytestmark = pytest.mark.engine

APPS_DIR = Path(__file__).parent / "apps"
STOP_TIMEOUT = 4          # seconds given to `docker stop -t` (verify --stop-timeout)
FAST_STOP = 2.0           # "well within the timeout"


@dataclass(frozen=True)
class App:
    name: str
    # What the original image does today (None: not asserted):
    original_pid1: str | None = None    # first word of PID 1's command line
    original_killed: bool = False       # True: SIGTERM is ignored, `docker stop` waits the full timeout
    original_exit: int | None = None    # container exit code after `docker stop -t 4`
    original_root: bool = True          # the original app runs as root
    # Needs the private registry: the test writes .npmrc (registry + the stack's token) into the
    # build context, passes it as the `npmrc` build secret, and the token must never reach the image.
    private_registry: bool = False
    # devDependencies a production image must not contain (verify looks for every devDependency of
    # the context's package.json in the app's node_modules; these must have been looked for).
    absent: tuple[str, ...] = ()
    # Folders the app writes to (it reports them writable or not in its HTTP answer).
    writes: tuple[str, ...] = ()
    # The app binds this fixed port (needs root on the host network); None: -e PORT=<free port>.
    own_port: int | None = None
    # How the fixed image must run the app: "non-root" (USER added), "root" (the app needs root:
    # dockerfix must refuse USER), "steps-down" (the entrypoint drops privileges itself: dockerfix
    # must refuse USER; the app process is not root). `refusal` are words the DFX006 skip reason
    # must contain for "root"/"steps-down".
    runtime_user: str = "non-root"
    refusal: tuple[str, ...] = ()
    # -f path (relative to the app folder, which is the build context)
    dockerfile: str = "Dockerfile"
    # No npm process may stay in the fixed image's process tree (the CMD's script is resolved).
    no_npm: bool = False
    # The app sets NODE_ENV itself (`next start` does): its answer says "production" where its
    # environment (what verify reads) has none.
    sets_node_env: bool = False
    # Fields the app's JSON answer must carry (key, value): proof that a dependency really loaded.
    answer_has: tuple[tuple[str, str], ...] = ()
    # The original does not build today: text its build log must contain (e.g. "yarn: not found").
    original_fails: str | None = None
    # Text the fixed Dockerfile must contain (e.g. the base image dockerfix had to choose).
    fixed_has: str | None = None

    @property
    def dir(self) -> Path:
        return APPS_DIR / self.name

    @property
    def has_expected_shape(self) -> bool:
        return (self.dir / "Dockerfile.expected-shape").exists()


APPS = [
    # `CMD "npm" "start"` (shell form; busybox sh execs it): npm is PID 1. npm 11 forwards SIGTERM to
    # its child and the app handles it, so this one happens to stop quickly with 0 - but as root,
    # without NODE_ENV, and with npm (not an init) as PID 1 that would never reap zombies.
    App("npm-sigterm", original_pid1="npm", original_killed=False, original_exit=0),
    # `CMD node server.js`: node is PID 1 with no handler; the kernel drops SIGTERM for PID 1 without
    # a handler, so `docker stop` waits the full timeout and SIGKILLs it (137).
    App("npm-nosignal", original_pid1="node", original_killed=True, original_exit=137),
    # `CMD ["yarn", "start"]` on a Debian base: yarn v1 (node) is PID 1; on SIGTERM it exits 1.
    App("yarn-app", original_pid1="node", original_killed=False, original_exit=1),
    # Installs @acme/secret-lib from verdaccio with a token: the original COPYs .npmrc and `rm`s it
    # in a later step, so the token stays in a layer. The fixed image mounts it as a build secret.
    # On Debian npm runs the script through dash, which does not exec it: npm forwards SIGTERM to
    # `sh -c node server.js`, sh dies of it and npm reports "signal SIGTERM" and exits 1.
    App("npm-private-token", original_pid1="npm", original_killed=False, original_exit=1,
        private_registry=True, answer_has=(("secretLib", "acme-secret-lib@1.0.0"),)),
    # TypeScript built with the real tsc (`npm run build`); `CMD ["npm", "start"]`: npm is PID 1 and
    # exits 1 on SIGTERM as above. dockerfix splits it into build + production stages.
    App("ts-build", original_pid1="npm", original_killed=False, original_exit=1,
        absent=("typescript", "@types/node")),
    # Express with real dependencies, `CMD npm start` (shell form), prettier as a devDependency. On
    # Debian /bin/sh is dash: it stays PID 1 (no exec) and ignores SIGTERM, so `docker stop` kills it.
    App("express-api", original_pid1="/bin/sh", original_killed=True, absent=("prettier",)),
    # `prepare: husky` with husky in devDependencies: `npm ci --omit=dev` runs prepare without husky.
    App("husky-prepare", original_pid1="node", original_killed=False, absent=("husky",)),
    # Binds port 80 (ENV PORT=80, EXPOSE 80): needs root (or a capability) outside Docker's own
    # bridge sysctl; dockerfix must not add USER node.
    App("port-80", original_pid1="node", own_port=80, runtime_user="root", refusal=("80",)),
    # `RUN mkdir -p /app/uploads /var/log/app` as root before USER: the app must still write there.
    App("uploads", original_pid1="node", writes=("/app/uploads", "/var/log/app")),
    # The entrypoint chowns /data as root, then `exec gosu node "$@"`: dockerfix must not add USER.
    App("gosu-entrypoint", original_pid1="node", original_root=False, writes=("/data",),
        runtime_user="steps-down", refusal=("gosu",)),
    # NestJS layout: multi-stage, `CMD ["npm", "run", "start:prod"]` (= node dist/main).
    App("nest-start-prod", original_pid1="npm", original_exit=1, no_npm=True,
        absent=("typescript", "@types/node")),
    # npm workspaces, built from the root with -f docker/Dockerfile (compose says so).
    App("workspaces-monorepo", original_pid1="npm", original_exit=1, dockerfile="docker/Dockerfile",
        absent=("prettier",)),
    # Next.js: real `next build` in a builder stage, `next start` serving public/ in the runner.
    pytest.param(App("nextjs-public", original_pid1="npm", original_exit=1, sets_node_env=True, absent=("prettier",)),
                 marks=pytest.mark.xfail(strict=True, reason="not an issue 12 class (a missed fix): the runner "
                                         "stage copies the builder's full node_modules, devDependencies included, "
                                         "and dockerfix does not prune it")),
    # pnpm through corepack (packageManager: pnpm@9), `CMD ["pnpm", "start"]`.
    App("pnpm-corepack", original_pid1="node", original_exit=1, absent=("prettier",)),
    # A C++ addon (node-gyp + node-addon-api, `install: node-gyp rebuild`) compiled in a build stage
    # on the full image (gcc, python3), copied to -slim and loaded there.
    App("native-addon", original_pid1="node", answer_has=(("native", "native addon loaded"),)),
    # yarn v1 on node:20 (end of life): a major upgrade is its own decision (--upgrade-node), so the
    # hardening run leaves node:20 (and its yarn) alone and only reports the end of life.
    App("yarn-upgrade", original_pid1="node"),
    # yarn v1 on node:lts-slim, which is Node 26 today: its image has no yarn (docker-node PR #2422),
    # so the original no longer builds. Made explicit, the tag must name the newest LTS line whose
    # image still ships yarn (24), keeping the release the tag has today (trixie).
    App("yarn-lts", original_fails="yarn: not found", fixed_has="FROM node:24-trixie-slim"),
]


def _id(app) -> str:
    return (app.values[0] if hasattr(app, "values") else app).name


def _plain(app) -> App:
    return app.values[0] if hasattr(app, "values") else app


# ---------------------------------------------------------------------------------------------
# running dockerfix (the fixer and verify) as a user would

def dockerfix_available() -> str | None:
    """None when `python -m dockerfix` can run here; otherwise why not.

    Checked in a subprocess from a neutral directory, so the repo's own dockerfix/ folder (which has
    no fixer/ inside: that is only mapped in by the install) cannot shadow the installed package.
    """
    probe = subprocess.run([sys.executable, "-c", "import dockerfix.fixer.cli, dockerfix.transforms"],
                           capture_output=True, text=True, cwd="/")
    if probe.returncode != 0:
        return (probe.stderr.strip().splitlines() or ["import failed"])[-1]
    return None


def user_env(stack, workdir: Path) -> dict[str, str]:
    """The environment of a user whose DOCKER_HOST is the test daemon and whose registry mirror is the
    loopback registry: digests are really resolved, and the engine pulls the pinned bases through it."""
    reason = dockerfix_available()
    if reason:
        pytest.fail(f"dockerfix cannot be run from this environment: {reason}")
    env = {**os.environ, **stack.env, "XDG_CACHE_HOME": str(workdir / "dfx-cache"),
           "DOCKER_CONFIG": str(Path(stack.env_file).parent / "docker-config"),  # no user credentials
           "DOCKERFIX_DOCKER": DOCKER_CLI, "DOCKERFIX_REGISTRY_MIRROR": f"docker.io=http://{stack.registry}"}
    env.pop("DOCKER_CONTEXT", None)  # a user's context would override DOCKER_HOST
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Verified:
    """One ``dockerfix verify --format json`` run on one Dockerfile."""
    command: list[str]
    code: int
    doc: dict | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def file(self) -> dict:
        if not self.doc or not self.doc.get("files"):
            pytest.fail(f"dockerfix verify gave no report\n{self}", pytrace=False)
        return self.doc["files"][0]

    @property
    def original(self) -> dict:
        return self.file["original"]

    @property
    def fixed(self) -> dict | None:
        return self.file["fixed"]

    def table(self) -> str:
        rows = self.file.get("rows") or []
        return "\n".join(f"  {r['check']}: {r['before']} -> {r['after']} ({r['verdict']})" for r in rows)

    def __str__(self) -> str:
        return (f"$ {' '.join(self.command)}\nexit {self.code} in {self.seconds:.0f}s\n--- stdout\n"
                f"{self.stdout[-6000:]}\n--- stderr\n{self.stderr[-4000:]}")


# (app, variant) -> verify's result: each image is built and measured once per session
VERIFIED: dict[tuple[str, str], Verified] = {}


def prepare_context(app: App, workdir: Path, stack) -> tuple[Path, list[str]]:
    """Copy the app to `workdir`; for the private-registry app write its .npmrc (verdaccio + the
    stack's token). Returns (copy, verify's --secret options)."""
    copy = workdir / app.name
    # The reference file is not part of the app (and dockerfix would discover Dockerfile.* files).
    shutil.copytree(app.dir, copy, ignore=shutil.ignore_patterns("Dockerfile.expected-shape", "node_modules"))
    if not app.private_registry:
        return copy, []
    registry, token = stack.env.get("NPM_PRIVATE_REGISTRY"), stack.env.get("NPM_PRIVATE_TOKEN")
    if not registry or not token:
        pytest.fail("the stack has no private registry (NPM_PRIVATE_REGISTRY/NPM_PRIVATE_TOKEN in env.sh)")
    host = registry.removeprefix("http:")
    (copy / ".npmrc").write_text(f"@acme:registry={registry}\n{host}:_authToken={token}\n")
    return copy, ["--secret", f"id=npmrc,src={copy / '.npmrc'}"]


def verify_app(app: App, variant: str, stack, tmp_factory, results: list[dict]) -> Verified:
    """``dockerfix verify --unsafe-fixes --format json`` on the app's Dockerfile (``variant`` "app")
    or its Dockerfile.expected-shape, once per session; adds the table rows."""
    key = (app.name, variant)
    if key in VERIFIED:
        return VERIFIED[key]
    workdir = tmp_factory.mktemp(f"{app.name}-{variant}")
    ctx, secrets = prepare_context(app, workdir, stack)
    target = ctx / app.dockerfile
    if variant == "expected-shape":
        target = ctx / "Dockerfile.expected-shape"
        shutil.copy(app.dir / target.name, target)
    if app.own_port:  # the app binds its own port: probe that one (the host network: no -e PORT)
        run = ["--probe", f"{app.own_port}/"]
    else:
        port = free_port()
        run = ["-e", f"PORT={port}", "--probe", f"{port}/"]
    command = [sys.executable, "-m", "dockerfix", "verify", "--unsafe-fixes", "--format", "json", "--engine",
               "docker", "--stop-timeout", str(STOP_TIMEOUT), "--run-timeout", "60", *run, *secrets, str(target)]
    t0 = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=workdir, env=user_env(stack, workdir),
                          timeout=1800)
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        doc = None
    v = VERIFIED[key] = Verified(command[2:], proc.returncode, doc, proc.stdout, proc.stderr, time.monotonic() - t0)
    print(v)
    if doc and doc.get("files"):
        pairs = [(v.original, "expected-shape" if variant == "expected-shape" else "original")]
        if variant == "app":
            pairs.append((v.fixed, "dockerfix"))
        for m, name in pairs:
            if m and m.get("ran"):
                results.append(table_row(app.name, name, m))
    return v


def table_row(app: str, variant: str, m: dict) -> dict:
    return {"app": app, "variant": variant, "user": f"{m.get('pid1_uid')}/{m.get('uid')}",
            "pid1": " ".join(m.get("pid1") or [])[:40],
            "stop_s": "-" if m.get("stop_seconds") is None else f"{m['stop_seconds']:.1f}",
            "exit": m.get("stop_exit"), "node_env": m.get("node_env") or "-",
            "size_mb": "-" if m.get("size_bytes") is None else f"{m['size_bytes'] / 1e6:.0f}"}


def answer_of(m: dict) -> dict:
    """The app's JSON answer to verify's probe ({} when it is not JSON, e.g. Next.js's HTML)."""
    try:
        answer = json.loads(m.get("probe_body") or "")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def describe(m: dict) -> str:
    procs = "\n".join(f"  {p['pid']:>5} {p['ppid']:>5} {p['uid']!s:>5} {' '.join(p['cmd'])}" for p in m.get("processes") or [])
    return (f"PID 1 {m.get('pid1')} (uid {m.get('pid1_uid')}), app {m.get('app') or 'PID 1'} (uid {m.get('uid')})\n"
            f"  pid  ppid   uid command\n{procs}\n--- logs\n{m.get('logs') or ''}")


def first_word(argv: list[str]) -> str:
    # npm sets its process title ("npm start"): the first word of PID 1's name
    return Path(argv[0]).name.split()[0] if argv and argv[0].strip() else ""


def assert_same_view(m: dict, answer: dict, context: str, node_env: bool = True) -> None:
    """The app's own view (its JSON answer) agrees with verify's /proc reading of the app process."""
    if "uid" in answer:
        assert answer["uid"] == m["uid"], f"the app says uid {answer['uid']}, verify {m['uid']}\n{context}"
    if "nodeEnv" in answer and node_env:
        assert answer["nodeEnv"] == m["node_env"], f"the app says NODE_ENV {answer['nodeEnv']!r}\n{context}"


def assert_measured(v: Verified | str, m: dict | None, what: str) -> dict:
    if m is None or not m.get("built"):
        pytest.fail(f"the {what} image did not build: {(m or {}).get('build_error')}\n{v}", pytrace=False)
    if not m.get("ran"):
        pytest.fail(f"the {what} image did not run: {m.get('run_error')}\n{v}", pytrace=False)
    assert m.get("probe_status") == 200, f"the {what} image did not answer HTTP 200: {m.get('probe_error')}\n{v}"
    return m


def assert_fixed_ready(v: Verified | str, m: dict | None, app: App, runtime_init: bool = False) -> None:
    """What a dockerfix-fixed image of a sample app must do when it runs (verify's measurement ``m``).
    ``runtime_init``: the image has no init of its own because dockerfix reported, instead of adding
    one, that it should run under the engine's (``docker run --init``): verify ran it that way and
    PID 1 must be the engine's init."""
    m = assert_measured(v, m, "fixed")
    answer = answer_of(m)
    context = f"{describe(m)}\n{v.table() if isinstance(v, Verified) else v}"
    for key, value in app.answer_has:
        assert answer.get(key) == value, f"answer {answer} lacks {key}={value!r}\n{context}"
    assert_same_view(m, answer, context)
    if app.runtime_user == "non-root":
        assert m["uid"] != 0 and m["pid1_uid"] != 0, f"runs as root\n{context}"
    elif app.runtime_user == "steps-down":
        assert m["uid"] != 0, f"the app runs as root although its entrypoint steps down\n{context}"
    else:  # "root": the app needs it (port 80); refusing USER is the right call
        assert m["uid"] == 0, f"expected the app to keep root (it binds port {app.own_port})\n{context}"
    assert m["run_init"] == runtime_init, f"verify ran the fixed image with --init={m['run_init']}\n{context}"
    wanted = ("docker-init",) if runtime_init else ("dumb-init",)
    assert m["pid1_kind"] == "init" and first_word(m["pid1"]) in wanted, f"PID 1 is not {wanted[0]}\n{context}"
    assert m["stop_seconds"] < FAST_STOP, f"docker stop took {m['stop_seconds']:.1f}s\n{context}"
    assert m["stop_exit"] != 137, f"was SIGKILLed on stop\n{context}"
    assert m["node_env"] == "production", f"the app saw NODE_ENV={m['node_env']!r}\n{context}"
    for folder in app.writes:
        assert answer.get("writable", {}).get(folder) is True, \
            f"{folder} is not writable by the app: {answer.get('writable')}\n{context}"
    if app.no_npm:
        npm = [" ".join(p["cmd"]) for p in m["processes"]
               if p["cmd"] and (first_word(p["cmd"]) == "npm" or any(w.endswith("npm-cli.js") for w in p["cmd"][:2]))]
        assert not npm, f"npm still runs in the container: {npm}\n{context}"
    if app.private_registry:
        assert m["secrets_checked"] and m["leaks"] == {}, f"build secret ends up in the image: {m['leaks']}\n{context}"
    assert set(app.absent) <= set(m["dev_deps_checked"]), f"verify did not look for {app.absent}\n{context}"
    assert not m["dev_deps"], f"the production image still contains devDependencies {m['dev_deps']}\n{context}"


# ---------------------------------------------------------------------------------------------
# the original image, dockerfix's output, the expected shape

@pytest.mark.parametrize("app", [_plain(a) for a in APPS], ids=_id)
def test_original_image_today(results, app, e2e_stack, tmp_path_factory):
    """The app as people ship it: it works, but as root, without an init and without NODE_ENV."""
    v = verify_app(app, "app", e2e_stack, tmp_path_factory, results)
    if app.original_fails:
        assert not v.original["built"] and app.original_fails in (v.original["build_error"] or ""), v
        return
    o = assert_measured(v, v.original, "original")
    context = f"{describe(o)}\n{v.table()}"
    for key, value in app.answer_has:
        assert answer_of(o).get(key) == value, f"answer lacks {key}={value!r}\n{context}"
    assert_same_view(o, answer_of(o), context, node_env=not app.sets_node_env)
    if app.original_root:
        assert o["pid1_uid"] == 0 and o["uid"] == 0, context
    else:
        assert o["uid"] != 0, context
    assert o["pid1_kind"] != "init", context
    # the app process' environment (or, where a process that changed its user (gosu) hides it, the
    # image's ENV); Next.js sets NODE_ENV inside `next start`, not in its environment
    assert o["node_env"] is None, context
    if app.original_pid1:
        assert o["pid1"][0] == app.original_pid1 or first_word(o["pid1"]) == app.original_pid1, context
    if app.original_killed:
        assert o["killed"] and o["stop_seconds"] >= STOP_TIMEOUT - 0.2, f"stopped in {o['stop_seconds']:.1f}s\n{context}"
        assert o["stop_exit"] == 137, context
    elif app.original_exit is not None:
        assert o["stop_seconds"] < STOP_TIMEOUT, context
        assert o["stop_exit"] == app.original_exit, context
    if app.private_registry:
        assert o["leaks"], f"expected today's image to leak the token\n{context}"


@pytest.mark.parametrize("app", [_plain(a) for a in APPS if _plain(a).has_expected_shape], ids=_id)
def test_expected_shape_is_production_ready(results, app, e2e_stack, tmp_path_factory):
    """The hand-written target for dockerfix's output passes the production checks, and dockerfix
    (whatever it still changes there) does not make it worse."""
    v = verify_app(app, "expected-shape", e2e_stack, tmp_path_factory, results)
    assert_fixed_ready(v, v.original, app)
    assert v.file["status"] in ("ok", "unchanged"), f"{v.file['reasons']}\n{v}"


def test_private_package_needs_the_token(e2e_stack):
    """@acme/secret-lib is really private: verdaccio refuses it without the token."""
    registry, token = e2e_stack.env.get("NPM_PRIVATE_REGISTRY"), e2e_stack.env.get("NPM_PRIVATE_TOKEN")
    assert registry and token, "the stack has no private registry"
    url = f"{registry}@acme%2fsecret-lib"
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(url, timeout=10)
    assert denied.value.code in (401, 403)
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert "1.0.0" in json.load(resp)["versions"]


def run_dockerfix(ctx: Path, workdir: Path, dockerfile: str = "Dockerfile", registry: str | None = None,
                  env: dict[str, str] | None = None) -> dict:
    """`dockerfix --write --unsafe-fixes --format json` on the copied app `ctx` (what a user gets; no
    build); returns the report of the Dockerfile (its skips say what dockerfix refused and why).
    Online against the loopback registry (the docker.io mirror) when `registry` is given or `env`
    (:func:`user_env`) names it, else ``--offline``."""
    reason = dockerfix_available()
    if reason:
        pytest.fail(f"dockerfix cannot be run from this environment: {reason}")
    env = dict(env or {**os.environ, "XDG_CACHE_HOME": str(workdir / "dfx-cache")})
    if registry:
        env["DOCKERFIX_REGISTRY_MIRROR"] = f"docker.io=http://{registry}"
    offline = [] if env.get("DOCKERFIX_REGISTRY_MIRROR") else ["--offline"]
    target = ctx / dockerfile
    proc = subprocess.run([sys.executable, "-m", "dockerfix", "--write", "--unsafe-fixes", "--format", "json",
                           *offline, str(target)], capture_output=True, text=True, cwd=workdir, env=env, timeout=120)
    if proc.returncode not in (0, 1):
        pytest.fail(f"dockerfix exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    files = json.loads(proc.stdout)["files"]
    assert files, f"dockerfix reported no file for {target}"
    return files[0]


def measure_built_image(stack, tag: str, app: App, init: bool = False, secret: str | None = None) -> dict:
    """verify's measurement (:meth:`dockerfix.fixer.verify_engine.Engine.run_and_measure`, the code
    ``dockerfix verify`` runs) of an image built elsewhere: for e2e tests that build with other
    options than verify's (e.g. ``--upgrade-node``). Its JSON, as in verify's report."""
    from dockerfix.fixer.verify_compare import Measurement
    from dockerfix.fixer.verify_engine import Engine as VerifyEngine

    with tempfile.TemporaryDirectory(prefix="dfx-e2e-measure-") as tmp:
        engine = VerifyEngine("docker", DOCKER_CLI, {**user_env(stack, Path(tmp)), "DOCKER_BUILDKIT": "1"})
        engine.run_id = f"e2e-{uuid.uuid4().hex[:8]}"
        m = Measurement(dockerfile=tag, built=True)
        size = engine.call("image", "inspect", "-f", "{{.Size}}", tag, timeout=60).stdout.strip()
        m.size_bytes = int(size) if size.isdigit() else None
        port = app.own_port or free_port()
        try:
            engine.run_and_measure(tag, f"dfx-e2e-{engine.run_id}", m, env={} if app.own_port else {"PORT": str(port)},
                                   network="host", port=port, init=init, run_timeout=60, stop_timeout=STOP_TIMEOUT,
                                   context=app.dir, needles={"build secret": secret} if secret else None)
        finally:
            engine.cleanup()  # the container (the image is the caller's)
    return m.to_json()


def assert_production_ready(engine, image: str, app: App, variant: str, results: list[dict],
                            secret: str | None = None, runtime_init: bool = False) -> dict:
    """The production checks of :func:`assert_fixed_ready` on an image built elsewhere (``engine``:
    the suite's :class:`tests.infra.engine.Engine`), measured by verify's code; adds a table row."""
    m = measure_built_image(engine.stack, image, app, init=runtime_init, secret=secret)
    if m.get("ran"):
        results.append(table_row(app.name, variant, m))
    assert_fixed_ready(image, m, app, runtime_init=runtime_init)
    if secret:
        assert m["secrets_checked"] and m["leaks"] == {}, f"build secret ends up in the image: {m['leaks']}"
    return m


@pytest.mark.parametrize("app", APPS, ids=_id)
def test_dockerfix_output_is_production_ready(results, app, tmp_path, e2e_stack, tmp_path_factory):
    ctx, _secrets = prepare_context(app, tmp_path, e2e_stack)
    report = run_dockerfix(ctx, tmp_path, app.dockerfile, env=user_env(e2e_stack, tmp_path))
    text = (ctx / app.dockerfile).read_text()
    print(f"--- dockerfix output for {app.name}\n{text}\n--- skips\n"
          + "\n".join(f"{s['code']} line {s['line']}: {s['reason']}" for s in report.get("skips", [])))
    assert "@sha256:" in text, "the base image was not pinned against the loopback registry"
    if app.fixed_has:
        assert app.fixed_has in text, f"the fixed Dockerfile lacks {app.fixed_has!r}"
    if app.dockerfile != "Dockerfile":
        # the context is the app folder: a .dockerignore there (or <Dockerfile>.dockerignore next to
        # the Dockerfile) is the one the build reads
        seen = [p for p in (ctx / ".dockerignore", ctx / f"{app.dockerfile}.dockerignore") if p.exists()]
        assert seen, f"no .dockerignore that `docker build -f {app.dockerfile} .` would read"
        assert "--omit=dev" in text or "--production" in text, "the install is not a production install"
    if app.runtime_user != "non-root":
        reasons = [s["reason"] for s in report.get("skips", []) if s["code"] == "DFX006"]
        assert any(all(word.lower() in r.lower() for word in app.refusal) for r in reasons), \
            f"dockerfix did not refuse USER with a reason naming {app.refusal}: DFX006 skips {reasons}"
    # DFX007 adds dumb-init only where it merges into an existing package install (or the file pins
    # OS packages); otherwise it reports `docker run --init` instead of raising a hadolint warning,
    # and verify runs the fixed image that way.
    init_reported = any(f.get("code") == "DFX007" and "--init" in f.get("message", "")
                        for f in report.get("fixes", []) if not f.get("applied"))
    v = verify_app(app, "app", e2e_stack, tmp_path_factory, results)
    written = sorted({f["code"] for f in report.get("fixes", []) if f.get("applied")})
    assert v.file["fixes"] == written, f"verify built other fixes than --write wrote: {v.file['fixes']} != {written}"
    assert_fixed_ready(v, v.fixed, app, runtime_init=init_reported)
    if app.original_fails:  # nothing to compare with: the only error is the original's build
        assert [r.split(":")[0] for r in v.file["reasons"]] == ["the original image does not build"], v
    else:
        assert v.file["status"] == "ok" and v.code == 0, f"verify: {v.file['status']}: {v.file['reasons']}\n{v}"
