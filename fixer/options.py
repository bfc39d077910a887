"""Options shared by ``dockerfix`` and ``dockerfix pr``, and the help style both print.

The main command is declared with typer (click); ``dockerfix pr`` keeps its argparse parser, so
this module gives it the same option names, metavars and help texts and click's help layout
("Usage: dockerfix pr [OPTIONS] [PATH]", "Arguments:", "Options:").  Neither cli nor bot imports
the other; both import this.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: (flags, argparse keyword arguments): the options every dockerfix command that fixes files takes
SHARED: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--select",), dict(action="append", metavar="CODE", help="Only these codes (repeatable or comma list; ALL).")),
    (("--ignore",), dict(action="append", metavar="CODE", help="Never these codes (repeatable or comma list).")),
    (("--unsafe-fixes",), dict(action="store_const", const=True, dest="unsafe_fixes", default=None,
                               help="Also apply unsafe fixes.")),
    (("--no-unsafe-fixes",), dict(action="store_const", const=False, dest="unsafe_fixes",
                                  help="Only safe fixes, whatever the config says.")),
    (("--offline",), dict(action="store_true", help="No registry look-ups (digest pinning is skipped).")),
    (("--refresh",), dict(action="store_true", help="Bypass the digest cache.")),
    (("--config",), dict(metavar="PATH", type=Path, dest="config_path",
                         help="Config file (.dockerfix.toml or pyproject.toml).")),
    (("--context",), dict(metavar="DIR", type=Path, dest="context_dir",
                          help="Build context folder (default: each Dockerfile's folder).")),
]


class ClickStyleFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse help laid out like click's: "Usage: prog [OPTIONS] [PATH]", then the sections."""

    def __init__(self, prog: str):
        super().__init__(prog, max_help_position=34, width=80)

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix="Usage: " if prefix is None else prefix)


def parser(prog: str, description: str, epilog: str, path_help: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=prog, usage=f"{prog} [OPTIONS] [PATH]", description=description,
                                 epilog=epilog, formatter_class=ClickStyleFormatter, add_help=False)
    ap._positionals.title = "Arguments"
    ap._optionals.title = "Options"
    ap.add_argument("path", nargs="?", default=".", metavar="PATH", help=path_help)
    return ap


def add_shared(ap: argparse.ArgumentParser, *, formats: tuple[str, ...]) -> None:
    for flags, kw in SHARED:
        ap.add_argument(*flags, **kw)
    ap.add_argument("--format", dest="output_format", default="text", type=str.lower, choices=formats,
                    metavar="<" + "|".join(formats) + ">",
                    help="Report format of the fixes (all but text go to stdout).  [default: text]")
    ap.add_argument("-q", "--quiet", action="store_true", help="Only errors and the one-line summary on stderr.")
    ap.add_argument("-h", "--help", action="help", help="Show this message and exit.")


__all__ = ["SHARED", "ClickStyleFormatter", "add_shared", "parser"]
