"""Build corpus/refs.json from the notes a collection session left in the cache.

The collection session (which has the search tool) writes, under ``<cache>/_raw/``:

* ``cands.json``   -- Dockerfiles found by search: repo, path and the text the search showed;
* ``facts.json``   -- per repository, the relevant paths of its file listing (path -> [commit, versions])
                      and the folders that exist;
* ``fetched.json`` -- which files were fetched into ``<cache>/<owner>__<repo>/<path>`` and from which commit;
* ``context.json`` -- the build context believed right for a Dockerfile, with the evidence (optional).

This script turns them into one reference per Dockerfile (no third-party text, only references and facts).
Usage: python corpus/make_refs.py [--cache DIR]
"""
from __future__ import annotations

import argparse
import json
import posixpath
import re
import shlex
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCKS = {"package-lock.json": "npm", "npm-shrinkwrap.json": "npm", "pnpm-lock.yaml": "pnpm", "yarn.lock": "yarn",
         "bun.lock": "bun", "bun.lockb": "bun"}
DOCKERFILE_RE = re.compile(r"(^|/)(dockerfile(\.[^/]*)?|[^/]*\.dockerfile|containerfile(\.[^/]*)?)$", re.I)


def is_dockerfile(path: str) -> bool:
    return bool(DOCKERFILE_RE.search(path)) and not path.endswith((".ps1", ".md", ".sh", ".yml", ".yaml"))


def copy_sources(text: str) -> list[str]:
    """Sources of COPY/ADD instructions that come from the build context (not --from, not URLs)."""
    out: list[str] = []
    joined = re.sub(r"\\\r?\n", " ", text)
    for line in joined.splitlines():
        m = re.match(r"\s*(COPY|ADD)\s+(.*)$", line, re.I)
        if not m:
            continue
        rest = m.group(2).strip()
        if rest.startswith("["):
            try:
                args = json.loads(rest)
            except ValueError:
                continue
        else:
            try:
                args = shlex.split(rest, posix=True)
            except ValueError:
                args = rest.split()
        flags = [a for a in args if a.startswith("--")]
        if any(f.startswith("--from") for f in flags):
            continue
        args = [a for a in args if not a.startswith("--")]
        if len(args) < 2:
            continue
        for src in args[:-1]:
            if "://" in src:
                continue
            out.append(src)
    return out


