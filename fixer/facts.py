"""Facts read from the build context before any transform runs: a frozen snapshot of its files
and what the lockfile says.

Transforms never read the file system: what they may look at is gathered here, once per build
context and run, bounded in count and size.  A file that the snapshot does not hold is "not
known", which is not the same as "absent" when the walk was cut short (:attr:`ContextFiles.complete`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

#: Folders never walked: installed dependencies, VCS data and build caches.
SKIPPED_DIRS = frozenset({"node_modules", ".git", ".hg", ".svn", ".pnpm-store", ".yarn/cache", ".next/cache",
                          ".turbo", ".cache", "coverage", ".nyc_output"})
#: Text files the snapshot keeps (by suffix or by name); others are only listed.
TEXT_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".json", ".sh", ".yml", ".yaml",
                           ".toml", ".conf", ".ini", ".bash"})
TEXT_NAMES = frozenset({".npmrc", ".yarnrc", ".yarnrc.yml", ".nvmrc", ".node-version", ".dockerignore",
                        ".env.example", ".env.sample", ".env.template", "Makefile", "Procfile",
                        "docker-entrypoint", "entrypoint"})
MAX_ENTRIES = 20_000  # files listed per context
MAX_TEXT_FILE = 512_000  # bytes, per kept text
MAX_TEXT_TOTAL = 16_000_000  # bytes, all kept texts of one context
MAX_LOCKFILE = 64_000_000  # bytes: larger lockfiles are not parsed


@dataclass(frozen=True)
class ContextFiles:
    """A read-only snapshot of a build context's files (paths relative, ``/``-separated)."""

    listing: frozenset[str] = frozenset()
    dirs: frozenset[str] = frozenset()  # every folder that holds a listed file, and their parents
    texts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: False when the walk or the text budget was cut short: a missing entry is then "unknown".
    complete: bool = True

    @classmethod
    def of(cls, texts: Mapping[str, str]) -> ContextFiles:
        """A snapshot holding exactly ``texts`` (for tests and in-memory runs)."""
        listing = frozenset(_norm(k) for k in texts)
        return cls(listing, frozenset(d for p in listing for d in _parents(p)),
                   MappingProxyType({_norm(k): v for k, v in texts.items()}))

    def text(self, rel: str) -> str | None:
        return self.texts.get(_norm(rel))

    def exists(self, rel: str) -> bool:
        rel = _norm(rel)
        return not rel or rel in self.listing or rel in self.dirs


def _norm(rel: str) -> str:
    rel = rel.replace("\\", "/")
    while rel.startswith("./"):
        rel = rel[2:]
    return rel.strip("/")


