"""Configuration: ``[tool.dockerfix]`` in ``pyproject.toml`` or a ``.dockerfix.toml`` file.

Keys (all optional)::

    select = ["DFX001", ...]      # only these transforms (default: all)
    ignore = ["DFX004"]           # never these
    unsafe-fixes = false          # also apply unsafe fixes
    upgrade-node = false          # offer Node.js major upgrades of end-of-life node images (DFX003)
    user = "node"                 # runtime user: a name ("node") or a uid ("1000")
    platforms = ["linux/amd64", "linux/arm64"]   # platforms a pinned base must offer
    registry-mirrors = { "docker.io" = "http://127.0.0.1:5000" }
    cache-ttl = 86400             # seconds a resolved digest stays fresh in the on-disk cache
    runtime-variant = "slim"      # what DFX012 moves a full Debian node production stage to:
                                  # "slim" (default) or "alpine" (only without native code)

Unknown keys and unknown codes are errors (exit 2) rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KNOWN_KEYS = {"select", "ignore", "unsafe-fixes", "update-pins", "upgrade-node", "user", "platforms",
              "registry-mirrors", "cache-ttl",
              "runtime-variant", "runtime_variant"}


#: Values of ``runtime-variant`` (DFX012 slim-runtime).
RUNTIME_VARIANTS = ("slim", "alpine")


class ConfigError(ValueError):
    pass


@dataclass
class Config:
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    upgrade_node: bool = False  # major upgrades are their own decision: not implied by unsafe_fixes
    user: str = "node"
    platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64")
    registry_mirrors: dict[str, str] = field(default_factory=dict)
    cache_ttl: int = 86400
    runtime_variant: str = "slim"  # DFX012's target variant: "slim" or "alpine"
    update_pins: bool = False  # DFX002 also refreshes name:tag@digest pins whose tag has moved
    source: Path | None = None  # where it was read from

    @property
    def numeric_user(self) -> bool:
        return self.user.isdigit()


def _codes(value: Any, key: str, where: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of codes such as [\"DFX001\"]")
    return tuple(v.upper() for v in value)


def parse_config(data: dict[str, Any], where: Path) -> Config:
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        import difflib

        named = []
        for key in unknown:  # "did you mean": a typo of a known key (unsafe_fixes, selct...)
            close = difflib.get_close_matches(key.replace("_", "-").lower(), sorted(KNOWN_KEYS), n=1, cutoff=0.6)
            named.append(f"{key} (did you mean {close[0]}?)" if close else key)
        raise ConfigError(f"{where}: unknown key(s) {', '.join(named)} (known: {', '.join(sorted(KNOWN_KEYS))})")
    cfg = Config(source=where)
    if "select" in data:
        cfg.select = _codes(data["select"], "select", where)
    if "ignore" in data:
        cfg.ignore = _codes(data["ignore"], "ignore", where)
    if "update-pins" in data:
        if not isinstance(data["update-pins"], bool):
            raise ConfigError(f"{where}: `update-pins` must be true or false")
        cfg.update_pins = data["update-pins"]
    if "unsafe-fixes" in data:
        if not isinstance(data["unsafe-fixes"], bool):
            raise ConfigError(f"{where}: `unsafe-fixes` must be true or false")
        cfg.unsafe_fixes = data["unsafe-fixes"]
    if "upgrade-node" in data:
        if not isinstance(data["upgrade-node"], bool):
            raise ConfigError(f"{where}: `upgrade-node` must be true or false")
        cfg.upgrade_node = data["upgrade-node"]
    if "user" in data:
        u = data["user"]
        if isinstance(u, int):
            u = str(u)
        if not isinstance(u, str) or not u or u in ("root", "0"):
            raise ConfigError(f"{where}: `user` must be a non-root user name or uid")
        cfg.user = u
    if "platforms" in data:
        p = data["platforms"]
        if not isinstance(p, list) or not all(isinstance(v, str) and "/" in v for v in p):
            raise ConfigError(f"{where}: `platforms` must be a list like [\"linux/amd64\"]")
        cfg.platforms = tuple(p)
    if "registry-mirrors" in data:
        m = data["registry-mirrors"]
        if not isinstance(m, dict) or not all(isinstance(v, str) for v in m.values()):
            raise ConfigError(f"{where}: `registry-mirrors` must map registry hosts to URLs")
        cfg.registry_mirrors = dict(m)
    if "cache-ttl" in data:
        t = data["cache-ttl"]
        if not isinstance(t, int) or t < 0:
            raise ConfigError(f"{where}: `cache-ttl` must be a number of seconds")
        cfg.cache_ttl = t
    for key in ("runtime-variant", "runtime_variant"):
        if key in data:
            v = data[key]
            if v not in RUNTIME_VARIANTS:
                raise ConfigError(f"{where}: `{key}` must be one of {', '.join(map(repr, RUNTIME_VARIANTS))}")
            cfg.runtime_variant = v
    return cfg


def load_config(path: Path | None = None, start: Path | None = None,
                memo: dict[Path, Config | None] | None = None) -> Config:
    """Read an explicit config file, or look upward from ``start`` for ``.dockerfix.toml`` or a
    ``pyproject.toml`` with a ``[tool.dockerfix]`` table.  ``memo`` (one dict per run) remembers
    what each folder holds, so many Dockerfiles under one tree share the upward walk."""
    if path is not None:
        return _load_file(path, explicit=True) or Config(source=path)
    memo = {} if memo is None else memo
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if d not in memo:
            found = None  # a broken file raises before anything is remembered
            for name in (".dockerfix.toml", "pyproject.toml"):
                found = _load_file(d / name, explicit=False)
                if found is not None:
                    break
            memo[d] = found
        cached = memo[d]
        if cached is not None:
            return cached
    return Config()


def _load_file(p: Path, explicit: bool) -> Config | None:
    if not p.is_file():
        if explicit:
            raise ConfigError(f"{p}: no such config file")
        return None
    import tomllib  # only when a config file exists: ~5 ms of start-up otherwise

    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: invalid TOML: {e}") from None
    if p.name == "pyproject.toml":
        table = data.get("tool", {}).get("dockerfix")
        if table is None:
            return None if not explicit else Config(source=p)
        if not isinstance(table, dict):
            raise ConfigError(f"{p}: [tool.dockerfix] must be a table")
        return parse_config(table, p)
    return parse_config(data, p)
