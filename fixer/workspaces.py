"""Workspaces: which ``package.json`` of the build context counts for a folder.

In an npm/yarn workspace (root ``package.json`` ``workspaces``) or a pnpm workspace
(``pnpm-workspace.yaml``), ``npm start`` run in ``packages/api`` runs *that* package's scripts,
not the root's.  These functions answer from the build context's file snapshot alone (no I/O):
they are facts for the transforms, computed from :class:`~dockerfix.fixer.facts.ContextFiles`.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
from dataclasses import dataclass

from .context import PackageJson
from .facts import ContextFiles


@dataclass(frozen=True)
class FolderPackage:
    """The ``package.json`` of one context folder: ``package`` when it could be read, else
    ``error`` says why (absent, not JSON...)."""

    folder: str
    package: PackageJson | None
    error: str | None = None


def read_package(files: ContextFiles, folder: str) -> FolderPackage:
    """``<folder>/package.json`` of the snapshot (``""`` is the context root)."""
    folder = _norm(folder)
    rel = f"{folder}/package.json" if folder else "package.json"
    text = files.text(rel)
    if text is None:
        why = "is not a readable UTF-8 file" if rel in files.listing else "is not in the build context"
        return FolderPackage(folder, None, f"{rel} {why}")
    try:
        data = json.loads(text)
    except ValueError as e:
        return FolderPackage(folder, None, f"{rel} is not valid JSON ({e.msg} at line {e.lineno})")
    if not isinstance(data, dict):
        return FolderPackage(folder, None, f"{rel} does not hold a JSON object")
    return FolderPackage(folder, PackageJson(data))


def workspace_patterns(files: ContextFiles, root: PackageJson | None) -> tuple[str, ...] | None:
    """The workspace globs of the context root (``package.json`` ``workspaces``, as a list or as
    ``{"packages": [...]}``, and ``pnpm-workspace.yaml`` ``packages``); None when the root is not a
    workspace root."""
    found: list[str] = []
    is_root = False
    ws = root.data.get("workspaces") if root is not None else None
    if isinstance(ws, dict):
        ws = ws.get("packages")
    if isinstance(ws, list):
        is_root = True
        found += [p for p in ws if isinstance(p, str)]
    text = files.text("pnpm-workspace.yaml")
    if text is None and "pnpm-workspace.yaml" in files.listing:
        is_root = True  # present but unreadable: a workspace whose packages are unknown
    elif text is not None:
        is_root = True
        try:
            from ruamel.yaml import YAML

            data = YAML(typ="safe").load(text)
        except Exception:  # any YAML error: the packages are unknown
            data = None
        pk = data.get("packages") if isinstance(data, dict) else None
        if isinstance(pk, list):
            found += [p for p in pk if isinstance(p, str)]
    return tuple(found) if is_root else None


def workspace_folders(files: ContextFiles, patterns: tuple[str, ...]) -> tuple[str, ...]:
    """The folders of the snapshot holding a ``package.json`` that the workspace globs select
    (``!`` exclusions applied)."""
    candidates = sorted(p[: -len("/package.json")] for p in files.listing if p.endswith("/package.json"))
    out = []
    for folder in candidates:
        hit = False
        for pat in patterns:
            neg = pat.startswith("!")
            pat = _norm(pat[1:] if neg else pat)
            if _glob_match(folder, pat):
                hit = not neg
        if hit:
            out.append(folder)
    return tuple(out)


def package_for_folder(files: ContextFiles, folder: str, root: PackageJson | None = None
                       ) -> tuple[PackageJson | None, str | None]:
    """The ``package.json`` whose scripts count for commands run in context folder ``folder``:
    ``(package, None)``, or ``(None, reason)`` when it cannot be decided.

    Outside a workspace that is the root's (what ``root`` holds).  In a workspace, the folder's
    own ``package.json`` when the folder is the root or one of the workspace packages; a folder
    inside a package counts as that package (npm walks up to the nearest ``package.json``)."""
    folder = _norm(folder)
    if root is None:
        root = read_package(files, "").package
    probe = folder
    while probe and not _has_own_package(files, probe):  # the nearest package.json, as npm finds it
        probe = posixpath.dirname(probe)
    if probe == "":
        return (root, None) if root is not None else (None, "no package.json in the build context")
    patterns = workspace_patterns(files, root)
    if patterns is not None and probe not in workspace_folders(files, patterns):
        return None, (f"{probe}/package.json is not one of the workspace packages of the root package.json, "
                      "so which scripts run there cannot be told")
    fp = read_package(files, probe)
    return fp.package, fp.error


def _has_own_package(files: ContextFiles, folder: str) -> bool:
    return f"{folder}/package.json" in files.listing


def _glob_match(folder: str, pat: str) -> bool:
    """A workspace glob (``packages/*``, ``apps/**``, ``services/api``) against a folder."""
    if pat.endswith("/**"):
        base = pat[:-3]
        return folder.startswith(base + "/") and fnmatch.fnmatchcase(folder[: len(base)], base)
    f_parts, p_parts = folder.split("/"), pat.split("/")
    if "**" in p_parts:
        i = p_parts.index("**")
        head, tail = p_parts[:i], p_parts[i + 1:]
        return (len(f_parts) >= len(head) + len(tail)
                and all(fnmatch.fnmatchcase(f, p) for f, p in zip(f_parts, head))
                and all(fnmatch.fnmatchcase(f, p) for f, p in zip(f_parts[len(f_parts) - len(tail):], tail)))
    return len(f_parts) == len(p_parts) and all(fnmatch.fnmatchcase(f, p) for f, p in zip(f_parts, p_parts))


def _norm(rel: str) -> str:
    rel = rel.replace("\\", "/")
    while rel.startswith("./"):
        rel = rel[2:]
    rel = rel.strip("/")
    return "" if rel in (".", "") else posixpath.normpath(rel)
