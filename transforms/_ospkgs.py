"""OS packages: the ``apt-get install`` / ``apk add`` commands of a stage, whether a file pins
package versions, the distribution release of a base image, and the versions of ``dumb-init``
those releases ship (to pin it the way the file pins its other packages)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockerfix.fixer.commands import ShellCommand
from dockerfix.fixer.document import Document, Instruction, Stage
from dockerfix.fixer.imageref import ImageRefError
from dockerfix.fixer.imageref import parse as parse_image_ref
from dockerfix.fixer.positions import source_line

from ._stages import is_root_user

#: dumb-init in the releases the official ``node`` images are built on, as the distributions
#: publish it (checked 2026-11-29): packages.debian.org/<release>/dumb-init and
#: pkgs.alpinelinux.org/package/v<release>/community/x86_64/dumb-init.  Alpine 3.19 has the build
#: of 2023-08-09 that 3.20 still ships (so -r3).  Releases not listed (Alpine 3.22 and later,
#: Debian bullseye and older, Ubuntu) have no verified version: dumb-init is not pinned there.
DUMB_INIT_VERSIONS: dict[tuple[str, str], str] = {
    ("debian", "bookworm"): "1.2.5-2",
    ("debian", "trixie"): "1.2.5-3",
    ("alpine", "3.17"): "1.2.5-r2",
    ("alpine", "3.18"): "1.2.5-r2",
    ("alpine", "3.19"): "1.2.5-r3",
    ("alpine", "3.20"): "1.2.5-r3",
    ("alpine", "3.21"): "1.2.5-r3",
}
_DEBIAN_NUMBERS = {"12": "bookworm", "13": "trixie", "11": "bullseye", "10": "buster"}
_CODENAMES = ("trixie", "bookworm", "bullseye", "buster", "stretch", "jessie")
#: Options of apt-get / apk that take a value (the value is not a package).
_VALUE_OPTS = frozenset({"-o", "--option", "-t", "--target-release", "--default-release", "-c", "--config-file",
                         "--virtual", "-X", "--repository", "--arch", "-p", "--root", "--keys-dir",
                         "--repositories-file", "--cache-dir"})


def release_of(image: str | None, distro: str | None) -> str | None:
    """The distribution release a base image names in its tag (``node:22-bookworm-slim`` ->
    ``bookworm``, ``node:22-alpine3.21`` -> ``3.21``, ``alpine:3.20.3`` -> ``3.20``); None when the
    tag does not say (``node:22-alpine`` moves from release to release)."""
    if not image:
        return None
    try:
        ref = parse_image_ref(image)
    except ImageRefError:
        return None
    tag = (ref.tag or "").lower()
    last = ref.path.rsplit("/", 1)[-1]
    if distro == "alpine":
        m = re.search(r"alpine(\d+\.\d+)", tag) or (re.match(r"(\d+\.\d+)", tag) if last == "alpine" else None)
        return m.group(1) if m else None
    if distro == "debian":
        for name in _CODENAMES:
            if re.search(rf"(^|[-_.]){name}($|[-_.])", tag):
                return name
        if last == "debian":
            m = re.match(r"(\d+)", tag)
            return _DEBIAN_NUMBERS.get(m.group(1)) if m else None
    return None


@dataclass(frozen=True)
class PackageInstall:
    """One ``apt-get install`` / ``apk add`` command: ``packages`` are its package words."""

    ins: Instruction
    cmd: ShellCommand
    manager: str  # "apt" | "apk"
    packages: tuple[str, ...]

    @property
    def pinned(self) -> tuple[bool, ...]:
        return tuple(is_pinned(p) for p in self.packages)


def is_pinned(word: str) -> bool:
    return any(c in word for c in "=~<>") and not word.startswith("-")


def install_commands(ins: Instruction) -> list[PackageInstall]:
    """The package installs of a shell-form RUN."""
    out = []
    for cmd in ins.commands:
        argv = cmd.argv
        manager = {"apt-get": "apt", "apt": "apt", "apk": "apk"}.get(cmd.program)
        if manager is None:
            continue
        words: list[str] = []
        sub = None
        skip = False
        for a in argv[1:]:
            if skip:
                skip = False
            elif a in _VALUE_OPTS:
                skip = True
            elif a.startswith("-"):
                continue
            elif sub is None:
                sub = a
            else:
                words.append(a)
        if (manager == "apt" and sub == "install") or (manager == "apk" and sub == "add"):
            out.append(PackageInstall(ins, cmd, manager, tuple(words)))
    return out


def file_pins(doc: Document) -> bool:
    """Does the file pin OS package versions anywhere (``curl=8.5.0-r0``, ``curl=7.88.1-10``)?"""
    return any(any(p.pinned) for ins in doc.instructions if ins.keyword == "RUN" for p in install_commands(ins))


def _runs_as_root(doc: Document, ins: Instruction) -> bool:
    stage = doc.stages[ins.stage]
    for st in doc.stage_chain(stage):
        users = [i for i in st.instructions if i.keyword == "USER" and (st is not stage or i.index < ins.index)]
        if users:
            return is_root_user(users[-1].args_text)
    return True


def merge_target(doc: Document, stage: Stage, manager: str) -> tuple[PackageInstall | None, str | None]:
    """The package install of the final stage (then of the stages it is built FROM) that one more
    package can join, and why an install was passed over (None when none was)."""
    passed = None
    for st in doc.stage_chain(stage):
        for ins in st.instructions:
            if ins.keyword != "RUN" or ins.heredocs or ins.is_json:
                continue
            installs = [p for p in install_commands(ins) if p.manager == manager]
            if not installs:
                continue
            why = _not_mergeable(doc, ins, installs[0])
            if why is None:
                return installs[0], None
            passed = passed or f"the package install on line {source_line(doc, ins.line)} {why}"
    return None, passed


def _not_mergeable(doc: Document, ins: Instruction, p: PackageInstall) -> str | None:
    if not ins.shell.simple:
        return "is inside a shell construct (if, subshell, loop)"
    if p.cmd.before is not None and p.cmd.before.text == "||":
        return "only runs when an earlier command fails"
    if p.cmd.after is not None and p.cmd.after.text in ("||", "&", "|"):
        return "may fail without failing the build"
    if not p.packages:
        return "names no package"
    if any(a in ("--virtual", "-t") or a.startswith("--virtual=") for a in p.cmd.argv) and p.manager == "apk":
        return "is a virtual package group that is deleted again"
    for c in ins.commands:
        if c.program == "apt-mark" and "auto" in c.argv[1:]:
            return "marks packages for automatic removal (apt-mark auto)"
    if not _runs_as_root(doc, ins):
        return "runs as a non-root user"
    return None
