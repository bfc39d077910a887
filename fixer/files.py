"""Finding, reading and writing Dockerfiles.

* :func:`discover` turns the PATH arguments into an ordered list of :class:`Target` s.  A
  directory is searched recursively for ``Dockerfile``, ``*.Dockerfile``, ``Dockerfile.*``,
  ``Containerfile`` and ``Containerfile.*`` (names ending in ``.dockerignore`` excluded), skipping
  ``.git``, ``node_modules`` and whatever the ``.gitignore`` files ignore (nested ones included,
  and those of the enclosing git work tree above the searched folder).  Directory symlinks are not
  followed.  A file named explicitly is always processed.  ``-`` stands for standard input.
* :func:`read_source` reads bytes and decodes them as UTF-8 without newline translation (a byte
  order mark stays in the text as U+FEFF; the parser records it).  Anything else is an
  :class:`InputError` with a one-line ``reason``.
* :func:`write_atomic` replaces a file with new text so that the file is at every moment either
  exactly the old or exactly the new content: temp file in the same folder, fsync, permission bits
  (and owner, when running as root) copied, ``os.replace``.  It refuses to write when the file
  changed since it was read, when it is read-only, or when it is a symlink whose target lies
  outside the discovery root.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterable, Sequence

#: Largest input read (bytes): anything bigger is not a Dockerfile.
MAX_BYTES = 8 * 1024 * 1024
SKIP_DIRS = frozenset({".git", "node_modules"})
STDIN = "-"


class InputError(Exception):
    """A file that cannot be processed; ``reason`` is one line for ``dockerfix: <path>: <reason>``."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = " ".join(reason.split("\n"))


@dataclass(frozen=True)
class Target:
    """One input: a file on disk or standard input (``path is None``)."""

    display: str  # the name shown in reports and diff headers
    path: Path | None  # None for stdin
    root: Path  # resolved discovery root: writes through symlinks must stay inside it
    explicit: bool = True

    @property
    def is_stdin(self) -> bool:
        return self.path is None


@dataclass
class Source:
    """What :func:`read_source` returns: the decoded text and the exact bytes it came from."""

    text: str
    raw: bytes
    mtime_ns: int = 0
    size: int = 0


# ---------------------------------------------------------------------------------------------
# discovery

def is_dockerfile_name(name: str) -> bool:
    if name.endswith(".dockerignore"):
        return False
    if name in ("Dockerfile", "Containerfile"):
        return True
    return (
        name.startswith("Dockerfile.")
        or name.startswith("Containerfile.")
        or (name.endswith(".Dockerfile") and len(name) > len(".Dockerfile"))
    )


@dataclass
class _Ignore:
    """The .gitignore files that apply to a folder, outermost first: (folder, spec)."""

    layers: list[tuple[Path, object]] = field(default_factory=list)

    def ignored(self, path: Path, is_dir: bool) -> bool:
        verdict = False
        for base, spec in self.layers:
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            res = spec.check_file(rel + "/" if is_dir else rel)  # type: ignore[attr-defined]
            if res.include is not None:
                verdict = bool(res.include)
        return verdict

    def plus(self, folder: Path) -> _Ignore:
        spec = _load_gitignore(folder / ".gitignore")
        return _Ignore(self.layers + [(folder, spec)]) if spec is not None else self


def _load_gitignore(p: Path):
    try:
        if not p.is_file():
            return None
        lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _outer_ignores(root: Path) -> _Ignore:
    """.gitignore files above ``root`` up to the top of its git work tree (none outside git)."""
    chain: list[Path] = []
    for d in root.parents:
        chain.append(d)
        if (d / ".git").exists():
            break
    else:
        return _Ignore()
    ign = _Ignore()
    for d in reversed(chain):
        ign = ign.plus(d)
    return ign


