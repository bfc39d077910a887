"""What a transform may know about the build context.

Everything here is read once, up front, by :func:`load_context`; transforms only look at the
resulting :class:`Context` and never touch the file system, the network or processes themselves.
Facts come from the build context (``package.json``, the lockfile, ``.nvmrc``, ``.dockerignore``),
never from guesses.
"""

from __future__ import annotations

import json
import re
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from .config import Config

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


@dataclass(frozen=True)
class LockedPackage:
    """One installed package as the lockfile records it (plain data)."""

    name: str
    version: str | None
    engines_node: str | None = None  # npm lockfile v2/v3 ``packages.*.engines.node``, pnpm ``engines``
    has_install_script: bool = False  # npm lockfile ``hasInstallScript``: built or fetched on install
    dev: bool = False


class DigestResolver(Protocol):
    """What digest pinning needs from the registry client (see ``fixer/registry.py``)."""

    def resolve(self, ref: Any, platforms: tuple[str, ...]) -> Any: ...


@dataclass
class Context:
    """The build context of one Dockerfile.  Transforms read it; they never change it."""

    dockerfile: Path | None = None
    context_dir: Path | None = None
    config: Config = field(default_factory=Config)
    package: PackageJson | None = None
    package_error: str | None = None  # why package.json could not be read, if it exists
    lockfile: str | None = None  # file name of the lockfile found, e.g. "package-lock.json"
    lock_kind: str | None = None  # npm | yarn-v1 | yarn-berry | pnpm | bun | None
    nvmrc: str | None = None
    dockerignore: str | None = None  # text of an existing .dockerignore
    offline: bool = False
    resolver: DigestResolver | None = None
    #: "Today" for release-line decisions (LTS / end-of-life); fixed in tests for determinism.
    today: date = field(default_factory=date.today)
    #: Reads a text file of the build context by relative path (None when absent/unreadable).
    read_file: Callable[[str], str | None] = field(default=lambda _p: None, repr=False)
    #: Returns the Node.js release table to decide LTS lines with (the CLI refreshes it online,
    #: once per run and only when asked); default: the table bundled with dockerfix.
    node_releases: Callable[[], Any] = field(default=lambda: _bundled_releases(), repr=False)
    #: Returns the facts about the official node image (``fixer/node_images.py``): which tags exist,
    #: releases, contents.  Default: the bundled table; online, a caller may lay the registry's tag
    #: list over it (``NodeImages.with_registry_tags``).
    node_images: Callable[[], Any] = field(default=lambda: _bundled_images(), repr=False)
    #: Installed packages as the lockfile records them (npm v2/v3: engines and install scripts;
    #: yarn and pnpm: versions, pnpm engines); empty when unknown.
    locked_packages: tuple[LockedPackage, ...] = ()
    #: npm lockfile ``lockfileVersion`` (None for other lockfiles or when unreadable).
    lockfile_version: int | None = None
    #: Text of ``.yarnrc.yml`` (yarn berry's configuration), if present.
    yarnrc_yml: str | None = None
    #: File names under ``.yarn/releases/`` and ``.yarn/plugins/`` (committed berry binaries, plugins).
    yarn_releases: tuple[str, ...] = ()
    yarn_plugins: tuple[str, ...] = ()
    #: Texts of context files as earlier fixes of this run left them (set by the pipeline).
    overrides: dict[str, str] = field(default_factory=dict)

    def file_text(self, rel: str) -> str | None:
        """A build-context file as the transforms should see it (earlier fixes included)."""
        if rel in self.overrides:
            return self.overrides[rel]
        if rel == ".dockerignore":
            return self.dockerignore
        return self.read_file(rel)

    @property
    def has_package_json(self) -> bool:
        return self.package is not None


def _bundled_images():
    from .node_images import images

    return images()


def _bundled_releases():
    from .node_releases import bundled

    return bundled()


