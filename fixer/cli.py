"""The ``dockerfix`` command line.

``dockerfix [OPTIONS] [PATH...]`` fixes Dockerfiles (``--check``, the default, ``--diff`` or
``--write``); the subcommands (:data:`SUBCOMMANDS`, each listed with one line in ``--help``):
``dockerfix rules [CODE]`` prints the rule documentation; ``dockerfix verify [PATH...]`` builds
and runs the original and the fixed images (:mod:`dockerfix.fixer.verify`); ``dockerfix pr
[PATH]`` opens or updates the bot's pull request (:mod:`dockerfix.fixer.bot`); verify and pr
have their own argparse parsers.  A click group cannot take positional PATHs and subcommands at
once, so :func:`main` dispatches on ``argv[1]`` (a file literally named ``rules``, ``verify`` or
``pr`` is reached as ``./rules`` or after ``--``).

Start-up is kept short.  typer (0.29 builds pydantic adapters for every parameter: ~200 ms) is
imported only for ``--help``, ``--version``, usage errors and ``rules``: ordinary invocations are
parsed by :func:`fast_parse`, whose option table a test keeps identical to the typer command's.
Both parsers end in :func:`invoke`.  rich is only reached through typer's help/errors, and httpx
never at start-up.  The run itself (configuration, context, pipeline, writing) is
:class:`~dockerfix.fixer.session.Session`: this module only parses arguments and prints.
"""

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

from .colors import use_color
from .session import Mode, Session, UsageError, discover, split_codes

EXIT_OK, EXIT_FIXABLE, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

#: ``dockerfix NAME ...``: (arguments, one line for --help).  main() dispatches exactly these.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "rules": ("[CODE]", "print the documentation of every transform, or of one"),
    "verify": ("[PATH...]", "build and run the original and the fixed images, compare them"),
    "pr": ("[PATH]", "open or update one pull request with the fixes (GitHub)"),
}


def _commands_help() -> str:
    width = max(len(f"{name} {args}") for name, (args, _line) in SUBCOMMANDS.items())
    return "\n".join(f"  {f'{name} {args}':<{width}}  {line}" for name, (args, line) in SUBCOMMANDS.items())