def exists_in(listing_files: set[str], listing_dirs: set[str], ctx: str, src: str) -> bool | None:
    """Does COPY source ``src`` exist relative to context ``ctx`` in the listing? None: cannot tell (glob/variable)."""
    if "$" in src:
        return None
    rel = posixpath.normpath(posixpath.join(ctx, src.lstrip("/"))) if ctx not in ("", ".") else posixpath.normpath(src.lstrip("/"))
    if rel in (".", ""):
        return True
    if any(ch in rel for ch in "*?["):
        import fnmatch
        return any(fnmatch.fnmatch(f, rel) for f in listing_files) or None
    if rel in listing_files:
        return True
    prefix = rel.rstrip("/") + "/"
    if any(f.startswith(prefix) for f in listing_files) or prefix in listing_dirs:
        return True
    return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default="/work/corpus-cache")
    args = ap.parse_args()
    raw = Path(args.cache) / "_raw"
    cands = json.loads((raw / "cands.json").read_text())
    facts = json.loads((raw / "facts.json").read_text())
    fetched = json.loads((raw / "fetched.json").read_text())
    ctxs = json.loads((raw / "context.json").read_text()) if (raw / "context.json").exists() else {}
    excerpt = {(c["repo"], c["path"]): c["text"] for c in cands}
    for (repo, path), text in excerpt.items():  # texts known only from search excerpts go to the cache too
        target = Path(args.cache) / repo.replace("/", "__") / path
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)

    dockerfiles: dict[tuple[str, str], dict] = {}
    for key, meta in fetched.items():
        repo, path = key.split(":", 1)
        if is_dockerfile(path):
            dockerfiles[(repo, path)] = {"commit": meta["commit"], "text_source": "read_file at commit"}
    for (repo, path) in excerpt:
        if (repo, path) not in dockerfiles:
            f = facts.get(repo, {"files": {}})["files"].get(path)
            dockerfiles[(repo, path)] = {"commit": f[0] if f else None,
                                         "text_source": "search excerpt (single stored version)" if f and f[1] == 1
                                         else "search excerpt (version not verified)"}
    refs = []
    for (repo, path), d in sorted(dockerfiles.items()):
        fr = facts.get(repo, {"files": {}, "dirs": []})
        files = set(fr["files"])
        dirs = set(fr.get("dirs", []))
        cache_file = Path(args.cache) / repo.replace("/", "__") / path
        text = cache_file.read_text() if cache_file.exists() else excerpt[(repo, path)]
        ck = f"{repo}:{path}"
        if ck in ctxs:
            ctx, evidence = ctxs[ck]["context"], ctxs[ck]["evidence"]
        else:
            ctx, evidence = posixpath.dirname(path) or ".", "default: the Dockerfile's folder"
            srcs = [s for s in copy_sources(text) if s not in (".", "./")]
            if ctx != "." and srcs and not any(exists_in(files, dirs, ctx, s) for s in srcs) \
                    and any(exists_in(files, dirs, ".", s) for s in srcs):
                ctx, evidence = ".", "COPY sources exist only relative to the repository root"
        pj = "package.json" if ctx == "." else f"{ctx}/package.json"
        locks = sorted(p for p in files if posixpath.dirname(p) == ("" if ctx == "." else ctx)
                       and posixpath.basename(p) in LOCKS)
        kinds = []
        for lp in locks:
            k = LOCKS[posixpath.basename(lp)]
            if k == "yarn":
                base = "" if ctx == "." else ctx + "/"
                berry = any(p.startswith(base + ".yarn/") or p in (base + ".yarnrc.yml", base + ".pnp.cjs")
                            for p in files) or any(d.startswith(base + ".yarn") for d in dirs)
                pjt = Path(args.cache) / repo.replace("/", "__") / pj
                if pjt.exists():
                    pm = json.loads(pjt.read_text()).get("packageManager", "")
                    if pm.startswith("yarn@") and not pm.startswith("yarn@1"):
                        berry = True
                    elif pm.startswith("yarn@1"):
                        berry = False
                k = "yarn-berry" if berry else "yarn-v1"
            kinds.append(k)
        # the lockfile the Dockerfile names wins when the listing (a union over history) holds several
        chosen = None
        for lp, k in zip(locks, kinds):
            if posixpath.basename(lp) in text:
                chosen = k
                break
        if chosen is None and kinds:
            chosen = kinds[0] if len(set(kinds)) == 1 else "ambiguous:" + "+".join(sorted(set(kinds)))
        srcs = copy_sources(text)
        refs.append({
            "repo": repo,
            "path": path,
            "commit": d["commit"],
            "text_source": d["text_source"],
            "listing_partial": fr.get("partial") or ("truncated" if fr.get("truncated") else None),
            "context": ctx,
            "context_evidence": evidence,
            "package_json": pj if pj in files else None,
            "package_json_fetched": (Path(args.cache) / repo.replace("/", "__") / pj).exists(),
            "lockfiles": locks,
            "lockfile_kind": chosen or "none",
            "nvmrc": (".nvmrc" if ctx == "." else f"{ctx}/.nvmrc") in files,
            "dockerignore": (".dockerignore" if ctx == "." else f"{ctx}/.dockerignore") in files,
            "copy_sources": {s: exists_in(files, dirs, ctx, s) for s in srcs},
        })
    out = HERE / "refs.json"
    out.write_text(json.dumps({"comment": "References only (repository, path, commit) and the build-context facts "
                               "recorded from each repository's file listing; texts live in the uncommitted cache. "
                               "See corpus/README.md.", "refs": refs}, indent=1) + "\n")
    print(f"{len(refs)} Dockerfiles from {len({r['repo'] for r in refs})} repositories -> {out}")


if __name__ == "__main__":
    main()
