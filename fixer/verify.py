"""``dockerfix verify [PATH...]``: prove a fix by building and running both images.

For each Dockerfile it computes the fixed text exactly as ``dockerfix --check`` would (the same
:class:`~.session.Session`, the same options: ``--unsafe-fixes``, ``--select``, ``--ignore``,
``--offline``, ``--config``, ``--context``), writes nothing into the repository, and with the
container engine the user has (:mod:`.verify_engine`: Docker with BuildKit, else Podman):

1. builds the original (``-f <the Dockerfile>``) and the fixed version (``-f`` a temporary
   Dockerfile outside the repository; a ``.dockerignore`` the fix creates goes beside it as
   ``Dockerfile.dockerignore``), both with the same build context, build-args and secrets;
2. runs each image briefly and measures: builds or not, size, the user of the app process,
   PID 1's command line, NODE_ENV as the process sees it, ``stop -t N`` time and exit code,
   the context's package.json ``devDependencies`` found in the app's ``node_modules``,
   whether a build secret / secret build-arg value is in any layer, the history or the config,
   and with ``--probe PORT[/PATH]`` whether the app answers HTTP;
3. prints a before/after table (text, ``--format json`` or ``--format markdown``) on stdout.

Build secrets: ``--secret id=ID,env=VAR`` / ``--secret id=ID,src=FILE`` and ``--build-arg K=V``
are passed to both builds.  When the user passes none, every secret-named ``ARG`` (BuildKit's
SecretsUsedInArgOrEnv test) and every ``RUN --mount=type=secret`` id gets a throw-away value, so
the scan has a value to look for.

Exit codes: **0** the fixed image is at least as good on every measured point (or nothing to
fix); **1** it regresses on some point (named); **2** an image cannot be built or run, or bad
input / no engine (named); **130** interrupted.  Every container and image is labelled
``dockerfix.verify=<run id>`` and removed at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets as _secrets
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from collections.abc import Callable, Iterator

from .verify_compare import EXIT_ERROR, FileReport, Measurement, compare, overall_exit, render

EXIT_INTERRUPTED = 130


@dataclass
class Options:
    paths: list[str] = field(default_factory=list)
    unsafe_fixes: Optional[bool] = None
    update_pins: Optional[bool] = None
    upgrade_node: Optional[bool] = None
    select: Optional[list[str]] = None
    ignore: list[str] = field(default_factory=list)
    offline: bool = False
    config_path: Optional[Path] = None
    context_dir: Optional[Path] = None
    output_format: str = "text"
    engine: str = "auto"
    secrets: list[str] = field(default_factory=list)      # --secret specs as given
    build_args: list[str] = field(default_factory=list)   # --build-arg K=V or K
    env: list[str] = field(default_factory=list)          # -e K=V for the runs
    probe: Optional[str] = None                           # PORT[/PATH]
    network: Optional[str] = None
    stop_timeout: int = 5
    build_timeout: float = 600.0
    run_timeout: float = 30.0
    settle: float = 2.0
    size_tolerance: float = 0.05
    quiet: bool = False


# ---------------------------------------------------------------------------------------------
# build secrets: what to pass, what to look for

def _instructions(text: str) -> list:
    """The instructions of ``text`` (none when it does not parse: the run reports that file)."""
    from .document import ParseError, parse

    try:
        return list(parse(text).instructions)
    except ParseError:
        return []


def secret_args(text: str) -> list[str]:
    """Names of secret-named ARGs (BuildKit's SecretsUsedInArgOrEnv test) declared in ``text``."""
    from .secrets import is_secret_name

    names: list[str] = []
    for ins in _instructions(text):
        if ins.keyword == "ARG":
            names += [a.name for a in ins.assignments if is_secret_name(a.name) and a.name not in names]
    return names


def secret_mounts(text: str, npmrc_only: bool = False) -> list[str]:
    """Ids of the ``RUN --mount=type=secret`` mounts in ``text`` (id, else the target's basename);
    with ``npmrc_only`` those that are an .npmrc (by id or target)."""
    ids: list[str] = []
    for ins in _instructions(text):
        for m in ins.mounts:
            if m.type != "secret":
                continue
            target = m.get("target", "dst", "destination") or ""
            sid = m.get("id") or os.path.basename(target)
            if npmrc_only and "npmrc" not in sid.lower() and not target.endswith(".npmrc"):
                continue
            if sid and sid not in ids:
                ids.append(sid)
    return ids


def _pair(part: str, bare_key: str) -> tuple[str, str]:
    """``"k=v"`` -> (k, v); a bare word -> (bare_key, word), or (word, "") without a bare_key."""
    k, eq, v = part.partition("=")
    if eq:
        return k, v
    return (bare_key, k) if bare_key else (k, "")


def _spec(spec: str) -> dict[str, str]:
    return dict(_pair(p, "id") for p in spec.split(",") if p)


def values_of_file(path: Path) -> list[str]:
    """What of a secret file must not end up in an image: its text, and each ``key=value``'s value
    (an .npmrc's token) of 8 characters or more."""
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return []
    out = [text] if text else []
    for line in text.splitlines():
        _k, eq, v = line.partition("=")
        v = v.strip().strip("\"'")
        # a registry URL is not a secret (npm writes it into node_modules/.package-lock.json)
        if eq and len(v) >= 8 and not v.startswith("${") and not re.match(r"[a-z][a-z0-9+.-]*://[^@]*$", v):
            out.append(v)
    return out


@dataclass
class BuildInputs:
    build_args: dict[str, str]
    secrets: list[str]                  # --secret specs for both builds
    secret_env: dict[str, str]          # environment of the build CLI (env= secrets)
    needles: dict[str, str]             # name shown -> value looked for in the images
    generated: list[str]                # names that got a throw-away value


def build_inputs(opts: Options, original: str, fixed: str, environ: dict[str, str]) -> BuildInputs:
    """The build-args and secrets both builds get, and the values the scan looks for."""
    from .secrets import is_secret_name

    args: dict[str, str] = {}
    needles: dict[str, str] = {}
    for a in opts.build_args:
        k, eq, v = a.partition("=")
        v = v if eq else environ.get(k, "")
        args[k] = v
        if is_secret_name(k) and v:
            needles[f"build-arg {k}"] = v
    specs: list[str] = []
    secret_env: dict[str, str] = {}
    given_ids = set()
    for s in opts.secrets:
        d = _spec(s)
        sid = d.get("id", "")
        given_ids.add(sid)
        if "src" in d or "source" in d:
            src = Path(d.get("src") or d.get("source", "")).expanduser().resolve()
            d.pop("source", None)
            d["src"] = str(src)
            for i, v in enumerate(values_of_file(src)):
                needles[f"secret {sid}" + (f" (#{i})" if i else "")] = v
        else:
            var = d.get("env", sid)
            v = environ.get(var, "")
            if v:
                needles[f"secret {sid}"] = v
        specs.append(",".join(f"{k}={v}" for k, v in d.items()))
    generated = []
    for name in secret_args(original) + secret_args(fixed):
        if name not in args:
            args[name] = f"dfx-verify-{_secrets.token_hex(10)}"
            needles[f"build-arg {name}"] = args[name]
            generated.append(name)
    npmrc_ids = set(secret_mounts(original, True) + secret_mounts(fixed, True))
    for n, sid in enumerate(secret_mounts(original) + secret_mounts(fixed)):
        if sid in given_ids:
            continue
        given_ids.add(sid)
        # DFX009 turns ARG NPM_TOKEN into the secret npm_token: same value for both builds
        value = next((v for k, v in args.items() if k.lower() == sid.lower()), None)
        if value is None:
            token = next((v for k, v in args.items() if "TOKEN" in k.upper() and v), None) if sid in npmrc_ids else None
            if token is None:
                token = f"dfx-verify-{_secrets.token_hex(10)}"
                needles[f"secret {sid}"] = token
                generated.append(f"secret {sid}")
            # an .npmrc secret gets what DFX009 says to pass: the .npmrc the original wrote, with
            # the token of its build-arg (a bare word would be logged by npm as an invalid setting)
            value = (f"//registry.npmjs.org/:_authToken={token}\n" if sid in npmrc_ids else token)
        var = f"DOCKERFIX_VERIFY_SECRET_{n}"
        secret_env[var] = value
        specs.append(f"id={sid},env={var}")
    return BuildInputs(args, specs, secret_env, needles, generated)


def parse_probe(text: Optional[str]) -> tuple[Optional[int], str]:
    """``"3000/health"`` -> (3000, "/health"); ValueError when it is not PORT[/PATH]."""
    if not text:
        return None, "/"
    port, slash, path = text.partition("/")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--probe {text}: expected PORT[/PATH], e.g. 3000/health")
    return int(port), "/" + path if slash else "/"


# ---------------------------------------------------------------------------------------------
# one image, one file

def measure_image(engine, dockerfile: Path, context: Path, tag: str, name: str, inputs: BuildInputs,
                  opts: Options, note: Callable[[str], None], init: bool = False) -> Measurement:
    m = Measurement(dockerfile=str(dockerfile))
    network = engine.network(opts.network)
    note(f"building {tag} from {dockerfile}")
    engine.build(dockerfile, context, tag, build_args=inputs.build_args, secrets=inputs.secrets,
                 secret_env=inputs.secret_env, network=network, timeout=opts.build_timeout, m=m)
    if not m.built:
        return m
    port, path = parse_probe(opts.probe)
    env = dict(e.partition("=")[::2] for e in opts.env)
    note(f"running {tag}")
    engine.run_and_measure(tag, name, m, env=env, network=network, port=port, path=path, init=init,
                           run_timeout=opts.run_timeout, settle=opts.settle, stop_timeout=opts.stop_timeout,
                           context=context, needles=inputs.needles, scan_timeout=opts.build_timeout, note=note)
    return m


def verify_file(engine, index: int, display: str, dockerfile: Path, context: Path, before: str, after: str,
                extra: dict, fixes: list[str], opts: Options, workdir: Path,
                note: Callable[[str], None], runtime_init: bool = False) -> FileReport:
    """Build and run the original and the fixed image of one Dockerfile and compare them.
    ``runtime_init``: the run reported (DFX007) that the fixed image should run under the engine's
    init (``docker run --init``) rather than adding one to the image; it is run that way."""
    fixed_dir = workdir / f"file{index}"
    fixed_dir.mkdir()
    fixed_df = fixed_dir / "Dockerfile"
    fixed_df.write_text(after, encoding="utf-8")
    for rel, (_old, new) in extra.items():
        if Path(rel).name == ".dockerignore" and (context / rel).resolve() == (context / ".dockerignore").resolve():
            # BuildKit reads <Dockerfile>.dockerignore before the context's .dockerignore
            (fixed_dir / "Dockerfile.dockerignore").write_text(new, encoding="utf-8")
    inputs = build_inputs(opts, before, after, dict(os.environ))
    if inputs.generated:
        note(f"{display}: throw-away values for {', '.join(inputs.generated)}")
    run = engine.run_id
    o = measure_image(engine, dockerfile, context, f"dockerfix-verify-{run}:{index}-original",
                      f"dockerfix-verify-{run}-{index}-original", inputs, opts, note)
    f = measure_image(engine, fixed_df, context, f"dockerfix-verify-{run}:{index}-fixed",
                      f"dockerfix-verify-{run}-{index}-fixed", inputs, opts, note, init=runtime_init)
    f.dockerfile = f"{display} (fixed)"
    o.dockerfile = display
    rows, status, reasons = compare(o, f, size_tolerance=opts.size_tolerance)
    return FileReport(display, o, f, rows, status, reasons, fixes)


def verify_outcome(engine, index: int, session, target, r, opts: Options, workdir: Path,
                   note: Callable[[str], None], display: Optional[str] = None) -> FileReport:
    """Verify one file's result ``r`` of a :class:`~.session.Session` run (``r.before`` ->
    ``r.after`` and its extra files) in the build context the session finds for ``target``."""
    assert target.path is not None
    found, _evidence, _repo = session.context_for(target, target.path, target.path.parent, r.before)
    context = Path(found or target.path.parent).resolve()
    fixes = sorted({fx.code for fx in r.applied})
    return verify_file(engine, index, display or r.path, target.path.resolve(), context, r.before, r.after,
                       dict(r.extra_files), fixes, opts, workdir, note,
                       runtime_init=any(p.code == "DFX007" and "--init" in p.message for p in r.pending))


@contextlib.contextmanager
def engine_run(opts: Options, note: Callable[[str], None] = lambda s: None) -> Iterator[tuple[object, Path]]:
    """(engine, work folder) for one verify run: the engine ``opts.engine`` names, with a fresh run
    id; on the way out (also on Ctrl-C or SIGTERM, raised as KeyboardInterrupt) every container
    and image labelled with that run id is removed.  Raises
    :class:`~.verify_engine.EngineError` when there is no usable engine."""
    from .verify_engine import find_engine

    engine = find_engine(opts.engine)
    engine.run_id = _secrets.token_hex(4)
    note(f"engine: {engine}; run id {engine.run_id} (label dockerfix.verify={engine.run_id})")
    workdir = Path(tempfile.mkdtemp(prefix="dockerfix-verify-"))
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread: Ctrl-C still works through KeyboardInterrupt
        previous = None
    try:
        yield engine, workdir
    finally:
        old_int = signal.getsignal(signal.SIGINT)
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the clean-up
        except ValueError:
            old_int = None
        try:
            note(f"removing the containers and images of run {engine.run_id}")
            for problem in engine.cleanup():
                note(f"warning: {problem}")
            shutil.rmtree(workdir, ignore_errors=True)
        finally:
            if old_int is not None:
                signal.signal(signal.SIGINT, old_int)
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def run_verify(opts: Options, note: Callable[[str], None] = lambda s: None) -> tuple[list[FileReport], str]:
    """Verify every Dockerfile of ``opts.paths``: (reports, engine description).  Raises
    :class:`~.verify_engine.EngineError` / :class:`~.session.UsageError` /
    :class:`~.config.ConfigError` for the run as a whole, KeyboardInterrupt when interrupted
    (after removing what it created)."""
    from .session import Mode, Session, UsageError, discover

    if "-" in opts.paths:
        raise UsageError("verify needs files on disk (a build context), not standard input")
    session = Session(mode=Mode.check, select=opts.select, ignore=opts.ignore, unsafe_fixes=opts.unsafe_fixes,
                      offline=opts.offline, config_path=opts.config_path, context_dir=opts.context_dir,
                      keep_text=True, stderr=None if opts.quiet else sys.stderr, quiet=opts.quiet,
                      update_pins=opts.update_pins, upgrade_node=opts.upgrade_node)
    parse_probe(opts.probe)  # a bad --probe stops the run before anything is built
    targets, notes = discover(list(opts.paths))
    for n in notes:
        note(f"warning: {n}")
    reports: list[FileReport] = []
    with engine_run(opts, note) as (engine, workdir):
        for i, (target, (outcome, src)) in enumerate(zip(targets, session.run(targets)), 1):
            if isinstance(outcome, Exception):
                raise outcome
            r = outcome.result
            if r.status == "error" or src is None:
                reports.append(FileReport(r.path, Measurement(dockerfile=r.path), None, status="error",
                                          reasons=[r.error or "cannot be read"]))
                continue
            if r.after == r.before and not r.extra_files:
                reports.append(FileReport(r.path, Measurement(dockerfile=r.path), None, status="unchanged"))
                continue
            assert target.path is not None  # stdin was refused above
            reports.append(verify_outcome(engine, i, session, target, r, opts, workdir, note))
        description = str(engine)
    return reports, description


# ---------------------------------------------------------------------------------------------
# command line (``dockerfix verify``; registered in fixer/cli.py like ``dockerfix pr``)

def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="dockerfix verify",
        description="Build the original and the fixed image of each Dockerfile, run both briefly and "
                    "compare them (user, PID 1, NODE_ENV, stop on SIGTERM, size, devDependencies "
                    "and secrets in the image, optional HTTP probe). Writes nothing into the repository; every container "
                    "and image it makes is labelled dockerfix.verify=<run id> and removed at the end.",
        epilog="Exit codes: 0 the fixed image is at least as good on every point (or nothing to fix); "
               "1 it regresses on a point (named); 2 an image cannot be built or run, or an error; "
               "130 interrupted.")
    ap.add_argument("paths", nargs="*", metavar="PATH", help="Dockerfiles or folders (default: .)")
    ap.add_argument("--unsafe-fixes", dest="unsafe_fixes", action="store_const", const=True, default=None,
                    help="also apply unsafe fixes")
    ap.add_argument("--no-unsafe-fixes", dest="unsafe_fixes", action="store_const", const=False)
    ap.add_argument("--update-pins", dest="update_pins", action="store_const", const=True, default=None,
                    help="also refresh digests pinned beside a tag when the tag has moved")
    ap.add_argument("--no-update-pins", dest="update_pins", action="store_const", const=False)
    ap.add_argument("--upgrade-node", dest="upgrade_node", action="store_const", const=True, default=None,
                    help="offer Node.js major upgrades of end-of-life node images (applied with --unsafe-fixes)")
    ap.add_argument("--no-upgrade-node", dest="upgrade_node", action="store_const", const=False)
    ap.add_argument("--select", action="append", metavar="CODE", help="only these codes (repeatable, comma list)")
    ap.add_argument("--ignore", action="append", metavar="CODE", help="never these codes (repeatable, comma list)")
    ap.add_argument("--offline", action="store_true", help="no registry look-ups (digest pinning is skipped)")
    ap.add_argument("--config", type=Path, metavar="PATH", help="config file (.dockerfix.toml or pyproject.toml)")
    ap.add_argument("--context", type=Path, metavar="DIR", help="build context (default: found per Dockerfile)")
    ap.add_argument("--format", choices=["text", "json", "markdown"], default="text", help="output format")
    ap.add_argument("--engine", choices=["auto", "docker", "podman"], default="auto",
                    help="container engine (default: docker with BuildKit, else podman)")
    ap.add_argument("--secret", action="append", default=[], metavar="id=ID,env=VAR|src=FILE",
                    help="build secret passed to both builds (repeatable)")
    ap.add_argument("--build-arg", action="append", default=[], metavar="KEY[=VALUE]",
                    help="build-arg passed to both builds (repeatable)")
    ap.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE",
                    help="environment variable for both containers (repeatable)")
    ap.add_argument("--probe", metavar="PORT[/PATH]", help="also check that the app answers HTTP on PORT")
    ap.add_argument("--network", metavar="NAME",
                    help="network for builds and runs (default: the engine's; host when Docker has no bridge)")
    ap.add_argument("--stop-timeout", type=int, default=5, metavar="S", help="stop -t seconds (default 5)")
    ap.add_argument("--build-timeout", type=float, default=600, metavar="S", help="per build (default 600)")
    ap.add_argument("--run-timeout", type=float, default=30, metavar="S",
                    help="wait at most this long for --probe to answer (default 30)")
    ap.add_argument("--settle", type=float, default=2.0, metavar="S",
                    help="without --probe, seconds a container runs before it is measured (default 2)")
    ap.add_argument("--size-tolerance", type=float, default=5.0, metavar="PCT",
                    help="growth in percent (at least 1 MB) not counted as a regression (default 5)")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")
    return ap


