"""Reviewer's aid: one compact block per rewritten file (added/removed lines and automatic flags that
point at the issue-12 classes). The flags are hints for the human review, not verdicts.
Usage: python corpus/analyze.py [--out corpus/out] [--cache DIR] > corpus/out/review-aid.txt"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent


def flags_for(rec: dict, ref: dict, orig: str, fixed: str, pkg: dict | None) -> list[str]:
    f: list[str] = []
    added = [l for l in fixed.splitlines() if l not in orig.splitlines()]
    a = "\n".join(added)
    scripts = (pkg or {}).get("scripts", {}) or {}
    dev = set(((pkg or {}).get("devDependencies") or {}) if isinstance((pkg or {}).get("devDependencies"), dict) else {})
    life = {k: v for k, v in scripts.items() if k in ("preinstall", "install", "postinstall", "prepare")}
    if re.search(r"--omit=dev|--production|--prod\b|NODE_ENV=production", a) and life:
        f.append(f"C1? lifecycle scripts {life} with prod install/NODE_ENV")
    m_old = re.findall(r"^FROM\s+(?:--\S+\s+)*(\S+)", orig, re.M | re.I)
    m_new = re.findall(r"^FROM\s+(?:--\S+\s+)*(\S+)", fixed, re.M | re.I)
    if m_old != m_new:
        f.append(f"FROM {m_old} -> {m_new}")
        for o, n in zip(m_old, m_new):
            if o != n and re.search(r":2[5-9]", n) and re.search(r"\byarn\b|corepack", fixed):
                f.append("C2? yarn/corepack used on a node>=25 image")
            if re.search(r"(carbon|dubnium|erbium|fermium|gallium|hydrogen|iron|jod|lts)", n.split(":")[-1]) and re.search(r":\d+-", n):
                f.append("C3? major + codename/lts tag")
            if re.search(r"alpine3\.\d+", n) and o != n:
                f.append("C3? alpine release kept with a new major: check the tag exists")
            for rel in ("stretch", "buster", "bullseye", "jessie"):
                if rel in o and rel not in n:
                    f.append(f"C4? distro changed from {rel}")
            if ":" not in o or re.search(r":(\d+)", o) is None:
                pass
    if re.search(r"apt-get install", a) and re.search(r"stretch|jessie|buster", fixed):
        f.append("C5? apt-get added on an archived Debian release")
    if re.search(r"^USER node", fixed, re.M) and not re.search(r"^USER node", orig, re.M):
        if re.search(r"EXPOSE\s+([0-9 ]*\b(?:[1-9]\d{0,2}|10[01]\d|102[0-3])\b)", fixed):
            f.append("C7? USER node added with EXPOSE < 1024")
        if re.search(r"su-exec|gosu|setpriv|chroot", fixed):
            f.append("C7? USER node added where the entrypoint steps down itself")
        if re.search(r"^WORKDIR\s+/root", fixed, re.M):
            f.append("C7? USER node added with WORKDIR under /root")
        if re.search(r"deluser[^\n]*\bnode\b|userdel[^\n]*\bnode\b", fixed):
            f.append("C7! USER node added after the node user is deleted")
        if re.search(r"^RUN\s+mkdir", orig, re.M | re.I):
            f.append("C8? RUN mkdir as root before USER node")
    if re.search(r"dumb-init|NODE_ENV|USER node", a):
        cmd = " ".join(re.findall(r"^(?:CMD|ENTRYPOINT)\s+(.*)$", orig, re.M | re.I))
        if re.search(r"\bdev\b|nodemon|start:dev|develop|next dev|--watch", cmd):
            f.append(f"C6? runtime fixes on a dev image ({cmd.strip()})")
        if re.search(r"\btest\b", cmd):
            f.append(f"C6? runtime fixes on a test image ({cmd.strip()})")
        if not cmd:
            f.append("C6? runtime fixes on an image with no CMD/ENTRYPOINT")
        if re.search(r"^FROM\s+nginx", orig, re.M | re.I):
            f.append("C6? final stage nginx")
        if re.search(r"/entrypoint\"?\s*\]?$", cmd) and not ref.get("package_json"):
            f.append("C6? base image (entrypoint, no app)")
    if not ref.get("package_json") and re.search(r"NODE_ENV|--omit=dev|npm ci|USER node|dumb-init", a):
        f.append("C9? changes without package.json in the context")
    if ref["context"] != (str(Path(ref["path"]).parent) if "/" in ref["path"] else "."):
        f.append(f"C10? context believed {ref['context']} differs from the Dockerfile folder")
    if re.search(r"start:prod", orig) and "start:prod" in fixed:
        f.append("C11? npm run start:prod left under npm")
    if re.search(r"--only=production|--production\b|-production\b", fixed):
        f.append("C11? deprecated npm production flag left")
    hb = rec.get("hadolint_before") or {}
    ha = rec.get("hadolint_after") or {}
    up = {}
    for lvl in ("error", "warning"):
        for c, n in (ha.get(lvl) or {}).items():
            d = n - (hb.get(lvl) or {}).get(c, 0)
            if d > 0:
                up[c] = d
    if up:
        f.append(f"C12 hadolint up: {up}")
    return f


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--cache", type=Path, default=Path("/work/corpus-cache"))
    args = ap.parse_args()
    data = json.loads((args.out / "summary.json").read_text())
    refs = {(r["repo"], r["path"]): r for r in json.loads((HERE / "refs.json").read_text())["refs"]}
    for rec in data["records"]:
        if not rec.get("rewritten"):
            continue
        ref = refs[(rec["repo"], rec["path"])]
        rc = args.cache / rec["repo"].replace("/", "__")
        orig = (rc / rec["path"]).read_text()
        diff = (args.out / rec["diff_file"]).read_text()
        fixed_lines = []
        # rebuild the fixed Dockerfile from the diff is fiddly; use the diff's +/- lines for display
        pkg = None
        if ref.get("package_json") and (rc / ref["package_json"]).exists():
            pkg = json.loads((rc / ref["package_json"]).read_text())
        sections = re.split(r"(?m)^(?=--- )", diff)
        dsec = "\n".join(s for s in sections if s.startswith(f"--- a/{rec['path']}") or s.startswith("--- /dev/null\n+++ b/" + rec['path']))
        other = [s.split("\n", 2)[1][4:] for s in sections[1:] if s not in dsec]
        minus = [l[1:] for l in dsec.splitlines() if l.startswith("-") and not l.startswith("---")]
        plus = [l[1:] for l in dsec.splitlines() if l.startswith("+") and not l.startswith("+++")]
        fixed = orig
        for l in minus:
            fixed = fixed.replace(l + "\n", "", 1) if (l + "\n") in fixed else fixed
        fixed += "\n" + "\n".join(plus)
        print(f"=== {rec['repo']} {rec['path']}  [ctx {ref['context']}, lock {ref['lockfile_kind']}, pkg {ref['package_json']}]")
        print("fixes:", ", ".join(f["code"] for f in rec["fixes"] if f.get("applied")))
        for fl in flags_for(rec, ref, orig, fixed, pkg):
            print("  !", fl)
        if pkg:
            print("  scripts:", json.dumps(pkg.get("scripts", {}))[:300])
        if other:
            print("  other files written:", ", ".join(other))
        body = [l for l in dsec.splitlines() if l.startswith(("+", "-")) and not l.startswith(("+++", "---"))
                and "dockerignore" not in l and not re.match(r"^\+(node_modules|npm-debug|yarn-|\.git$|\.env|\.npmrc|Dockerfile\*|\.dockerignore|coverage|\.nyc_output|# Added by dockerfix)", l)]
        print("\n".join(body))
        print()


if __name__ == "__main__":
    main()
