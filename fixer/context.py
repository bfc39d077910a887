"""What a transform may know about the build context.

Everything here is read once, up front, by :func:`load_context`; transforms only look at the
resulting :class:`Context` and never touch the file system, the network or processes themselves.
Facts come from the build context (``package.json``, the lockfile, ``.nvmrc``, ``.dockerignore``),
never from guesses.
"""

from __future__ import annotations

import json
from datetime import date
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol
from collections.abc import Mapping

from .config import Config
from .facts import ContextFiles, LockedPackage, LockFacts, lock_facts, locked_packages, snapshot

#: Lockfile names and the kind they stand for, in the order a tool would prefer them.
LOCKFILES: tuple[tuple[str, str], ...] = (
    ("npm-shrinkwrap.json", "npm"),
    ("package-lock.json", "npm"),
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),  # v1 or berry: decided from the file's header
    ("bun.lock", "bun"),
    ("bun.lockb", "bun"),
)


@dataclass(frozen=True)
class PackageJson:
    """The parts of ``package.json`` the transforms use."""

    data: dict[str, Any]

    @property
    def scripts(self) -> dict[str, str]:
        s = self.data.get("scripts")
        return {k: v for k, v in s.items() if isinstance(v, str)} if isinstance(s, dict) else {}

    @property
    def main(self) -> str | None:
        m = self.data.get("main")
        return m if isinstance(m, str) else None

    @property
    def engines_node(self) -> str | None:
        e = self.data.get("engines")
        return e.get("node") if isinstance(e, dict) and isinstance(e.get("node"), str) else None

    @property
    def package_manager(self) -> str | None:
        p = self.data.get("packageManager")
        return p if isinstance(p, str) else None

    @property
    def dev_dependencies(self) -> dict[str, str]:
        d = self.data.get("devDependencies")
        return d if isinstance(d, dict) else {}

    @property
    def dependencies(self) -> dict[str, str]:
        d = self.data.get("dependencies")
        return d if isinstance(d, dict) else {}


class DigestLookup(Protocol):
    """Digests looked up before the pipeline (see ``fixer/resolving.py``): the answer for a
    reference — a resolution, or the error the registry gave — or None when it was not looked up.
    It never reaches the network."""

    def __call__(self, ref: Any, platforms: tuple[str, ...]) -> Any: ...


def _no_digests(_ref: Any, _platforms: tuple[str, ...]) -> None:
    return None


@dataclass(frozen=True)
class Context:
    """The facts of one Dockerfile's build, gathered before any transform runs and frozen:
    transforms read them and never change them, and nothing here reaches the file system or the
    network (files come from a snapshot, digests and the release table were fetched before)."""

    dockerfile: Path | None = None
    context_dir: Path | None = None
    #: Why this folder is the build context (compose file, workflow, COPY sources, --context …).
    context_evidence: str = ""
    config: Config = field(default_factory=Config)
    package: PackageJson | None = None
    package_error: str | None = None  # why package.json could not be read, if it exists
    lockfile: str | None = None  # file name of the lockfile found, e.g. "package-lock.json"
    lock_kind: str | None = None  # npm | yarn-v1 | yarn-berry | pnpm | bun | None
    lock: LockFacts | None = None  # what an npm lockfile says (install scripts, engines)
    nvmrc: str | None = None
    dockerignore: str | None = None  # text of an existing .dockerignore
    files: ContextFiles = field(default_factory=ContextFiles)
    offline: bool = False
    #: Digests looked up before the run; None answers mean "not looked up" (see DigestLookup).
    digests: DigestLookup | None = None
    #: "Today" for release-line decisions (LTS / end-of-life); fixed in tests for determinism.
    today: date = field(default_factory=date.today)
    #: The Node.js release table to decide LTS lines with (None: the table bundled with dockerfix).
    releases: Any = None
    #: Facts about the official node image (``fixer/node_images.py``: which tags exist, Debian and
    #: Alpine releases, yarn/corepack per major, known breakages): the bundled table, or online the
    #: same with the registry's tag list laid over it (``NodeImages.with_registry_tags``).
    node_images: Any = field(default_factory=lambda: _bundled_images(), repr=False, compare=False)
    #: Installed packages as the lockfile records them (npm: ``lock.packages``, with engines and
    #: install scripts; yarn: names and versions; pnpm: also engines and ``requiresBuild``).
    locked_packages: tuple[LockedPackage, ...] = ()
    #: npm lockfile ``lockfileVersion`` (None for other lockfiles or when unreadable).
    lockfile_version: int | None = None
    #: Text of ``.yarnrc.yml`` (yarn berry's configuration), if present.
    yarnrc_yml: str | None = None
    #: File names under ``.yarn/releases/`` and ``.yarn/plugins/`` (committed berry binaries, plugins).
    yarn_releases: tuple[str, ...] = ()
    yarn_plugins: tuple[str, ...] = ()
    #: Texts of context files as earlier fixes of this run left them (set by the pipeline).
    overrides: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: The codes of the transforms this run applies: the command line's ``--select``/``--ignore``
    #: and the configuration's ``select``/``ignore``, resolved (names, ``ALL``).  None when the
    #: Context was not made by a run: the configuration alone decides (see :meth:`applies`).
    codes: frozenset[str] | None = None

    def read_file(self, rel: str) -> str | None:
        """A text file of the build context as read before the run (None: absent or not text)."""
        return self.files.text(rel)

    def file_text(self, rel: str) -> str | None:
        """A build-context file as the transforms should see it (earlier fixes included)."""
        if rel in self.overrides:
            return self.overrides[rel]
        if rel == ".dockerignore":
            return self.dockerignore
        return self.read_file(rel)

    def applies(self, code: str) -> bool:
        """Whether the transform ``code`` runs in this run (so a transform can count on it, e.g.
        DFX002 pinning a tag another transform writes)."""
        if self.codes is not None:
            return code in self.codes
        c = self.config
        return code not in c.ignore and (c.select is None or code in c.select)

    def digest(self, ref: Any, platforms: tuple[str, ...]) -> Any:
        """The looked-up digest of ``ref`` (a resolution or the registry's error), or None."""
        return (self.digests or _no_digests)(ref, platforms)

    def node_releases(self) -> Any:
        """The Node.js release table of this run."""
        return self.releases if self.releases is not None else _bundled_releases()

    def with_files(self, overrides: Mapping[str, str]) -> Context:
        """The same facts with other context files as fixes left them (the pipeline's only change)."""
        new = dict(self.overrides)
        new.update(overrides)
        return replace(self, overrides=MappingProxyType(new),
                       dockerignore=new.get(".dockerignore", self.dockerignore))

    @property
    def has_package_json(self) -> bool:
        return self.package is not None


