"""The ``dockerfix`` command line.

``dockerfix [OPTIONS] [PATH...]`` fixes Dockerfiles (``--check``, the default, ``--diff`` or
``--write``); ``dockerfix rules [CODE]`` prints the rule documentation; ``dockerfix pr [PATH]``
opens or updates the bot's pull request (:mod:`dockerfix.fixer.bot`, its own argparse parser).
A click group cannot take positional PATHs and subcommands at once, so :func:`main` dispatches on
``argv[1] == "rules"`` / ``"pr"`` (a file literally named ``rules`` or ``pr`` is reached as
``./rules`` or after ``--``).

Start-up is kept short.  typer (0.29 builds pydantic adapters for every parameter: ~200 ms) is
imported only for ``--help``, ``--version``, usage errors and ``rules``: ordinary invocations are
parsed by :func:`fast_parse`, whose option table a test keeps identical to the typer command's.
Both parsers end in :func:`invoke`.  rich is only reached through typer's help/errors, and httpx
never at start-up (the registry client will be imported by :func:`make_resolver`).
"""

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config
    from .context import DigestResolver

EXIT_OK, EXIT_FIXABLE, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

HELP = """Fix Dockerfiles of Node.js apps: small, reviewable, production-grade rewrites.

\b
PATH: files or folders (default: the current folder); folders are searched
recursively for Dockerfile, *.Dockerfile, Dockerfile.*, Containerfile and
Containerfile.*, skipping .git, node_modules and what .gitignore ignores.
Files named explicitly are always processed.  "-" reads standard input.

\b
Modes:
  --check (default)  report what would change; write nothing
  --diff             print a unified diff (a/ b/ paths) on stdout; write nothing
  --write            rewrite the files in place, atomically, keeping encoding,
                     byte order mark, line endings and permissions
Safe fixes are applied by default; --unsafe-fixes adds the unsafe ones;
display-only suggestions are reported, never applied.  Node.js major upgrades of
end-of-life node images are their own decision: offered only with --upgrade-node
(applied with --unsafe-fixes), otherwise reported.

\b
Exit codes:
  --check   0 nothing to fix, 1 fixes available (also unsafe ones), 2 error
  --diff    0 no changes, 1 diff shown, 2 error
  --write   0 (1 with --exit-non-zero-on-fix when a file was written), 2 error
  130 when interrupted (no file is ever left half-written).
A bad file (not UTF-8, binary, empty, unparseable, unreadable) is reported as
"dockerfix: PATH: reason" on stderr and left untouched; the other files are
still processed and the exit code is 2.

\b
Suppression comments:
  # dockerfix: ignore=DFX001          on the line(s) directly above an instruction
  # dockerfix: ignore                 all codes for that instruction
  # dockerfix: ignore-file=DFX001     anywhere: the whole file
Existing "# hadolint ignore=DL3025" (and "global ignore") comments and the
BuildKit directive "# check=skip=JSONArgsRecommended" are respected for the
transforms that fix those rules (see "dockerfix rules").

\b
Configuration: [tool.dockerfix] in pyproject.toml or a .dockerfix.toml, found
by looking upward from each Dockerfile's folder (or --config PATH); keys:
select, ignore, unsafe-fixes, upgrade-node, user, platforms, registry-mirrors, cache-ttl.
Command-line flags override it (--ignore adds to the configured list).

\b
Human messages go to stderr; diffs and JSON go to stdout.

\b
Examples:
  dockerfix                               check every Dockerfile below .
  dockerfix --diff app/Dockerfile         show the changes
  dockerfix --write --unsafe-fixes .      apply safe and unsafe fixes
  dockerfix --select DFX001 --format json services/
  cat Dockerfile | dockerfix --write - > Dockerfile.fixed
  dockerfix rules DFX001                  explain a transform
  dockerfix --format sarif . > dockerfix.sarif   code scanning (SARIF 2.1.0)
  dockerfix pr --dry-run                  the pull request the bot would open
                                          (dockerfix pr --help)
"""


