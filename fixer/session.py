"""The run API: files in, results out.

One :class:`Session` is one run over many files, whatever drives it (the ``dockerfix`` command
line, the ``dockerfix pr`` bot, the benchmarks, a test)::

    from dockerfix.fixer.session import Mode, Session, discover

    session = Session(mode=Mode.diff, offline=True)
    targets, notes = discover(["services/"])
    for outcome, _source in session.run(targets):
        print(outcome.result.path, outcome.status, outcome.diff)

or, in one call, ``run(["services/"], mode=Mode.diff, offline=True)`` -> a list of outcomes.

For each file it finds the configuration (``[tool.dockerfix]`` / ``.dockerfix.toml`` upward from
the file's folder, or ``config_path``), builds the file's context (:func:`~.context.load_context`),
runs the pipeline and collects an :class:`~.report.Outcome`; in ``Mode.write`` it replaces the
file atomically (:func:`~.files.write_atomic`).  It never prints: notes for the user go to
``on_note``, and the caller renders outcomes (:mod:`.report`, :mod:`.formats`).

:meth:`Session.run` never raises for one file (a dockerfix bug becomes an ``internal`` error
outcome for that file); a broken explicit ``--config`` is yielded as the :class:`ConfigError`
itself, so the caller can stop the whole run.  Start-up is kept short: the registry client (and
httpx) is imported only for an online look-up, the pipeline and context modules on first use.
"""

from __future__ import annotations

import io
import os
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Optional, TextIO, Union
from collections.abc import Callable, Iterator, Sequence

from .files import Source, Target, discover

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config, ConfigError
    from .node_releases import ReleaseTable
    from .resolving import NetworkSession, RunResolver
    from .report import Outcome


class Mode(str, Enum):
    check = "check"
    diff = "diff"
    write = "write"


class UsageError(Exception):
    """A problem with the invocation or configuration as a whole: exit 2 before any file runs."""


def make_resolver(config: Config, offline: bool, refresh: bool,
                  network: NetworkSession | None = None) -> RunResolver | None:
    """The registry resolver for digest pinning: None when ``offline``; otherwise a per-run memo
    over the registry client, which reads ``config.registry_mirrors`` and
    ``DOCKERFIX_REGISTRY_MIRROR`` and uses the on-disk digest cache (bypassed with ``refresh``).
    ``network``: the run's :class:`~.resolving.NetworkSession` (circuit breaker, deadline,
    warnings), shared by the resolvers of one run.  The network settings are checked here
    (:class:`~.resolving.NetworkConfigError`, a ``ConfigError``); the client (and httpx) is only
    created when a reference is actually looked up."""
    if offline:
        return None
    from .resolving import RunResolver

    return RunResolver(config, refresh=refresh, network=network)



def split_codes(values: Optional[list[str]]) -> list[str]:
    """``["DFX001,DFX002", "DFX003"]`` -> ``["DFX001", "DFX002", "DFX003"]`` (repeatable and
    comma-separated options)."""
    out: list[str] = []
    for v in values or []:
        out.extend(c.strip() for c in v.split(",") if c.strip())
    return out



def resolve_codes(codes: list[str], where: str, known: dict[str, str]) -> list[str]:
    """Codes (or transform names, any case; ``ALL``) -> canonical codes; UsageError for unknown."""
    names = {name.upper(): code for code, name in known.items()}
    out: list[str] = []
    bad: list[str] = []
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
        from .docs import suggest

        named = ", ".join(b + suggest(b, [*known, *known.values()]) for b in bad)
        raise UsageError(f"unknown rule code{'s' if len(bad) > 1 else ''} {named} in {where}; "
                         f"known codes: {listing}")
    return out