def _read_text(path: Path, limit: int = 2_000_000) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > limit:
            return None
        return path.read_bytes().decode("utf-8")  # no newline translation: CRLF files stay CRLF
    except (OSError, UnicodeDecodeError):
        return None


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
    resolver: DigestResolver | None = None,
) -> Context:
    """Read the build context of ``dockerfile`` (default: its folder)."""
    if context_dir is None:
        context_dir = dockerfile.parent if dockerfile is not None else None
    ctx = Context(dockerfile=dockerfile, context_dir=context_dir, config=config, offline=offline, resolver=resolver)
    if context_dir is None:
        return ctx
    root = context_dir.resolve()

    seen: dict[str, str | None] = {}

    def read_file(rel: str) -> str | None:
        if rel not in seen:  # transforms ask for the same files every round: read each once
            p = (root / rel).resolve()
            inside = root == p or root in p.parents  # never read outside the context
            seen[rel] = _read_text(p) if inside else None
        return seen[rel]

    ctx.read_file = read_file
    pj = root / "package.json"
    if pj.exists():
        text = _read_text(pj)
        if text is None:
            ctx.package_error = "package.json is not a readable UTF-8 file"
        else:
            try:
                data = json.loads(text)
            except ValueError as e:
                ctx.package_error = f"package.json is not valid JSON ({e.msg} at line {e.lineno})"
            else:
                if isinstance(data, dict):
                    ctx.package = PackageJson(data)
                else:
                    ctx.package_error = "package.json does not hold a JSON object"
    for name, _kind in LOCKFILES:
        if (root / name).is_file():
            ctx.lockfile = name
            head = None
            if name == "yarn.lock":
                try:
                    with open(root / name, encoding="utf-8", errors="replace") as fh:
                        head = fh.read(4096)
                except OSError:
                    head = None
            ctx.lock_kind = lock_kind_of(name, head)
            break
    ctx.locked_packages, ctx.lockfile_version = _locked_packages(root, ctx.lockfile, ctx.lock_kind)
    ctx.yarnrc_yml = _read_text(root / ".yarnrc.yml")
    ctx.yarn_releases = _listing(root / ".yarn" / "releases")
    ctx.yarn_plugins = _listing(root / ".yarn" / "plugins", recursive=True)
    nvm = _read_text(root / ".nvmrc")
    ctx.nvmrc = nvm.strip() if nvm else None
    ctx.dockerignore = _read_text(root / ".dockerignore")
    return ctx


def _listing(folder: Path, recursive: bool = False) -> tuple[str, ...]:
    try:
        if not folder.is_dir():
            return ()
        files = folder.rglob("*") if recursive else folder.iterdir()
        return tuple(sorted(str(p.relative_to(folder)) for p in files if p.is_file()))[:200]
    except OSError:
        return ()


_YARN_ENTRY_RE = re.compile(r'(?m)^"?((?:@[^@/\s"]+/)?[^@\s",]+)@[^\n]*:\n\s+version:? "?([^"\s]+)"?')
_PNPM_KEY_RE = re.compile(r"^/?((?:@[^@/]+/)?[^@/]+)[@/]([^(/]+)")


def _locked_packages(root: Path, name: str | None, kind: str | None) -> tuple[tuple[LockedPackage, ...], int | None]:
    """What the lockfile says is installed (never raises: unreadable means unknown)."""
    if name is None:
        return (), None
    text = _read_text(root / name, limit=64_000_000)
    if text is None:
        return (), None
    if kind == "npm":
        try:
            data = json.loads(text)
        except ValueError:
            return (), None
        if not isinstance(data, dict):
            return (), None
        version = data.get("lockfileVersion") if isinstance(data.get("lockfileVersion"), int) else None
        out = []
        packages = data.get("packages")
        if isinstance(packages, dict):  # lockfile v2/v3
            for path, v in packages.items():
                if not path or not isinstance(v, dict) or "node_modules/" not in path:
                    continue
                pkg = path.rsplit("node_modules/", 1)[1]
                engines = v.get("engines")
                node = engines.get("node") if isinstance(engines, dict) else None
                if isinstance(engines, list):  # very old packages wrote ["node >= 0.4"]
                    node = None
                out.append(LockedPackage(pkg, v.get("version") if isinstance(v.get("version"), str) else None,
                                         node if isinstance(node, str) else None, bool(v.get("hasInstallScript")),
                                         bool(v.get("dev"))))
        elif isinstance(data.get("dependencies"), dict):  # lockfile v1: versions only
            stack = list(data["dependencies"].items())
            while stack:
                pkg, v = stack.pop()
                if isinstance(v, dict):
                    out.append(LockedPackage(pkg, v.get("version") if isinstance(v.get("version"), str) else None,
                                             dev=bool(v.get("dev"))))
                    if isinstance(v.get("dependencies"), dict):
                        stack.extend(v["dependencies"].items())
        return tuple(out), version
    if kind in ("yarn-v1", "yarn-berry"):
        return tuple(LockedPackage(m.group(1), m.group(2)) for m in _YARN_ENTRY_RE.finditer(text)), None
    if kind == "pnpm":
        try:
            import yaml

            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C loader: large locks
        except Exception:
            return (), None
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
        return tuple(out), None
    return (), None