class Mode(str, Enum):
    check = "check"
    diff = "diff"
    write = "write"


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"  # SARIF 2.1.0 with fixes (fixer/formats.py)
    github = "github"  # GitHub Actions workflow commands (annotations)
    markdown = "markdown"  # the pull-request body of `dockerfix pr`


class Color(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class RulesFormat(str, Enum):
    text = "text"
    markdown = "markdown"


class UsageError(Exception):
    """A problem with the invocation or configuration as a whole: exit 2 before any file runs."""


def make_resolver(config: "Config", offline: bool, refresh: bool) -> "DigestResolver | None":
    """The registry resolver for digest pinning (``Context.resolver``): None when ``offline``;
    otherwise a per-run memo over the registry client, which reads ``config.registry_mirrors`` and
    ``DOCKERFIX_REGISTRY_MIRROR`` and uses the on-disk digest cache (bypassed with ``refresh``).
    The client (and httpx) is only created when a reference is actually looked up."""
    if offline:
        return None
    from .resolving import RunResolver

    return RunResolver(config, refresh=refresh)


def _split_codes(values: Optional[list[str]]) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(c.strip() for c in v.split(",") if c.strip())
    return out


def _resolve_codes(codes: list[str], where: str, known: dict[str, str]) -> list[str]:
    """Codes (or transform names, any case; ``ALL``) -> canonical codes; UsageError for unknown."""
    names = {name.upper(): code for code, name in known.items()}
    out, bad = [], []
    for c in codes:
        key = c.strip().upper()
        if key == "ALL":
            out.extend(known)
        elif key in known:
            out.append(key)
        elif key in names:
            out.append(names[key])
        else:
            bad.append(c)
    if bad:
        listing = ", ".join(f"{code} ({name})" for code, name in sorted(known.items()))
        raise UsageError(f"unknown rule code{'s' if len(bad) > 1 else ''} {', '.join(bad)} in {where}; "
                         f"known codes: {listing}")
    return out


class _Runner:
    """Everything one invocation needs; keeps per-folder config and per-settings pipelines."""

    def __init__(self, *, mode: Mode, select: list[str], ignore: list[str], unsafe_fixes: Optional[bool],
                 offline: bool, refresh: bool, output_format: OutputFormat, config_path: Optional[Path],
                 context_dir: Optional[Path], stdin_filename: Optional[str], color: Color, quiet: bool,
                 exit_non_zero_on_fix: bool, upgrade_node: Optional[bool] = None):
        from dockerfix.transforms import ALL

        self.mode, self.offline, self.refresh = mode, offline, refresh
        self.output_format, self.config_path, self.context_dir = output_format, config_path, context_dir
        self.stdin_filename, self.color, self.quiet = stdin_filename, color, quiet
        self.exit_non_zero_on_fix = exit_non_zero_on_fix
        self.transform_classes = {t.code: t for t in ALL}
        self.known = {t.code: t.name for t in ALL}
        if select is not None and not select:
            raise UsageError("--select needs at least one code (see `dockerfix rules`)")
        self.cli_select = _resolve_codes(select, "--select", self.known) if select else None
        self.cli_ignore = _resolve_codes(ignore, "--ignore", self.known)
        self.cli_unsafe = unsafe_fixes
        self.cli_upgrade_node = upgrade_node
        self._configs: dict[Path, object] = {}
        self._config_memo: dict = {}
        self._node_table = None
        self._pipelines: dict[tuple, object] = {}
        self._resolvers: dict[object, object] = {}
        self.any_unsafe = False
        self.stderr_color = self._stderr_color()

    def _stderr_color(self) -> bool:
        from .diffing import use_color

        return use_color(self.color.value, sys.stderr)

    # -- configuration ------------------------------------------------------------------------
    def config_for(self, folder: Path):
        from .config import load_config

        if self.config_path is not None:
            key = Path("<explicit>")
            if key not in self._configs:
                self._configs[key] = load_config(self.config_path)  # ConfigError: whole run
            return self._configs[key]
        folder = folder.resolve()
        if folder not in self._configs:
            try:
                self._configs[folder] = load_config(start=folder, memo=self._config_memo)
            except Exception as e:  # ConfigError: reported for the files under that folder
                self._configs[folder] = e
        return self._configs[folder]

    def pipeline_for(self, config):
        from .edits import Applicability
        from .pipeline import Pipeline

        where = f"config {config.source}" if config.source else "config"
        if self.cli_select is not None:
            selected = self.cli_select
        elif config.select is not None:
            selected = _resolve_codes(list(config.select), where, self.known)
        else:
            selected = list(self.known)
        ignored = set(_resolve_codes(list(config.ignore), where, self.known)) | set(self.cli_ignore)
        unsafe = self.cli_unsafe if self.cli_unsafe is not None else config.unsafe_fixes
        self.any_unsafe |= unsafe
        codes = tuple(c for c in self.known if c in selected and c not in ignored)
        key = (codes, unsafe)
        if key not in self._pipelines:
            transforms = [self.transform_classes[c]() for c in codes]
            self._pipelines[key] = Pipeline(transforms, required=Applicability.UNSAFE if unsafe else Applicability.SAFE)
        return self._pipelines[key]

    def resolver_for(self, config):
        """One resolver per configuration for the whole run, so each reference is looked up once."""
        key = config.source or "<default>"
        if key not in self._resolvers:
            self._resolvers[key] = make_resolver(config, self.offline, self.refresh)
        return self._resolvers[key]

    def prefetch(self, targets) -> None:
        """Resolve the unpinned images of all files concurrently before fixing any of them, so
        each distinct reference costs one look-up per run (transforms then read the memo)."""
        if self.offline:
            return
        from .resolving import references_in

        groups: dict[int, tuple[object, dict]] = {}  # config -> its unpinned references
        for t in targets:
            if t.is_stdin:
                continue
            try:
                config = self.config_for(t.path.parent)
            except Exception:  # reported when the file itself is processed
                continue
            if isinstance(config, Exception):
                continue
            try:
                if "DFX002" not in {tr.code for tr in self.pipeline_for(config).transforms}:
                    continue
                text = t.path.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError, UsageError):
                continue
            refs = groups.setdefault(id(config), (config, {}))[1]
            for ref in references_in([text]):  # keep the references, not every file's text
                refs.setdefault(ref.canonical, ref)
        if groups and any("DFX003" in {tr.code for tr in self.pipeline_for(c).transforms} for c, _t in groups.values()):
            self.node_releases()  # settled once here, before any worker process forks
        for config, refs in groups.values():
            resolver = self.resolver_for(config) if refs else None
            if resolver is not None:
                resolver.prefetch(list(refs.values()), config.platforms)

    def node_releases(self):
        """The Node.js release table for this run: bundled when --offline, else refreshed from the
        Release WG schedule (disk-cached); asked for only when a FROM needs an LTS decision."""
        if self._node_table is None:
            from .node_releases import bundled, live_table

            if self.offline:
                self._node_table = bundled()
            else:
                from .cache import default_cache_path

                self._node_table, why = live_table(default_cache_path().parent, refresh=self.refresh)
                if why and not self.quiet:
                    _err(f"dockerfix: note: {why} of {self._node_table.as_of}")
        return self._node_table

    # -- one file --------------------------------------------------------------------------------
    def process(self, target):
        from .context import load_context
        from .files import InputError, read_source, write_atomic
        from .pipeline import FileResult
        from .report import Outcome

        display = target.display
        if target.is_stdin and self.stdin_filename:
            display = self.stdin_filename

        def failed(reason: str, kind: str = "input", before: str = "") -> "Outcome":
            r = FileResult(path=display, before=before, after=before, status="error", error=reason, error_kind=kind)
            return Outcome(r)

        try:
            src = read_source(target)
        except InputError as e:
            return failed(e.reason), None
        if target.is_stdin:
            dockerfile = Path(self.stdin_filename) if self.stdin_filename else None
            folder = (dockerfile.parent if dockerfile else Path.cwd())
        else:
            dockerfile = target.path
            folder = target.path.parent
        config = self.config_for(folder)
        if isinstance(config, Exception):
            return failed(str(config), "config", src.text), src
        try:
            pipeline = self.pipeline_for(config)
        except UsageError as e:
            return failed(str(e), "config", src.text), src
        context_dir = self.context_dir
        if context_dir is None and target.is_stdin:
            context_dir = folder
        ctx = load_context(dockerfile, context_dir, config, offline=self.offline,
                           resolver=self.resolver_for(config))
        ctx.node_releases = self.node_releases
        if self.cli_upgrade_node is not None:
            from dataclasses import replace

            ctx.config = replace(config, upgrade_node=self.cli_upgrade_node)
        result = pipeline.run(src.text, ctx, path=display)
        if self.mode is not Mode.write:
            from .pipeline import lines_to_original

            lines_to_original(result)  # the reader looks at the file as it is on disk
        outcome = Outcome(result)
        if result.status == "changed":
            if self.mode is Mode.diff:
                from .diffing import unified_diff

                outcome.diff = unified_diff(result.before, result.after, display)
                for extra, (old, new) in sorted(result.extra_files.items()):
                    outcome.diff += unified_diff(old, new, self._extra_display(extra, ctx))
            elif self.mode is Mode.write and not target.is_stdin:
                if result.after != result.before:  # only other files may have changed
                    try:
                        write_atomic(target.path, result.after, src.raw, root=target.root, display=display)
                    except InputError as e:
                        result.status, result.error = "error", e.reason
                        outcome.error_kind = "write"
                        return outcome, src
                    outcome.written = True
                for extra, (old, new) in sorted(result.extra_files.items()):
                    p = self._extra_path(extra, ctx)
                    if p.exists() and not p.is_file():
                        reason = f"{extra} is not a regular file; not written"
                    else:
                        try:
                            write_atomic(p, new, old.encode("utf-8") if old is not None else None,
                                         root=target.root, display=str(p))
                            outcome.written = True
                            continue
                        except InputError as e:
                            reason = f"{extra}: {e.reason}"
                    # a file the fix needed was not written: the run must say so and exit 2
                    result.status, result.error = "error", reason + (
                        " (the Dockerfile itself was written)" if result.after != result.before else "")
                    outcome.error_kind = "write"
            elif self.mode is Mode.write and target.is_stdin and result.extra_files:
                outcome.notes.append("other files this fix wants to write are not written in stdin mode: "
                                     + ", ".join(sorted(result.extra_files)))
        return outcome, src

    @staticmethod
    def _extra_path(name: str, ctx) -> Path:
        p = Path(name)
        if p.is_absolute():
            return p
        base = ctx.context_dir or (ctx.dockerfile.parent if ctx.dockerfile else Path.cwd())
        return base / p

    def _extra_display(self, name: str, ctx) -> str:
        p = self._extra_path(name, ctx)
        try:
            return os.path.relpath(p)
        except ValueError:  # pragma: no cover - other drive on Windows
            return str(p)