class Session:
    """One run over many files: per-folder configuration, per-settings pipelines, one registry
    resolver per configuration (each reference looked up once), the Node.js release table.

    ``mode`` decides what :meth:`process` does with a changed file: ``check`` reports it, ``diff``
    also renders the unified diff, ``write`` replaces the file atomically.  ``keep_text=False``
    drops each result's before/after text once processed (a text summary needs neither; memory
    stays flat over thousands of files).  ``on_note`` receives one-line notes for the user (the
    session itself never prints).  Raises :class:`UsageError` for unknown codes.

    The network side of an online run is one :class:`~.resolving.NetworkSession` (``network``):
    a per-host circuit breaker, a deadline for the run's look-ups, one warning per failed host.
    Its warnings, its hint and (on a terminal) its progress line go to ``stderr`` when given (the
    command line passes ``sys.stderr``), else nowhere (they stay in ``network.warnings``);
    ``quiet`` drops the hint and the progress line, not the warnings.

    ``update_pins`` (``--update-pins``) and ``upgrade_node`` (``--upgrade-node``) override the
    configuration's ``update-pins`` and ``upgrade-node``."""

    def __init__(self, *, mode: Mode = Mode.check, select: Optional[list[str]] = None,
                 ignore: Sequence[str] = (), unsafe_fixes: Optional[bool] = None, offline: bool = False,
                 refresh: bool = False, config_path: Optional[Path] = None, context_dir: Optional[Path] = None,
                 stdin_filename: Optional[str] = None, keep_text: bool = True, update_pins: Optional[bool] = None,
                 on_note: Optional[Callable[[str], None]] = None, stderr: Optional[TextIO] = None,
                 quiet: bool = False, upgrade_node: Optional[bool] = None):
        from dockerfix.transforms import ALL

        self.mode, self.offline, self.refresh = Mode(mode), offline, refresh
        self.config_path, self.context_dir, self.stdin_filename = config_path, context_dir, stdin_filename
        self.keep_text, self.on_note = keep_text, on_note
        self.stderr, self.quiet = stderr, quiet
        self.transform_classes = {t.code: t for t in ALL}
        self.known = {t.code: t.name for t in ALL}
        if select is not None and not select:
            raise UsageError("--select needs at least one code (see `dockerfix rules`)")
        self.cli_select = resolve_codes(select, "--select", self.known) if select else None
        self.cli_ignore = resolve_codes(list(ignore), "--ignore", self.known)
        self.cli_unsafe = unsafe_fixes
        self.cli_update_pins = update_pins
        self.cli_upgrade_node = upgrade_node  # None: the configuration's ``upgrade-node`` decides
        self._configs: dict[Path, object] = {}
        self._config_memo: dict = {}
        self._node_table: ReleaseTable | None = None
        self._node_images: dict[object, object] = {}  # registry configuration -> the image facts
        self._pipelines: dict[tuple, object] = {}
        self._resolvers: dict[object, object] = {}
        self.network: NetworkSession | None = None  # made with the first online resolver
        self._snapshots: dict[Path, object] = {}  # context folder -> its files, taken once a run
        self._sites: dict[Path, list] = {}  # repository root -> the builds its files describe
        self.any_unsafe = bool(unsafe_fixes)

    # -- configuration ------------------------------------------------------------------------
    def config_for(self, folder: Path):
        from .config import load_config

        if self.config_path is not None:
            key = Path("<explicit>")
            if key not in self._configs:
                self._configs[key] = self._with_cli(load_config(self.config_path))  # ConfigError: whole run
            return self._configs[key]
        folder = folder.resolve()
        if folder not in self._configs:
            try:
                self._configs[folder] = self._with_cli(load_config(start=folder, memo=self._config_memo))
            except Exception as e:  # ConfigError: reported for the files under that folder
                self._configs[folder] = e
        return self._configs[folder]

    def _with_cli(self, config):
        """A folder's configuration with the command line's settings that transforms read laid over it
        (``--update-pins``, ``--upgrade-node``; None: the configuration decides)."""
        changes = {}
        if self.cli_update_pins is not None and config.update_pins != self.cli_update_pins:
            changes["update_pins"] = self.cli_update_pins
        if self.cli_upgrade_node is not None and config.upgrade_node != self.cli_upgrade_node:
            changes["upgrade_node"] = self.cli_upgrade_node
        if not changes:
            return config
        from dataclasses import replace

        return replace(config, **changes)

    def pipeline_for(self, config):
        from .edits import Applicability
        from .pipeline import Pipeline

        where = f"config {config.source}" if config.source else "config"
        if self.cli_select is not None:
            selected = self.cli_select
        elif config.select is not None:
            selected = resolve_codes(list(config.select), where, self.known)
        else:
            selected = list(self.known)
        ignored = set(resolve_codes(list(config.ignore), where, self.known)) | set(self.cli_ignore)
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
            if self.network is None and not self.offline:
                from .resolving import NetworkSession

                stream = self.stderr if self.stderr is not None else io.StringIO()  # the session never prints
                self.network = NetworkSession(stream=stream, quiet=self.quiet)
            self._resolvers[key] = make_resolver(config, self.offline, self.refresh, self.network)
        return self._resolvers[key]

    def prefetch(self, targets) -> None:
        """Resolve the unpinned images of all files concurrently before fixing any of them, so
        each distinct reference costs one look-up per run (transforms then read the memo)."""
        if self.offline:
            return
        from .config import ConfigError
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
                codes = {tr.code for tr in self.pipeline_for(config).transforms}
                if codes & _WRITES_NODE_TAGS:
                    self.node_images(config)  # settled once here, before any worker process forks
                if "DFX002" not in codes:
                    continue
                text = t.path.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError, UsageError, ConfigError):
                continue  # a broken network setting is reported (exit 2) when the file is processed
            refs = groups.setdefault(id(config), (config, {}))[1]
            for ref in references_in([text], pinned=config.update_pins):  # the references, not the texts
                refs.setdefault(ref.canonical, ref)
        from .resolving import prefetch_all

        try:  # network settings are checked here, before any network use
            jobs = [(self.resolver_for(c), list(refs.values())) for c, refs in groups.values() if refs]
        except (ConfigError, UsageError):
            return  # reported (exit 2) when the first file asks for its resolver
        if groups and any("DFX003" in {tr.code for tr in self.pipeline_for(c).transforms} for c, _t in groups.values()):
            self.node_releases()  # settled once here, before any worker process forks
        prefetch_all(jobs)  # all configurations at once: one look-up per distinct reference, concurrently

    def node_images(self, config):
        """The official node image's facts for this run (``Context.node_images``): the table
        bundled with dockerfix; online, with the registry's tag list of ``library/node`` laid over
        it (one paginated look-up per registry configuration, before any pipeline runs, kept in
        the digest cache for its TTL), so a tag the registry does not list is never written.
        When the list cannot be had, a note says so and the bundled table alone decides."""
        from .node_images import images

        if self.offline:
            return images()
        key = config.source or "<default>"
        if key not in self._node_images:
            from .config import ConfigError

            facts = images()
            try:
                resolver = self.resolver_for(config)
            except (ConfigError, UsageError):  # a broken network setting: exit 2 when the file asks for it
                return facts
            try:
                tags = resolver.tags("library/node")
            except Exception as e:  # ResolveError, or a broken mirror setting: the table decides
                if self.on_note is not None:
                    self.on_note(f"the tag list of library/node could not be read ({e}); which node tags "
                                 f"exist is decided by dockerfix's table of {facts.as_of}")
            else:
                facts = facts.with_registry_tags(tags)
            self._node_images[key] = facts
        return self._node_images[key]

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
                if why and self.on_note is not None:
                    self.on_note(f"{why} of {self._node_table.as_of}")
        return self._node_table

    # -- one file --------------------------------------------------------------------------------
    def process(self, target: Target) -> tuple[Outcome, Source | None]:
        """(outcome, source) of one target; may raise (see :meth:`process_one`)."""
        from .context import load_context
        from .files import InputError, read_source, write_atomic
        from .pipeline import FileResult
        from .report import Outcome

        display = target.display
        if target.is_stdin and self.stdin_filename:
            display = self.stdin_filename

        def failed(reason: str, kind: str = "input", before: str = "") -> Outcome:
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
            assert target.path is not None  # not stdin
            dockerfile = target.path
            folder = target.path.parent
        config = self.config_for(folder)
        if isinstance(config, Exception):
            return failed(str(config), "config", src.text), src
        try:
            pipeline = self.pipeline_for(config)
        except UsageError as e:
            return failed(str(e), "config", src.text), src
        context_dir, evidence, repo = self.context_for(target, dockerfile, folder, src.text)
        resolver = self.resolver_for(config)
        codes = {t.code for t in pipeline.transforms}
        releases = self.node_releases() if "DFX003" in codes else None
        node_images = self.node_images(config) if codes & _WRITES_NODE_TAGS else None
        snap = self._snapshots.get(context_dir.resolve()) if context_dir is not None else None
        ctx = load_context(dockerfile, context_dir, config, offline=self.offline,
                           digests=resolver.lookup if resolver is not None else None, releases=releases,
                           evidence=evidence, files=snap, node_images=node_images,  # type: ignore[arg-type]
                           codes=frozenset(codes))
        if context_dir is not None:
            self._snapshots[context_dir.resolve()] = ctx.files
        result = pipeline.run(src.text, ctx, path=display)
        wanted = {r.canonical: r for s in result.skips for r in s.wants}
        if wanted and resolver is not None:
            # a fix wrote a reference nobody looked up (e.g. a new tag): look it up, then run again
            resolver.prefetch(list(wanted.values()), config.platforms)
            result = pipeline.run(src.text, ctx, path=display)
        if not target.is_stdin:  # build commands that still pass a build-arg DFX009 made a secret
            from .callsites import attach

            attach(result, dockerfile, ctx.context_dir, limit=repo or target.root)
        outcome = Outcome(result)
        if result.status == "changed":
            if self.mode is Mode.diff:
                from .diffing import unified_diff

                outcome.diff = unified_diff(result.before, result.after, display)
                for extra, (old, new) in sorted(result.extra_files.items()):
                    outcome.diff += unified_diff(old, new, self._extra_display(extra, ctx))
            elif self.mode is Mode.write and not target.is_stdin:
                if result.after != result.before:  # only other files may have changed
                    assert target.path is not None  # not stdin
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
                                         root=repo or target.root, display=str(p))
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

    def context_for(self, target: Target, dockerfile: Optional[Path], folder: Path,
                    text: str) -> tuple[Optional[Path], str, Optional[Path]]:
        """(build context folder, the evidence for it, repository root) of one Dockerfile:
        ``--context`` when given, else found from the repository (see fixer/buildcontext.py)."""
        if self.context_dir is not None:
            return self.context_dir, "--context", None
        if target.is_stdin or dockerfile is None:
            return folder, "the folder of --stdin-filename", None
        from .buildcontext import choose_context, copy_sources, repository_root
        from .document import ParseError, parse

        repo = repository_root(dockerfile.parent, limit=target.root)
        try:
            needed = copy_sources(parse(text))
        except ParseError:
            needed = []  # the pipeline reports the parse error
        if repo not in self._sites:
            from .buildcontext import build_sites

            self._sites[repo] = list(build_sites(repo))
        choice = choose_context(dockerfile, repo, needed, self._sites[repo])
        return choice.directory, choice.evidence, repo

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



    # -- many files -------------------------------------------------------------------------------
    def process_one(self, target: Target) -> tuple[Union[Outcome, ConfigError, UsageError], Source | None]:
        """(outcome, source) for one target; never raises for the file itself (a dockerfix bug
        becomes an ``internal`` error outcome).  A broken explicit configuration comes back as
        the exception in place of the outcome: the whole run should stop."""
        from .config import ConfigError

        try:
            return self.process(target)
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

    def run(self, targets: Sequence[Target]) -> Iterator[tuple[Union[Outcome, ConfigError, UsageError], Source | None]]:
        """(outcome, source) per target, in target order, after :meth:`prefetch`.  ``check`` and
        ``diff`` runs over many files fan out to a process per core (fork: the workers inherit the
        session, its configs and prefetched digests; sources are not shipped back); ``write`` and
        stdin stay in this process, so an interrupt can never leave a worker half-way."""
        global _POOL_STATE
        targets = list(targets)
        self.prefetch(targets)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        parallel = (self.mode is not Mode.write and cores > 1 and len(targets) >= PARALLEL_MIN_FILES
                    and not any(t.is_stdin for t in targets) and os.environ.get("DOCKERFIX_JOBS") != "1")
        if parallel:
            import multiprocessing

            try:
                ctx = multiprocessing.get_context("fork")
            except ValueError:  # no fork on this platform
                parallel = False
        if not parallel:
            for t in targets:
                yield self._finish(t, *self.process_one(t))
            return
        _POOL_STATE = (self, targets)
        chunk = max(1, min(64, len(targets) // (cores * 8)))
        try:
            with ctx.Pool(cores) as pool:
                yield from pool.imap(_pool_work, range(len(targets)), chunksize=chunk)
        finally:
            _POOL_STATE = ()

    def _finish(self, target: Target, outcome, src):
        if not self.keep_text and not target.is_stdin and not isinstance(outcome, Exception):
            outcome.result.before = outcome.result.after = ""  # do not hold every file in memory
        return outcome, src


def run(paths: Sequence[str], **options) -> list[Outcome]:
    """Discover ``paths`` (files, folders, ``-``) and run one :class:`Session` (``options`` are its
    keyword arguments) over them; the outcomes in discovery order.  Raises the
    :class:`ConfigError` of a broken explicit configuration."""
    session = Session(**options)
    targets, _notes = discover(list(paths))
    outcomes = []
    for outcome, _src in session.run(targets):
        if isinstance(outcome, Exception):
            raise outcome
        outcomes.append(outcome)
    return outcomes


def _interrupted(e: BaseException) -> bool:
    """Ctrl-C that landed inside a C extension (BuildKit's parser) surfaces as a chain of
    SystemErrors ending in the KeyboardInterrupt."""
    seen: set[int] = set()
    cur: Optional[BaseException] = e
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


#: Transforms that write node image tags: online, the registry's tag list is read for them.
_WRITES_NODE_TAGS = frozenset({"DFX003", "DFX012"})
#: Read-only runs over at least this many files use one worker process per core (measured in
#: bench/: below this the pool's start-up costs more than it saves).
PARALLEL_MIN_FILES = 64
_POOL_STATE: tuple = ()


def _pool_work(i: int):
    session, targets = _POOL_STATE
    outcome, _src = session.process_one(targets[i])
    if isinstance(outcome, Exception):
        return outcome, None
    if not session.keep_text:
        outcome.result.before = outcome.result.after = ""  # nothing to ship back that is not shown
    return outcome, None


__all__ = ["Mode", "Session", "UsageError", "PARALLEL_MIN_FILES", "discover", "make_resolver",
           "resolve_codes", "run", "split_codes", "Source", "Target"]