HELP = """Fix Dockerfiles of Node.js apps: small, reviewable, production-grade rewrites.

\b
PATH: files or folders (default: the current folder); folders are searched
recursively for Dockerfile, *.Dockerfile, Dockerfile.*, Containerfile and
Containerfile.*, skipping .git, node_modules and what .gitignore ignores.
Files named explicitly are always processed.  "-" reads standard input.

\b
Commands: dockerfix COMMAND [ARGS]... (dockerfix COMMAND --help for each)
""" + _commands_help() + """

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
Output (stderr): one line per finding, PATH:LINE:COL: CODE [tag] message, in
the file as read; [*] fixable with these flags, [unsafe] fixable with
--unsafe-fixes, [by hand] report only.  Then "Found N issues in F files
(...)", skips counted by rule, and the command that applies the fixes.
-v also lists fixed findings, notes and skips; --show-skips the skips;
-q only the summary line.

\b
Exit codes:
  --check   0 no findings, 1 findings remain (fixable, fixable with
            --unsafe-fixes or to fix by hand), 2 error
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
select, ignore, unsafe-fixes, upgrade-node, user, platforms, registry-mirrors, cache-ttl, runtime-variant.
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


def _err(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def _run(paths: list[str], mode: Mode, *, output_format: OutputFormat, color: Color, quiet: bool,
         exit_non_zero_on_fix: bool, verbose: bool = False, show_skips: bool = False, **options) -> int:
    """Build the session, check the invocation as a whole, print what the session yields."""
    from .config import ConfigError
    from .report import error_line, remaining_issues, render_text, rerun_flags

    try:
        session = Session(mode=mode, keep_text=output_format is not OutputFormat.text,
                          on_note=None if quiet else (lambda note: _err(f"dockerfix: note: {note}")),
                          stderr=sys.stderr, quiet=quiet, **options)  # network warnings, hint, progress
    except (UsageError, ConfigError) as e:
        _err(f"dockerfix: {e}")
        return EXIT_ERROR
    ctx_dir = options.get("context_dir")
    if ctx_dir is not None and not ctx_dir.is_dir():
        _err(f"dockerfix: --context {ctx_dir}: not a directory")
        return EXIT_ERROR
    if paths.count("-") > 1:
        _err("dockerfix: standard input (-) can be read only once")
        return EXIT_ERROR
    if options.get("stdin_filename") and not paths:
        paths = ["-"]
    stdin_write = mode is Mode.write and "-" in paths
    if stdin_write and len(paths) > 1:
        _err("dockerfix: --write with - prints the fixed text on stdout; give no other PATH")
        return EXIT_ERROR
    if stdin_write and output_format is not OutputFormat.text:
        _err(f"dockerfix: --format {output_format.value} cannot be combined with --write for - "
             "(stdout carries the fixed text)")
        return EXIT_ERROR
    targets, notes = discover(paths)
    if not quiet:
        for n in notes:
            _err(f"dockerfix: warning: {n}")

    diff_color = use_color(color.value, sys.stdout)
    outcomes = []
    for target, (outcome, src) in zip(targets, session.run(targets)):
        if isinstance(outcome, (ConfigError, UsageError)):  # an explicit --config that is broken
            _err(f"dockerfix: {outcome}")
            return EXIT_ERROR
        outcomes.append(outcome)
        r = outcome.result
        if r.status == "error":
            _err(error_line(r.path, r.error))
        if mode is Mode.diff and outcome.diff and output_format is OutputFormat.text:
            shown = outcome.diff
            if diff_color:
                from .diffing import colorize

                shown = colorize(shown)
            sys.stdout.write(shown)
            sys.stdout.flush()
        if stdin_write and target.is_stdin and src is not None:
            # the ruff/black convention: the (fixed or unchanged) text goes to stdout, byte-exact
            sys.stdout.flush()
            sys.stdout.buffer.write(r.after.encode("utf-8") if r.status != "error" else src.raw)
            sys.stdout.buffer.flush()

    any_unsafe = session.any_unsafe
    if output_format is OutputFormat.json:
        import json

        from .report import to_json

        doc = to_json(outcomes, mode=mode.value, unsafe_fixes=any_unsafe)
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    elif output_format is not OutputFormat.text:
        from .formats import render_format

        sys.stdout.write(render_format(output_format.value, outcomes, mode=mode.value, unsafe_fixes=any_unsafe,
                                       show_skips=show_skips or verbose))
        sys.stdout.flush()
    else:
        rerun = rerun_flags(paths=paths, select=options.get("select"), ignore=options.get("ignore") or (),
                            offline=options.get("offline", False), config_path=options.get("config_path"),
                            context_dir=options.get("context_dir"), stdin_filename=options.get("stdin_filename"))
        width = None
        if sys.stderr.isatty():
            import shutil

            width = shutil.get_terminal_size((100, 24)).columns
        sys.stderr.write(render_text(outcomes, mode=mode.value, unsafe_fixes=any_unsafe,
                                     color=use_color(color.value, sys.stderr), quiet=quiet, verbose=verbose,
                                     show_skips=show_skips, rerun=rerun, width=width))
        sys.stderr.flush()

    if any(o.status == "error" for o in outcomes):
        return EXIT_ERROR
    if mode is Mode.check:  # findings remain (fixable, with --unsafe-fixes, or by hand): exit 1
        return EXIT_FIXABLE if remaining_issues(outcomes, mode.value) else EXIT_OK
    if mode is Mode.diff:
        return EXIT_FIXABLE if any(o.diff for o in outcomes) else EXIT_OK
    if exit_non_zero_on_fix and any(o.written or (o.status == "changed" and stdin_write) for o in outcomes):
        return EXIT_FIXABLE
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
# the fix command: one implementation, two argument parsers

def invoke(*, paths: Optional[list[str]] = None, check: bool = False, diff: bool = False, write: bool = False,
           exit_non_zero_on_fix: bool = False, select: Optional[list[str]] = None,
           ignore: Optional[list[str]] = None, unsafe_fixes: Optional[bool] = None, offline: bool = False,
           refresh: bool = False, output_format: OutputFormat = OutputFormat.text,
           config_path: Optional[Path] = None, context_dir: Optional[Path] = None,
           stdin_filename: Optional[str] = None, color: Color = Color.auto, quiet: bool = False,
           update_pins: Optional[bool] = None, upgrade_node: Optional[bool] = None, verbose: bool = False,
           show_skips: bool = False) -> int:
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
                    select=split_codes(select) if select else None, ignore=split_codes(ignore),
                    unsafe_fixes=unsafe_fixes, upgrade_node=upgrade_node,
                    offline=offline, refresh=refresh, output_format=output_format, config_path=config_path,
                    context_dir=context_dir, stdin_filename=stdin_filename, color=color, quiet=quiet,
                    exit_non_zero_on_fix=exit_non_zero_on_fix, update_pins=update_pins, verbose=verbose,
                    show_skips=show_skips)
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
    "-v": ("verbose", "flag"),
    "--verbose": ("verbose", "flag"),
    "--show-skips": ("show_skips", "flag"),
    "--unsafe-fixes": ("unsafe_fixes", "const", True),
    "--no-unsafe-fixes": ("unsafe_fixes", "const", False),
    "--update-pins": ("update_pins", "const", True),
    "--no-update-pins": ("update_pins", "const", False),
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
        update_pins: Annotated[Optional[bool], typer.Option(
            "--update-pins/--no-update-pins", show_default=False,
            help="Also refresh digests pinned beside a tag (name:tag@sha256:...) when the tag has moved "
                 "(config: update-pins).")] = None,
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
        quiet: Annotated[bool, typer.Option(
            "-q", "--quiet", help="Only errors and the one-line summary on stderr.")] = False,
        verbose: Annotated[bool, typer.Option(
            "-v", "--verbose", help="Also list fixed findings, notes and skips.")] = False,
        show_skips: Annotated[bool, typer.Option(
            "--show-skips", help="List each skipped check with its reason.")] = False,
        version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                        help="Print the version and exit.")] = None,
    ) -> None:
        raise typer.Exit(invoke(
            paths=paths, check=check, diff=diff, write=write, exit_non_zero_on_fix=exit_non_zero_on_fix,
            select=select, ignore=ignore, unsafe_fixes=unsafe_fixes, upgrade_node=upgrade_node, offline=offline,
            refresh=refresh,
            output_format=output_format, config_path=config_path, context_dir=context_dir,
            stdin_filename=stdin_filename, color=color, quiet=quiet, update_pins=update_pins, verbose=verbose,
            show_skips=show_skips))

    return app


def rules_command(code: Optional[str], output_format: RulesFormat) -> int:
    from . import docs

    if code is None:
        out = docs.markdown() if output_format is RulesFormat.markdown else docs.table_text()
    else:
        t = docs.find(code)
        if t is None:
            from dockerfix.transforms import ALL

            known = sorted(ALL, key=lambda x: x.code)
            hint = docs.suggest(code, [x.code for x in known] + [x.name for x in known])
            _err(f"dockerfix: unknown rule code {code}{hint}; known codes: "
                 + ", ".join(f"{x.code} ({x.name})" for x in known))
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
        code: Annotated[Optional[str], typer.Argument(
            metavar="CODE", show_default=False,
            help="A code (DFX001) or a transform name; without it, a table of all transforms.")] = None,
        output_format: Annotated[RulesFormat, typer.Option(
            "--format", case_sensitive=False,
            help="text, or markdown (docs/transforms.md; the full documentation of all)." )] = RulesFormat.text,
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


def _clean_framework_text(text: str) -> str:
    """typer's help and errors without its leftovers: ``PATH <list[str]>`` (the Python type of a
    variadic argument) and pydantic's "Value error, " prefix."""
    import re

    # padded to the removed width, so the help column stays aligned
    text = re.sub(r"^(  [A-Z][A-Z_]*) <list\[str\]>", lambda m: m.group(1) + "..." + " " * 9, text, flags=re.M)
    text = re.sub(r"^(  [A-Z][A-Z_]*) <str>", lambda m: m.group(1) + " " * 6, text, flags=re.M)
    return text.replace("Value error, ", "")