def _err(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def _run(paths: list[str], mode: Mode, **kw) -> int:
    from .config import ConfigError
    from .files import discover
    from .report import error_line, render_text, to_json

    try:
        runner = _Runner(mode=mode, **kw)
    except (UsageError, ConfigError) as e:
        _err(f"dockerfix: {e}")
        return EXIT_ERROR
    ctx_dir = kw.get("context_dir")
    if ctx_dir is not None and not ctx_dir.is_dir():
        _err(f"dockerfix: --context {ctx_dir}: not a directory")
        return EXIT_ERROR
    if paths.count("-") > 1:
        _err("dockerfix: standard input (-) can be read only once")
        return EXIT_ERROR
    if kw.get("stdin_filename") and not paths:
        paths = ["-"]
    stdin_write = mode is Mode.write and "-" in paths
    if stdin_write and len(paths) > 1:
        _err("dockerfix: --write with - prints the fixed text on stdout; give no other PATH")
        return EXIT_ERROR
    if stdin_write and runner.output_format is not OutputFormat.text:
        _err(f"dockerfix: --format {runner.output_format.value} cannot be combined with --write for - "
             "(stdout carries the fixed text)")
        return EXIT_ERROR
    targets, notes = discover(paths)
    if not runner.quiet:
        for n in notes:
            _err(f"dockerfix: warning: {n}")

    from .diffing import colorize, use_color

    diff_color = use_color(runner.color.value, sys.stdout)
    outcomes = []
    runner.prefetch(targets)
    for target, (outcome, src) in zip(targets, _process_all(runner, targets, mode)):
        if isinstance(outcome, (ConfigError, UsageError)):  # an explicit --config that is broken
            _err(f"dockerfix: {outcome}")
            return EXIT_ERROR
        if runner.output_format is OutputFormat.text and not target.is_stdin:
            # the text summary needs no file contents: do not hold every file in memory
            outcome.result.before = outcome.result.after = ""
        outcomes.append(outcome)
        r = outcome.result
        if r.status == "error":
            _err(error_line(r.path, r.error))
        if mode is Mode.diff and outcome.diff and runner.output_format is OutputFormat.text:
            sys.stdout.write(colorize(outcome.diff) if diff_color else outcome.diff)
            sys.stdout.flush()
        if stdin_write and target.is_stdin and src is not None:
            # the ruff/black convention: the (fixed or unchanged) text goes to stdout, byte-exact
            sys.stdout.flush()
            sys.stdout.buffer.write(r.after.encode("utf-8") if r.status != "error" else src.raw)
            sys.stdout.buffer.flush()

    any_unsafe = runner.any_unsafe or bool(runner.cli_unsafe)
    if runner.output_format is OutputFormat.json:
        import json

        doc = to_json(outcomes, mode=mode.value, unsafe_fixes=any_unsafe)
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    elif runner.output_format is not OutputFormat.text:
        from .formats import render_format

        sys.stdout.write(render_format(runner.output_format.value, outcomes, mode=mode.value, unsafe_fixes=any_unsafe))
        sys.stdout.flush()
    else:
        sys.stderr.write(render_text(outcomes, mode=mode.value, unsafe_fixes=any_unsafe,
                                     color=runner.stderr_color, quiet=runner.quiet))
        sys.stderr.flush()

    if any(o.status == "error" for o in outcomes):
        return EXIT_ERROR
    if mode is Mode.check:
        return EXIT_FIXABLE if any(o.result.fixable for o in outcomes) else EXIT_OK
    if mode is Mode.diff:
        return EXIT_FIXABLE if any(o.diff for o in outcomes) else EXIT_OK
    if runner.exit_non_zero_on_fix and any(o.written or (o.status == "changed" and stdin_write) for o in outcomes):
        return EXIT_FIXABLE
    return EXIT_OK


def _interrupted(e: BaseException) -> bool:
    """Ctrl-C that landed inside a C extension (BuildKit's parser) surfaces as a chain of
    SystemErrors ending in the KeyboardInterrupt."""
    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def _process_one(runner, target):
    """(outcome, source) for one target; a broken explicit config comes back as the outcome."""
    from .config import ConfigError

    try:
        return runner.process(target)
    except (ConfigError, UsageError) as e:
        return e, None
    except KeyboardInterrupt:
        raise
    except Exception as e:  # a dockerfix bug must not cost the other files
        if _interrupted(e):
            raise KeyboardInterrupt from None
        from .pipeline import FileResult
        from .report import Outcome

        return Outcome(FileResult(path=target.display, before="", after="", status="error",
                                  error=f"internal error: {type(e).__name__}: {e}", error_kind="internal")), None


#: Read-only runs over at least this many files use one worker process per core (measured in
#: bench/: below this the pool's start-up costs more than it saves).
PARALLEL_MIN_FILES = 64
_POOL_STATE: tuple = ()


def _pool_work(i: int):
    runner, targets = _POOL_STATE
    outcome, _src = _process_one(runner, targets[i])
    if isinstance(outcome, Exception):
        return outcome, None
    if runner.output_format is OutputFormat.text:
        outcome.result.before = outcome.result.after = ""  # nothing to ship back that is not shown
    return outcome, None


def _process_all(runner, targets, mode):
    """Outcomes in target order.  ``--check``/``--diff`` over many files fan out to a process per
    core (fork: the workers inherit the runner, its configs and prefetched digests); ``--write``
    and stdin stay in this process, so an interrupt can never leave a worker half-way."""
    global _POOL_STATE
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    parallel = (mode is not Mode.write and cores > 1 and len(targets) >= PARALLEL_MIN_FILES
                and not any(t.is_stdin for t in targets) and os.environ.get("DOCKERFIX_JOBS") != "1")
    if parallel:
        import multiprocessing

        try:
            ctx = multiprocessing.get_context("fork")
        except ValueError:  # no fork on this platform
            parallel = False
    if not parallel:
        for t in targets:
            yield _process_one(runner, t)
        return
    _POOL_STATE = (runner, targets)
    chunk = max(1, min(64, len(targets) // (cores * 8)))
    with ctx.Pool(cores) as pool:
        yield from pool.imap(_pool_work, range(len(targets)), chunksize=chunk)
    _POOL_STATE = ()


# ---------------------------------------------------------------------------------------------
# the fix command: one implementation, two argument parsers

def invoke(*, paths: Optional[list[str]] = None, check: bool = False, diff: bool = False, write: bool = False,
           exit_non_zero_on_fix: bool = False, select: Optional[list[str]] = None,
           ignore: Optional[list[str]] = None, unsafe_fixes: Optional[bool] = None, offline: bool = False,
           refresh: bool = False, output_format: OutputFormat = OutputFormat.text,
           config_path: Optional[Path] = None, context_dir: Optional[Path] = None,
           stdin_filename: Optional[str] = None, color: Color = Color.auto, quiet: bool = False,
           upgrade_node: Optional[bool] = None) -> int:
    """Run the fix command with parsed options; returns the exit code."""
    modes = [m for m, on in ((Mode.check, check), (Mode.diff, diff), (Mode.write, write)) if on]
    if len(modes) > 1:
        _err("dockerfix: choose one of --check, --diff, --write")
        return EXIT_ERROR
    if exit_non_zero_on_fix and modes != [Mode.write]:
        _err("dockerfix: --exit-non-zero-on-fix only makes sense with --write")
        return EXIT_ERROR
    try:
        return _run(list(paths or []), modes[0] if modes else Mode.check,
                    select=_split_codes(select) if select else None, ignore=_split_codes(ignore),
                    unsafe_fixes=unsafe_fixes, upgrade_node=upgrade_node,
                    offline=offline, refresh=refresh, output_format=output_format, config_path=config_path,
                    context_dir=context_dir, stdin_filename=stdin_filename, color=color, quiet=quiet,
                    exit_non_zero_on_fix=exit_non_zero_on_fix)
    except KeyboardInterrupt:
        _err("dockerfix: interrupted")
        return EXIT_INTERRUPTED


#: The fast parser's table: option -> (parameter, kind[, value]).  It must accept exactly what the
#: typer command declares (a test compares both); anything else (help, version, a typo, a missing
#: value) falls back to typer, which prints the proper usage message.
FAST_OPTIONS: dict[str, tuple] = {
    "--check": ("check", "flag"),
    "--diff": ("diff", "flag"),
    "--write": ("write", "flag"),
    "--exit-non-zero-on-fix": ("exit_non_zero_on_fix", "flag"),
    "--offline": ("offline", "flag"),
    "--refresh": ("refresh", "flag"),
    "-q": ("quiet", "flag"),
    "--quiet": ("quiet", "flag"),
    "--unsafe-fixes": ("unsafe_fixes", "const", True),
    "--no-unsafe-fixes": ("unsafe_fixes", "const", False),
    "--upgrade-node": ("upgrade_node", "const", True),
    "--no-upgrade-node": ("upgrade_node", "const", False),
    "--select": ("select", "multi"),
    "--ignore": ("ignore", "multi"),
    "--format": ("output_format", "choice", OutputFormat),
    "--color": ("color", "choice", Color),
    "--config": ("config_path", "path"),
    "--context": ("context_dir", "path"),
    "--stdin-filename": ("stdin_filename", "value"),
}


def fast_parse(args: list[str]) -> Optional[dict]:
    """Parse the fix command's arguments without typer (whose start-up costs ~200 ms because it
    builds pydantic adapters); None when typer should handle them (help, errors, --version)."""
    out: dict = {"paths": []}
    i = 0
    only_paths = False
    while i < len(args):
        a = args[i]
        i += 1
        if only_paths or a == "-" or not a.startswith("-"):
            out["paths"].append(a)
            continue
        if a == "--":
            only_paths = True
            continue
        name, eq, inline = a.partition("=")
        spec = FAST_OPTIONS.get(name)
        if spec is None:
            return None
        dest, kind = spec[0], spec[1]
        if kind in ("flag", "const"):
            if eq:
                return None
            out[dest] = True if kind == "flag" else spec[2]
            continue
        if eq:
            value = inline
        else:
            if i >= len(args) or (args[i].startswith("-") and args[i] != "-"):
                return None
            value = args[i]
            i += 1
        if kind == "multi":
            out.setdefault(dest, []).append(value)
        elif kind == "choice":
            try:
                out[dest] = spec[2](value.lower())
            except ValueError:
                return None
        elif kind == "path":
            out[dest] = Path(value)
        else:
            out[dest] = value
    if not out["paths"]:
        del out["paths"]
    return out


def _version(value: bool) -> None:
    if value:
        import typer

        from dockerfix import __version__

        sys.stdout.write(f"dockerfix {__version__}\n")
        raise typer.Exit(0)


def _build_app():
    import typer

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                      context_settings={"help_option_names": ["-h", "--help"]})

    @app.command(help=HELP, no_args_is_help=False)
    def fix(
        paths: Annotated[Optional[list[str]], typer.Argument(metavar="PATH", show_default=False,
                                                              help="Files or folders; - for stdin.")] = None,
        check: Annotated[bool, typer.Option("--check", help="Report what would change (default).")] = False,
        diff: Annotated[bool, typer.Option("--diff", help="Print a unified diff; write nothing.")] = False,
        write: Annotated[bool, typer.Option("--write", help="Rewrite files in place (atomically).")] = False,
        exit_non_zero_on_fix: Annotated[bool, typer.Option(
            "--exit-non-zero-on-fix", help="With --write: exit 1 when a file was written.")] = False,
        select: Annotated[Optional[list[str]], typer.Option(
            "--select", metavar="CODE", help="Only these codes (repeatable or comma list; ALL).")] = None,
        ignore: Annotated[Optional[list[str]], typer.Option(
            "--ignore", metavar="CODE", help="Never these codes (repeatable or comma list).")] = None,
        unsafe_fixes: Annotated[Optional[bool], typer.Option(
            "--unsafe-fixes/--no-unsafe-fixes", help="Also apply unsafe fixes.", show_default=False)] = None,
        upgrade_node: Annotated[Optional[bool], typer.Option(
            "--upgrade-node/--no-upgrade-node", help="Offer Node.js major upgrades of end-of-life node images "
            "(applied with --unsafe-fixes).", show_default=False)] = None,
        offline: Annotated[bool, typer.Option(
            "--offline", help="No registry look-ups (digest pinning is skipped).")] = False,
        refresh: Annotated[bool, typer.Option("--refresh", help="Bypass the digest cache.")] = False,
        output_format: Annotated[OutputFormat, typer.Option(
            "--format", help="Report format (all but text go to stdout).", case_sensitive=False)] = OutputFormat.text,
        config_path: Annotated[Optional[Path], typer.Option(
            "--config", metavar="PATH", help="Config file (.dockerfix.toml or pyproject.toml).")] = None,
        context_dir: Annotated[Optional[Path], typer.Option(
            "--context", metavar="DIR", help="Build context folder (default: each Dockerfile's folder).")] = None,
        stdin_filename: Annotated[Optional[str], typer.Option(
            "--stdin-filename", metavar="NAME", help="Name (and folder, for config and context) of -.")] = None,
        color: Annotated[Color, typer.Option("--color", help="Colour diffs and messages.",
                                             case_sensitive=False)] = Color.auto,
        quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only errors on stderr.")] = False,
        version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                        help="Print the version and exit.")] = None,
    ) -> None:
        raise typer.Exit(invoke(
            paths=paths, check=check, diff=diff, write=write, exit_non_zero_on_fix=exit_non_zero_on_fix,
            select=select, ignore=ignore, unsafe_fixes=unsafe_fixes, upgrade_node=upgrade_node, offline=offline,
            refresh=refresh,
            output_format=output_format, config_path=config_path, context_dir=context_dir,
            stdin_filename=stdin_filename, color=color, quiet=quiet))

    return app