def _walk(root: Path, ign: _Ignore) -> Iterable[Path]:
    ign = ign.plus(root)
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    dirs = []
    for e in entries:
        p = Path(e.path)
        try:
            is_dir = e.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if e.name in SKIP_DIRS or ign.ignored(p, True):
                continue
            dirs.append(p)
        elif is_dockerfile_name(e.name) and not ign.ignored(p, False):
            try:
                if e.is_symlink() and not p.is_file():  # a dangling link or a link to a folder
                    continue
            except OSError:
                continue
            yield p
    for d in dirs:
        yield from _walk(d, ign)


def _display(arg: str, rel: str) -> str:
    if arg in (".", "./", ""):
        return rel
    return os.path.join(arg, rel)


def discover(args: Sequence[str], cwd: Path | None = None) -> tuple[list[Target], list[str]]:
    """Targets for the PATH arguments (default ``.``), in a deterministic order, each file once.

    Returns ``(targets, notes)``; notes are warnings such as "no Dockerfiles found" for a folder.
    """
    cwd = (cwd or Path.cwd()).resolve()
    targets: list[Target] = []
    notes: list[str] = []
    seen: set[Path] = set()
    for arg in args or ["."]:
        if arg == STDIN:
            targets.append(Target("-", None, cwd))
            continue
        p = Path(arg)
        full = p if p.is_absolute() else cwd / p
        if full.is_dir():  # a folder (or a symlink to one, named explicitly): search it
            root = full.resolve()
            found = 0
            for f in _walk(root, _outer_ignores(root)):
                key = Path(os.path.abspath(f))
                if key in seen:
                    continue
                seen.add(key)
                found += 1
                targets.append(Target(_display(arg, f.relative_to(root).as_posix()), f, root, explicit=False))
            if not found:
                notes.append(f"{arg}: no Dockerfiles found")
            continue
        key = Path(os.path.abspath(full))
        if key in seen:
            continue
        seen.add(key)
        # an explicit file: its root is the working directory when it lies inside it, else its folder
        parent = Path(os.path.abspath(full)).parent.resolve()
        root = cwd if (parent == cwd or cwd in parent.parents) else parent
        targets.append(Target(arg, full, root, explicit=True))
    return targets, notes


# ---------------------------------------------------------------------------------------------
# reading

def decode(raw: bytes, name: str) -> str:
    """Bytes -> text, or :class:`InputError`.  No newline translation; a BOM stays as U+FEFF."""
    if not raw:
        raise InputError(name, "empty file")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(name, f"UTF-16 text (byte order mark {raw[:2].hex(' ').upper()}); "
                         "BuildKit reads UTF-8 only")
    if b"\x00" in raw:
        raise InputError(name, f"binary file (NUL byte at offset {raw.index(0)})")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(name, f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                         "BuildKit reads UTF-8 only") from None


def _os_reason(e: OSError) -> str:
    if isinstance(e, FileNotFoundError):
        return "no such file or directory"
    if isinstance(e, IsADirectoryError):
        return "is a directory, expected a Dockerfile"
    if isinstance(e, PermissionError):
        return "permission denied"
    if e.errno == errno.ENOTDIR:
        return "not a directory in the path"
    return (e.strerror or str(e)).lower()


