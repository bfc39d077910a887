"""Real-engine tests: build sample apps with dockerd (BuildKit), run them, measure what matters.

The base images are the stack's test images (tests/infra/baseimage.py): real Debian root filesystems
with the official Node.js builds for the ``node:<major>[-bookworm|-trixie][-slim]`` tags (synthetic
only for ``*-alpine``). Builds run with ``--network=host`` and install REAL dependencies from the
npm registry (lockfiles committed with each app); the private package ``@acme/secret-lib`` comes from
the stack's verdaccio with a per-stack token.

For each app under ``apps/``:

* the ORIGINAL Dockerfile is built and run, and what is true of it today is asserted (it answers
  HTTP; root, no init as PID 1, no NODE_ENV; the node-as-PID-1 image ignores SIGTERM and is
  SIGKILLed after the timeout; the npm-private-token image leaks its .npmrc token into a layer);
* for the first five apps, a hand-written ``Dockerfile.expected-shape`` (what dockerfix should
  produce) must pass :func:`assert_production_ready`;
* dockerfix's own output (``--write --unsafe-fixes`` online against the loopback registry, the
  docker.io mirror) must build and pass :func:`assert_production_ready`: HTTP answer, uid, PID 1 an
  init, ``docker stop`` time and exit code, NODE_ENV, devDependencies absent, written folders
  writable, no build secret anywhere in the image. Where the app needs root (a port below 1024) or
  steps down itself (gosu), dockerfix must refuse ``USER`` and say why in its report.

Apps whose correct outcome needs a dockerfix fix that is not merged yet are marked
``xfail(strict=True, reason="issue 12 class N: ...")``: they turn into failures (XPASS) as soon as
dockerfix does the right thing, and the mark must then be removed.

No Dockerfile here may use a ``# syntax=`` line, heredocs or ``COPY --link`` (BuildKit would need to
fetch a frontend image). Every run adds a row to the before/after table printed at the end.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.infra.engine import Engine

pytestmark = pytest.mark.engine

APPS_DIR = Path(__file__).parent / "apps"
STOP_TIMEOUT = 4          # seconds given to `docker stop -t`
FAST_STOP = 2.0           # "well within the timeout"
INITS = {"dumb-init", "/usr/bin/dumb-init", "tini", "/sbin/tini", "/usr/bin/tini", "/sbin/docker-init",
         "docker-init", "catatonit", "/run/podman-init"}


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
    # Paths (relative to the WORKDIR) a production image must not contain: devDependencies and
    # source-only files that a build stage should have kept to itself.
    absent: tuple[str, ...] = ()
    # Folders the app writes to (it reports them writable or not in its HTTP answer).
    writes: tuple[str, ...] = ()
    # The app binds this fixed port (own network namespace, probed from inside); None: -e PORT.
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
    # The app sets NODE_ENV itself (`next start` does), so the original's app sees "production".
    sets_node_env: bool = False
    # Fields the app's JSON answer must carry (key, value): proof that a dependency really loaded.
    answer_has: tuple[tuple[str, str], ...] = ()
    # Files the app must serve besides / (path -> text it contains), e.g. from Next.js's public/.
    serves: tuple[tuple[str, str], ...] = ()
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


def xfail12(cls: int, what: str):
    return pytest.mark.xfail(strict=True, reason=f"issue 12 class {cls}: {what}")


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
        absent=("node_modules/typescript", "node_modules/@types/node", "src", "tsconfig.json")),
    # Express with real dependencies, `CMD npm start` (shell form), prettier as a devDependency. On
    # Debian /bin/sh is dash: it stays PID 1 (no exec) and ignores SIGTERM, so `docker stop` kills it.
    App("express-api", original_pid1="/bin/sh", original_killed=True, absent=("node_modules/prettier",)),
    # `prepare: husky` with husky in devDependencies: `npm ci --omit=dev` runs prepare without husky.
    App("husky-prepare", original_pid1="node", original_killed=False, absent=("node_modules/husky",)),
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
        absent=("node_modules/typescript", "node_modules/@types/node", "src")),
    # npm workspaces, built from the root with -f docker/Dockerfile (compose says so).
    App("workspaces-monorepo", original_pid1="npm", original_exit=1, dockerfile="docker/Dockerfile",
        absent=("node_modules/prettier",)),
    # Next.js: real `next build` in a builder stage, `next start` serving public/ in the runner.
    pytest.param(App("nextjs-public", original_pid1="npm", original_exit=1, sets_node_env=True,
                     serves=(("/hello.txt", "served from public/"),), absent=("node_modules/prettier",)),
                 marks=pytest.mark.xfail(strict=True, reason="not an issue 12 class (a missed fix): the runner "
                                         "stage copies the builder's full node_modules, devDependencies included, "
                                         "and dockerfix does not prune it")),
    # pnpm through corepack (packageManager: pnpm@9), `CMD ["pnpm", "start"]`.
    App("pnpm-corepack", original_pid1="node", original_exit=1, absent=("node_modules/prettier",)),
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


@dataclass
class Measurement:
    uid: int
    pid1: list[str]
    stop_seconds: float
    exit_code: int
    node_env_config: str | None   # NODE_ENV in the container's environment (image ENV)
    node_env_app: str | None      # NODE_ENV as the running app sees it (from its HTTP answer)
    app_uid: int                  # uid the app itself runs as (from its HTTP answer)
    http_status: int
    answer: dict
    size_bytes: int
    processes: str
    logs: str


def measure(engine: Engine, image: str, app: App, variant: str, results: list[dict],
            init: bool = False) -> Measurement:
    """Run `image` (with the engine's ``--init`` when asked), probe it over HTTP and /proc, stop it
    with a timeout, record a table row."""
    container = engine.run_detached(image, own_port=app.own_port, init=init)
    try:
        try:
            status, body = container.http_get("/")
        except TimeoutError as exc:
            pytest.fail(f"{image} never answered HTTP: {exc}\n--- logs\n{engine.logs(container.name)}",
                        pytrace=False)
        answer = json.loads(body)
        for key, value in app.answer_has:
            assert answer.get(key) == value, f"{image}: answer {answer} lacks {key}={value!r}"
        for path, text in app.serves:
            extra_status, extra_body = container.http_get(path)
            assert extra_status == 200 and text in extra_body, f"{image}: GET {path} -> {extra_status} {extra_body[:200]}"
        pid1 = engine.pid1_cmdline(container.name)
        uid = engine.user_id(container.name)
        env = engine.env(container.name)
        processes = engine.process_table(container.name)
        seconds, code = engine.stop_timed(container.name, STOP_TIMEOUT)
        logs = engine.logs(container.name)
    finally:
        engine.remove(container.name)
    m = Measurement(uid=uid, pid1=pid1, stop_seconds=seconds, exit_code=code,
                    node_env_config=env.get("NODE_ENV"), node_env_app=answer.get("nodeEnv"),
                    app_uid=answer.get("uid"), http_status=status, answer=answer,
                    size_bytes=engine.image_size(image), processes=processes, logs=logs)
    results.append({"app": app.name, "variant": variant, "user": f"{m.uid}/{m.app_uid}",
                    "pid1": " ".join(m.pid1)[:40], "stop_s": f"{m.stop_seconds:.1f}", "exit": m.exit_code,
                    "node_env": m.node_env_app or "-", "size_mb": f"{m.size_bytes / 1e6:.0f}"})
    return m


def assert_production_ready(engine: Engine, image: str, app: App, variant: str, results: list[dict],
                            secret: str | None = None, runtime_init: bool = False) -> Measurement:
    """What a dockerfix-fixed image of a sample app must do when it runs.  ``runtime_init``: the
    image has no init of its own because dockerfix reported, instead of adding one, that it should
    run under the engine's (``docker run --init``): the container is started that way and PID 1 must
    be the engine's init."""
    m = measure(engine, image, app, variant, results, init=runtime_init)
    context = f"{image}: PID 1 {m.pid1} (uid {m.uid}), app uid {m.app_uid}\n{m.processes}\n--- logs\n{m.logs}"
    assert m.http_status == 200, context
    if app.runtime_user == "non-root":
        assert m.uid != 0 and m.app_uid != 0, f"runs as root\n{context}"
    elif app.runtime_user == "steps-down":
        assert m.app_uid != 0, f"the app runs as root although its entrypoint steps down\n{context}"
    else:  # "root": the app needs it (port 80); refusing USER is the right call
        assert m.app_uid == 0, f"expected the app to keep root (it binds port {app.own_port})\n{context}"
    wanted = ("/sbin/docker-init", "docker-init") if runtime_init else ("dumb-init", "/usr/bin/dumb-init")
    assert m.pid1 and m.pid1[0] in wanted, f"PID 1 is not {wanted[0]}\n{context}"
    assert m.stop_seconds < FAST_STOP, f"docker stop took {m.stop_seconds:.1f}s\n{context}"
    assert m.exit_code != 137, f"was SIGKILLed on stop\n{context}"
    assert m.node_env_config == "production", f"image NODE_ENV={m.node_env_config!r}\n{context}"
    assert m.node_env_app == "production", f"app saw NODE_ENV={m.node_env_app!r}\n{context}"
    for folder in app.writes:
        assert m.answer.get("writable", {}).get(folder) is True, \
            f"{folder} is not writable by the app: {m.answer.get('writable')}\n{context}"
    if app.no_npm:
        commands = [line.split()[2:] for line in m.processes.splitlines() if len(line.split()) > 2]
        npm_lines = [" ".join(c) for c in commands
                     if Path(c[0]).name == "npm" or any(w.endswith("npm-cli.js") for w in c[:2])]
        assert not npm_lines, f"npm still runs in the container: {npm_lines}\n{context}"
    if secret:
        leaks = engine.find_in_image(image, secret)
        assert not leaks, f"build secret ends up in the image: {leaks}"
    if app.absent:
        probe = "; ".join(f'[ -e "{p}" ] && echo "{p}"' for p in app.absent) + "; true"
        present = engine.docker("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", image,
                                "-c", probe).stdout.split()
        assert not present, f"the production image still contains {present}"
    return m


def build_or_fail(engine: Engine, context: Path, tag: str, dockerfile: Path | None = None,
                  secrets: dict[str, Path] | None = None) -> None:
    try:
        engine.build(context, tag, dockerfile=dockerfile, secrets=secrets)
    except Exception as exc:  # DockerError carries the BuildKit log
        pytest.fail(f"build of {dockerfile or context / 'Dockerfile'} failed:\n{exc}", pytrace=False)


def prepare_context(app: App, workdir: Path, stack) -> tuple[Path, dict[str, Path], str | None]:
    """Copy the app to `workdir`; for the private-registry app write its .npmrc (verdaccio + the
    stack's token). Returns (copy, build secrets, the secret value that must never leak)."""
    copy = workdir / app.name
    # The reference file is not part of the app (and dockerfix would discover Dockerfile.* files).
    shutil.copytree(app.dir, copy, ignore=shutil.ignore_patterns("Dockerfile.expected-shape", "node_modules"))
    if not app.private_registry:
        return copy, {}, None
    registry, token = stack.env.get("NPM_PRIVATE_REGISTRY"), stack.env.get("NPM_PRIVATE_TOKEN")
    if not registry or not token:
        pytest.fail("the stack has no private registry (NPM_PRIVATE_REGISTRY/NPM_PRIVATE_TOKEN in env.sh)")
    host = registry.removeprefix("http:")
    (copy / ".npmrc").write_text(f"@acme:registry={registry}\n{host}:_authToken={token}\n")
    return copy, {"npmrc": copy / ".npmrc"}, token


@pytest.mark.parametrize("app", [_plain(a) for a in APPS], ids=_id)
def test_original_image_today(engine, results, app, tmp_path, e2e_stack):
    """The app as people ship it: it works, but as root, without an init and without NODE_ENV."""
    ctx, secrets, secret = prepare_context(app, tmp_path, e2e_stack)
    tag = f"dfx-e2e/{app.name}:original"
    if app.original_fails:
        with pytest.raises(Exception) as failed:
            engine.build(ctx, tag, dockerfile=ctx / app.dockerfile, secrets=secrets)
        assert app.original_fails in str(failed.value), str(failed.value)
        return
    build_or_fail(engine, ctx, tag, dockerfile=ctx / app.dockerfile, secrets=secrets)
    m = measure(engine, tag, app, "original", results)
    context = f"PID 1 {m.pid1}\n{m.processes}\n--- logs\n{m.logs}"

    assert m.http_status == 200
    if app.original_root:
        assert m.uid == 0 and m.app_uid == 0, context
    else:
        assert m.app_uid != 0, context
    assert m.pid1[0] not in INITS, context
    assert m.node_env_config is None, context
    assert m.node_env_app == ("production" if app.sets_node_env else None), context
    if app.original_pid1:
        # npm sets its process title ("npm start"): compare the first word of PID 1's name
        assert m.pid1[0] == app.original_pid1 or Path(m.pid1[0]).name.split()[0] == app.original_pid1, context
    if app.original_killed:
        assert m.stop_seconds >= STOP_TIMEOUT - 0.2, f"stopped in {m.stop_seconds:.1f}s\n{context}"
        assert m.exit_code == 137, context
    elif app.original_exit is not None:
        assert m.stop_seconds < STOP_TIMEOUT, context
        assert m.exit_code == app.original_exit, context
    if secret:
        assert engine.find_in_image(tag, secret), "expected today's image to leak the token"


@pytest.mark.parametrize("app", [_plain(a) for a in APPS if _plain(a).has_expected_shape], ids=_id)
def test_expected_shape_is_production_ready(engine, results, app, tmp_path, e2e_stack):
    """The hand-written target for dockerfix's output passes the production checks."""
    ctx, secrets, secret = prepare_context(app, tmp_path, e2e_stack)
    shutil.copy(app.dir / "Dockerfile.expected-shape", ctx / "Dockerfile.expected-shape")
    tag = f"dfx-e2e/{app.name}:expected-shape"
    build_or_fail(engine, ctx, tag, dockerfile=ctx / "Dockerfile.expected-shape", secrets=secrets)
    assert_production_ready(engine, tag, app, "expected-shape", results, secret=secret)


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


# ---------------------------------------------------------------------------------------------
# dockerfix's own output

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


def run_dockerfix(ctx: Path, workdir: Path, dockerfile: str = "Dockerfile", registry: str | None = None) -> dict:
    """`dockerfix --write --unsafe-fixes --format json` on the copied app `ctx`; returns the report of
    the Dockerfile (its skips say what dockerfix refused and why)."""
    reason = dockerfix_available()
    if reason:
        pytest.fail(f"dockerfix cannot be run from this environment: {reason}")
    # Online against the loopback registry (the docker.io mirror): digests are really resolved,
    # and the engine then pulls the pinned bases through the same mirror.
    env = {**os.environ, "XDG_CACHE_HOME": str(workdir / "dfx-cache")}
    offline = ["--offline"]
    if registry:
        env["DOCKERFIX_REGISTRY_MIRROR"] = f"docker.io=http://{registry}"
        offline = []
    target = ctx / dockerfile
    proc = subprocess.run([sys.executable, "-m", "dockerfix", "--write", "--unsafe-fixes", "--format", "json",
                           *offline, str(target)],
                          capture_output=True, text=True, cwd=workdir, env=env, timeout=120)
    if proc.returncode not in (0, 1):
        pytest.fail(f"dockerfix exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    report = json.loads(proc.stdout)
    files = report["files"]
    assert files, f"dockerfix reported no file for {target}"
    return files[0]


@pytest.mark.parametrize("app", APPS, ids=_id)
def test_dockerfix_output_is_production_ready(engine, results, app, tmp_path, e2e_stack):
    ctx, secrets, secret = prepare_context(app, tmp_path, e2e_stack)
    report = run_dockerfix(ctx, tmp_path, app.dockerfile, registry=e2e_stack.registry)
    text = (ctx / app.dockerfile).read_text()
    print(f"--- dockerfix output for {app.name}\n{text}\n--- skips\n"
          + "\n".join(f"{s['code']} line {s['line']}: {s['reason']}" for s in report.get("skips", [])))
    tag = f"dfx-e2e/{app.name}:dockerfix"
    if app.fixed_has:
        assert app.fixed_has in text, f"the fixed Dockerfile lacks {app.fixed_has!r}"
    build_or_fail(engine, ctx, tag, dockerfile=ctx / app.dockerfile, secrets=secrets)
    if e2e_stack.registry:
        assert "@sha256:" in text, "the base image was not pinned against the loopback registry"
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
    # OS packages); otherwise it reports `docker run --init` instead of raising a hadolint warning.
    init_reported = any(f.get("code") == "DFX007" and "--init" in f.get("message", "")
                        for f in report.get("fixes", []) if not f.get("applied"))
    assert_production_ready(engine, tag, app, "dockerfix", results, secret=secret, runtime_init=init_reported)