def rules_command(code: Optional[str], output_format: RulesFormat) -> int:
    from . import docs

    if code is None:
        out = docs.markdown() if output_format is RulesFormat.markdown else docs.text()
    else:
        t = docs.find(code)
        if t is None:
            from dockerfix.transforms import ALL

            _err(f"dockerfix: unknown rule code {code}; known codes: "
                 + ", ".join(f"{x.code} ({x.name})" for x in sorted(ALL, key=lambda x: x.code)))
            return EXIT_ERROR
        out = docs.transform_markdown(t, level=1) if output_format is RulesFormat.markdown else docs.transform_text(t)
    sys.stdout.write(out)
    sys.stdout.flush()
    return EXIT_OK


def _build_rules_app():
    import typer

    rules_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                            context_settings={"help_option_names": ["-h", "--help"]})

    @rules_app.command(help="Print the documentation of every transform, or of one CODE (or name).")
    def rules(
        code: Annotated[Optional[str], typer.Argument(metavar="[CODE]", show_default=False)] = None,
        output_format: Annotated[RulesFormat, typer.Option("--format", case_sensitive=False)] = RulesFormat.text,
    ) -> None:
        raise typer.Exit(rules_command(code, output_format))

    return rules_app


_APPS: dict[str, object] = {}


def __getattr__(name: str):
    """``app`` and ``rules_app`` (the typer apps) are built on first use: importing typer costs
    start-up time the common path does not need."""
    builders = {"app": _build_app, "rules_app": _build_rules_app}
    if name in builders:
        if name not in _APPS:
            _APPS[name] = builders[name]()
        return _APPS[name]
    raise AttributeError(name)


def main(argv: Optional[list[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] == "rules":
            __getattr__("rules_app")(args=args[1:], prog_name="dockerfix rules")
        elif args and args[0] == "pr":
            from .bot import main as pr_main

            sys.exit(pr_main(args[1:]))
        else:
            parsed = fast_parse(args)
            if parsed is None:
                __getattr__("app")(args=args, prog_name="dockerfix")
            else:
                sys.exit(invoke(**parsed))
    except KeyboardInterrupt:
        _err("dockerfix: interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:  # `dockerfix --diff | head`
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":  # pragma: no cover
    main()