def read_source(target: Target) -> Source:
    """Read and decode one target (stdin when ``target.path`` is None)."""
    if target.path is None:
        raw = sys.stdin.buffer.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise InputError(target.display, f"input larger than {MAX_BYTES // (1024 * 1024)} MiB")
        return Source(decode(raw, target.display), raw)
    p = target.path
    try:
        st = os.stat(p)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(target.display, "is a directory, expected a Dockerfile")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(target.display, "not a regular file")
        if st.st_size > MAX_BYTES:
            raise InputError(target.display, f"file larger than {MAX_BYTES // (1024 * 1024)} MiB")
        with open(p, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as e:
        raise InputError(target.display, _os_reason(e)) from None
    return Source(decode(raw, target.display), raw, st.st_mtime_ns, st.st_size)


# ---------------------------------------------------------------------------------------------
# writing

def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def write_atomic(path: Path, text: str, original_bytes: bytes | None, *, root: Path | None = None,
                 display: str | None = None) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically.

    ``original_bytes`` is what was read (None: the file must not exist yet, e.g. a new
    ``.dockerignore``).  Raises :class:`InputError` (nothing written) when the file changed on
    disk since, is read-only, or is a symlink whose target leaves ``root``.
    """
    name = display or str(path)
    data = text.encode("utf-8")
    path = Path(os.path.abspath(path))
    real = path
    if path.is_symlink():
        real = Path(os.path.realpath(path))
        if root is not None and not _inside(real, Path(os.path.realpath(root))):
            raise InputError(name, f"is a symlink to {real}, outside {root}; not written")
    try:
        st = os.stat(real)
    except FileNotFoundError:
        if original_bytes is not None:
            raise InputError(name, "was removed since it was read; not written") from None
        st = None
    except OSError as e:
        raise InputError(name, _os_reason(e)) from None
    if st is not None:
        if original_bytes is None:
            raise InputError(name, "appeared on disk since it was read; not written")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(name, "not a regular file; not written")
        if not st.st_mode & 0o222 or not os.access(real, os.W_OK):
            raise InputError(name, f"read-only file (mode {stat.S_IMODE(st.st_mode):04o}); not written")

    def unchanged_on_disk() -> None:  # last look before the switch: the file must still be what we read
        if st is not None and _current_bytes(real) != original_bytes:
            raise InputError(name, "changed on disk since it was read; not written")
        if st is None and os.path.lexists(real):
            raise InputError(name, "appeared on disk since it was read; not written")

    try:
        replace_file(real, data, mode=stat.S_IMODE(st.st_mode) if st is not None else None,
                     owner=(st.st_uid, st.st_gid) if st is not None else None, durable=True,
                     last_check=unchanged_on_disk)
    except TempFileError as e:
        raise InputError(name, f"cannot write in {real.parent}: {_os_reason(e.cause)}") from None
    except OSError as e:
        raise InputError(name, f"cannot write: {_os_reason(e)}") from None


class TempFileError(OSError):
    """The temporary file beside the target could not be created (``cause``: the OSError)."""

    def __init__(self, folder: Path, cause: OSError):
        super().__init__(cause.errno, cause.strerror, str(folder))
        self.cause = cause


def replace_file(path: Path, data: bytes, *, mode: int | None = None, owner: tuple[int, int] | None = None,
                 durable: bool = False, last_check: Callable[[], None] | None = None) -> None:
    """Replace ``path`` with ``data`` atomically: a temporary file in the same folder, then
    ``os.replace``, so a reader sees the old or the new content, never half of one.  The one
    place dockerfix writes files (Dockerfiles, ``.dockerignore``, the digest and release caches).

    ``mode``: permission bits of the new file (default ``0o666`` minus the umask); ``owner``:
    ``(uid, gid)`` to keep, when running as root; ``durable``: fsync the data and the folder;
    ``last_check``: called just before the switch, may raise to abort.  The temporary file is
    removed on any failure; :class:`TempFileError` when it cannot be created, else OSError.
    """
    import tempfile  # only writes need it

    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".dockerfix-tmp", dir=folder)
    except OSError as e:
        raise TempFileError(folder, e) from e
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
            if mode is None:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.fchmod(fh.fileno(), mode)
            if owner is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
                try:
                    os.fchown(fh.fileno(), *owner)
                except OSError:
                    pass
        if last_check is not None:
            last_check()
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        _fsync_dir(folder)


def _current_bytes(p: Path) -> bytes | None:
    try:
        with open(p, "rb") as fh:
            return fh.read(MAX_BYTES + 1)
    except OSError:
        return None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["InputError", "Target", "Source", "discover", "read_source", "decode", "write_atomic", "replace_file",
           "TempFileError", "is_dockerfile_name", "STDIN"]