def _bundled_images():
    from .node_images import images

    return images()


def _bundled_releases():
    from .node_releases import bundled

    return bundled()


def lock_kind_of(name: str, text: str | None) -> str:
    kind = dict(LOCKFILES)[name]
    if kind == "yarn":
        # Yarn berry lockfiles are YAML with a __metadata block; v1 starts with a comment header.
        return "yarn-berry" if text and "__metadata:" in text else "yarn-v1"
    return kind


def load_context(
    dockerfile: Path | None,
    context_dir: Path | None,
    config: Config,
    *,
    offline: bool = False,
    digests: DigestLookup | None = None,
    releases: Any = None,
    node_images: Any = None,
    today: date | None = None,
    evidence: str = "",
    files: ContextFiles | None = None,
    codes: frozenset[str] | None = None,
) -> Context:
    """Gather the build facts of ``dockerfile`` with ``context_dir`` as its context (default: its
    folder).  ``files`` is a snapshot of that folder already taken in this run, if any; ``codes``:
    the transforms the run applies (``Context.codes``)."""
    if context_dir is None:
        context_dir = dockerfile.parent if dockerfile is not None else None
    base = dict(dockerfile=dockerfile, context_dir=context_dir, config=config, offline=offline, digests=digests,
                releases=releases, context_evidence=evidence, codes=codes)
    if today is not None:
        base["today"] = today
    if node_images is not None:
        base["node_images"] = node_images
    if context_dir is None:
        return Context(**base)
    root = context_dir.resolve()
    snap = files if files is not None else snapshot(root)
    package = package_error = None
    text = snap.text("package.json")
    if snap.exists("package.json"):
        if text is None:
            package_error = "package.json is not a readable UTF-8 file"
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                package_error = f"package.json is not valid JSON ({e.msg} at line {e.lineno})"
            except ValueError as e:  # valid syntax json still refuses, e.g. an integer over Python's digit limit
                package_error = f"package.json is not valid JSON ({e})"
            else:
                if isinstance(data, dict):
                    package = PackageJson(data)
                else:
                    package_error = "package.json does not hold a JSON object"
    lockfile = lock_kind = None
    for name, _kind in LOCKFILES:
        if name in snap.listing:
            lockfile = name
            head = None
            if name == "yarn.lock":
                try:
                    with open(root / name, encoding="utf-8", errors="replace") as fh:
                        head = fh.read(4096)
                except OSError:
                    head = None
            lock_kind = lock_kind_of(name, head)
            break
    nvm = snap.text(".nvmrc")
    lock = lock_facts(root, lockfile)
    return Context(**base, files=snap, package=package, package_error=package_error,
                   lockfile=lockfile, lock_kind=lock_kind, lock=lock,
                   locked_packages=lock.packages if lock is not None else locked_packages(root, lockfile, lock_kind),
                   lockfile_version=lock.version if lock is not None else None,
                   yarnrc_yml=snap.text(".yarnrc.yml"), yarn_releases=_listing(snap, ".yarn/releases"),
                   yarn_plugins=_listing(snap, ".yarn/plugins", recursive=True),
                   nvmrc=nvm.strip() if nvm else None, dockerignore=snap.text(".dockerignore"))


def _listing(snap: ContextFiles, folder: str, recursive: bool = False) -> tuple[str, ...]:
    """Files under ``folder`` of the snapshot, relative to it, sorted (at most 200)."""
    prefix = folder + "/"
    names = (p[len(prefix):] for p in snap.listing if p.startswith(prefix))
    return tuple(sorted(n for n in names if recursive or "/" not in n))[:200]