def main(argv: Optional[list[str]] = None) -> int:
    from .config import ConfigError
    from .session import UsageError, split_codes
    from .verify_engine import EngineError

    a = build_parser().parse_args(argv)
    opts = Options(paths=a.paths, unsafe_fixes=a.unsafe_fixes, update_pins=a.update_pins,
                   upgrade_node=a.upgrade_node, select=split_codes(a.select) if a.select else None,
                   ignore=split_codes(a.ignore), offline=a.offline, config_path=a.config, context_dir=a.context,
                   output_format=a.format, engine=a.engine, secrets=a.secret, build_args=a.build_arg, env=a.env,
                   probe=a.probe, network=a.network, stop_timeout=a.stop_timeout, build_timeout=a.build_timeout,
                   run_timeout=a.run_timeout, settle=a.settle, size_tolerance=a.size_tolerance / 100, quiet=a.quiet)

    def note(msg: str) -> None:
        if not opts.quiet:
            sys.stderr.write(f"dockerfix verify: {msg}\n")
            sys.stderr.flush()

    try:
        reports, engine = run_verify(opts, note)
    except KeyboardInterrupt:
        sys.stderr.write("dockerfix verify: interrupted (containers and images removed)\n")
        return EXIT_INTERRUPTED
    except (EngineError, UsageError, ConfigError, ValueError) as e:
        sys.stderr.write(f"dockerfix verify: {e}\n")
        return EXIT_ERROR
    sys.stdout.write(render(reports, opts.output_format, engine))
    sys.stdout.flush()
    return overall_exit(reports)


__all__ = ["Options", "BuildInputs", "build_inputs", "main", "parse_probe", "run_verify", "secret_args",
           "secret_mounts", "values_of_file"]