def _typer(app, args: list[str], prog: str) -> None:
    """Run a typer app (help, --version, usage errors) with its output cleaned up."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    code = 0
    # stdout only for help and --version: a run parsed by typer may write bytes to stdout (stdin --write)
    helping = any(a in ("-h", "--help", "--version") for a in args[: args.index("--") if "--" in args else None])
    try:
        with contextlib.redirect_stdout(out) if helping else contextlib.nullcontext(), \
                contextlib.redirect_stderr(err):
            app(args=args, prog_name=prog, standalone_mode=True)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.stdout.write(_clean_framework_text(out.getvalue()))
        sys.stdout.flush()
        sys.stderr.write(_clean_framework_text(err.getvalue()))
        sys.stderr.flush()
    sys.exit(code)


def _subcommand(name: str, args: list[str]) -> None:
    """Run ``dockerfix NAME ARGS`` (one of :data:`SUBCOMMANDS`); exits."""
    if name == "rules":
        _typer(__getattr__("rules_app"), args, "dockerfix rules")
    if name == "pr":
        from .bot import main as pr_main

        sys.exit(pr_main(args))
    if name == "verify":
        from .verify import main as verify_main

        sys.exit(verify_main(args))
    raise AssertionError(f"subcommand {name} is listed but not dispatched")


def main(argv: Optional[list[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in SUBCOMMANDS:
            _subcommand(args[0], args[1:])
        else:
            parsed = fast_parse(args)
            if parsed is None:
                _typer(__getattr__("app"), args, "dockerfix")
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