def snapshot(root: Path) -> ContextFiles:
    """Walk ``root`` (bounded) and keep the small text files transforms may read.  Symlinks are
    listed but never followed out of ``root``; unreadable or non-UTF-8 files are listed only."""
    root = root.resolve()
    listing: set[str] = set()
    texts: dict[str, str] = {}
    total = 0
    complete = True
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = sorted(os.scandir(root / rel_dir if rel_dir else root), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            try:
                is_dir = e.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if e.name not in SKIPPED_DIRS and rel not in SKIPPED_DIRS:
                    stack.append(rel)
                continue
            if len(listing) >= MAX_ENTRIES:
                complete = False
                stack.clear()
                break
            listing.add(rel)
            if not _is_text_name(e.name):
                continue
            if e.name in ("package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml"):
                continue  # lockfiles are summarised by lock_facts, not kept whole
            text = _read_inside(root, rel, MAX_TEXT_FILE)
            if text is None:
                continue
            if total + len(text) > MAX_TEXT_TOTAL:
                complete = False
                continue
            total += len(text)
            texts[rel] = text
    dirs = {d for p in listing for d in _parents(p)}
    return ContextFiles(frozenset(listing), frozenset(dirs), MappingProxyType(texts), complete)


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _is_text_name(name: str) -> bool:
    if name.endswith(".lock"):
        return False
    return (name in TEXT_NAMES or os.path.splitext(name)[1] in TEXT_SUFFIXES
            or "npmrc" in name or "yarnrc" in name or name.startswith("Dockerfile"))


def _read_inside(root: Path, rel: str, limit: int) -> str | None:
    p = root / rel
    try:
        real = p.resolve()
        if not (real == root or root in real.parents) or not real.is_file() or real.stat().st_size > limit:
            return None
        return real.read_bytes().decode("utf-8")  # no newline translation: CRLF stays CRLF
    except (OSError, UnicodeDecodeError):
        return None


# -- lockfile facts ----------------------------------------------------------------------------

@dataclass(frozen=True)
class LockedPackage:
    """One installed package as the lockfile records it (plain data)."""

    name: str
    version: str | None
    engines_node: str | None = None  # npm lockfile v2/v3 ``packages.*.engines.node``, pnpm ``engines``
    has_install_script: bool = False  # npm ``hasInstallScript``, pnpm ``requiresBuild``: runs on install
    dev: bool = False


@dataclass(frozen=True)
class LockFacts:
    """What an npm lockfile (v2/v3 ``packages`` map; v1 ``dependencies``) says about installed
    packages.  Names are package names (``@scope/name``), sorted."""

    version: int | None = None  # lockfileVersion
    #: production packages (not dev-only) whose install runs a script (``hasInstallScript``)
    install_scripts: tuple[str, ...] = ()
    #: dev-only packages with an install script
    dev_install_scripts: tuple[str, ...] = ()
    #: ``engines.node`` of locked packages that declare one, by name
    engines: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: every production package name
    production: frozenset[str] = frozenset()
    #: every package name (production and dev)
    names: frozenset[str] = frozenset()
    #: every locked entry with its version (v1: no engines), in lockfile order
    packages: tuple[LockedPackage, ...] = ()


def lock_facts(root: Path, lockfile: str | None) -> LockFacts | None:
    """Facts from an npm lockfile in ``root``; None when there is none or it cannot be read."""
    if lockfile not in ("package-lock.json", "npm-shrinkwrap.json"):
        return None
    text = _read_inside(root.resolve(), lockfile, MAX_LOCKFILE)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return npm_lock_facts(data) if isinstance(data, dict) else None


def _name_of(key: str, entry: dict[str, Any]) -> str | None:
    name = entry.get("name")
    if isinstance(name, str) and name:
        return name
    i = key.rfind("node_modules/")
    return key[i + len("node_modules/"):] if i >= 0 else None


def npm_lock_facts(data: dict[str, Any]) -> LockFacts:
    version = data.get("lockfileVersion") if isinstance(data.get("lockfileVersion"), int) else None
    scripts: set[str] = set()
    dev_scripts: set[str] = set()
    engines: dict[str, str] = {}
    production: set[str] = set()
    names: set[str] = set()
    locked: list[LockedPackage] = []
    packages = data.get("packages")
    if isinstance(packages, dict):
        for key, entry in packages.items():
            if not key or not isinstance(entry, dict) or "node_modules/" not in key or entry.get("link"):
                continue
            name = _name_of(key, entry)
            if name is None:
                continue
            names.add(name)
            dev = bool(entry.get("dev"))
            if not dev:
                production.add(name)
            if entry.get("hasInstallScript"):
                (dev_scripts if dev else scripts).add(name)
            eng = entry.get("engines")  # very old packages wrote a list (["node >= 0.4"]): not read
            node = eng.get("node") if isinstance(eng, dict) else None
            if isinstance(node, str):
                engines.setdefault(name, node)
            locked.append(LockedPackage(name, _str(entry.get("version")), node if isinstance(node, str) else None,
                                        bool(entry.get("hasInstallScript")), dev))
    else:
        deps = data.get("dependencies")
        stack = [deps] if isinstance(deps, dict) else []
        while stack:
            level = stack.pop()
            for name, entry in level.items():
                if not isinstance(entry, dict):
                    continue
                names.add(name)
                if not entry.get("dev"):
                    production.add(name)
                locked.append(LockedPackage(name, _str(entry.get("version")), dev=bool(entry.get("dev"))))
                if isinstance(entry.get("dependencies"), dict):
                    stack.append(entry["dependencies"])
    return LockFacts(version, tuple(sorted(scripts)), tuple(sorted(dev_scripts)),
                     MappingProxyType(dict(sorted(engines.items()))), frozenset(production), frozenset(names),
                     tuple(locked))


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


_YARN_ENTRY_RE = re.compile(r'(?m)^"?((?:@[^@/\s"]+/)?[^@\s",]+)@[^\n]*:\n\s+version:? "?([^"\s]+)"?')
_PNPM_KEY_RE = re.compile(r"^/?((?:@[^@/]+/)?[^@/]+)[@/]([^(/]+)")


def locked_packages(root: Path, lockfile: str | None, kind: str | None) -> tuple[LockedPackage, ...]:
    """What a yarn (v1 or berry) or pnpm lockfile in ``root`` says is installed: names and
    versions, and for pnpm ``engines`` and ``requiresBuild``; npm lockfiles are read by
    :func:`lock_facts` (``LockFacts.packages``).  Never raises: unreadable means unknown (())."""
    if lockfile is None or kind not in ("yarn-v1", "yarn-berry", "pnpm"):
        return ()
    text = _read_inside(root.resolve(), lockfile, MAX_LOCKFILE)
    if text is None:
        return ()
    if kind != "pnpm":
        return tuple(LockedPackage(m.group(1), m.group(2)) for m in _YARN_ENTRY_RE.finditer(text))
    try:
        data = _load_yaml(text)
    except Exception:  # malformed: unknown
        return ()
    out = []
    packages = data.get("packages") if isinstance(data, dict) else None
    if isinstance(packages, dict):
        for key, v in packages.items():
            m = _PNPM_KEY_RE.match(str(key))
            if not m:
                continue
            engines = v.get("engines") if isinstance(v, dict) else None
            node = engines.get("node") if isinstance(engines, dict) else None
            out.append(LockedPackage(m.group(1), m.group(2), node if isinstance(node, str) else None,
                                     bool(v.get("requiresBuild")) if isinstance(v, dict) else False))
    return tuple(out)



def _load_yaml(text: str) -> Any:
    """PyYAML's C loader when installed (large lockfiles), else ruamel.yaml (a dependency)."""
    try:
        import yaml
    except ImportError:
        from ruamel.yaml import YAML

        return YAML(typ="safe", pure=True).load(text)
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
