"""Evidence for the parser decision: four Dockerfile parsers on fixtures/_parser/.

    python bench/parser_candidates.py [--no-install] [DIR_OR_FILES...]

Candidates:

* ``dockerfix``: ``dockerfix.fixer.document.parse`` (our lossless scanner);
* ``buildkit``: BuildKit's own parser, compiled from Go (PyPI ``dockerfile``): the reference;
* ``tree-sitter``: tree-sitter-dockerfile (PyPI ``tree-sitter`` + ``tree-sitter-dockerfile``);
* ``dockerfile-parse``: PyPI ``dockerfile-parse`` (Red Hat's pure-Python parser).

Missing optional candidates are pip-installed unless ``--no-install`` (they are bench-only
dependencies, never runtime ones).  Per file and candidate two questions:

* **boundaries**: is the list of (KEYWORD, first line, last line) per instruction identical to
  BuildKit's?  ``=`` yes; ``≠ n/m`` n of m instructions differ (or the counts differ); ``err``
  the parser raised or reported a syntax error.
* **lossless**: can the bytes of the file be reproduced from what the parser returns, with no
  access to the original text?  dockerfix: the segments (plus the BOM flag); BuildKit: the
  ``original`` lines; dockerfile-parse: the ``content`` of its structure; tree-sitter: the leaf
  tokens (its nodes do have exact byte offsets into the source, shown as "spans").
"""

from __future__ import annotations

import argparse
import importlib
import io
import subprocess
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO / "fixtures" / "_parser"
OPTIONAL = {"dockerfile": "dockerfile", "tree_sitter": "tree-sitter", "tree_sitter_dockerfile": "tree-sitter-dockerfile",
            "dockerfile_parse": "dockerfile-parse"}

Bounds = list[tuple[str, int, int]]


def ensure(module: str, install: bool) -> bool:
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        pass
    if not install:
        return False
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", OPTIONAL[module]], capture_output=True)
    if proc.returncode != 0:
        return False
    importlib.invalidate_caches()
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


def decode(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text


# -- candidates: each returns (boundaries, lossless, spans) -----------------------------------


def cand_dockerfix(raw: bytes) -> tuple[Bounds, bool, bool]:
    from dockerfix.fixer.document import parse

    doc = parse(raw.decode("utf-8"))  # the scanner records and strips the BOM itself
    rendered = ("\ufeff" if doc.bom else "") + "".join(s.text for s in doc.segments)
    return [(i.keyword, i.line, i.end_line) for i in doc.instructions], rendered.encode("utf-8") == raw, True


def cand_buildkit(raw: bytes) -> tuple[Bounds, bool, bool]:
    import dockerfile

    cmds = dockerfile.parse_string(decode(raw))
    rebuilt = "\n".join(c.original for c in cmds)
    return [(c.cmd.upper(), c.start_line, c.end_line) for c in cmds], rebuilt.encode() == raw, False


_TS_PARSER = None


def cand_tree_sitter(raw: bytes) -> tuple[Bounds, bool, bool]:
    global _TS_PARSER
    from tree_sitter import Language, Parser
    import tree_sitter_dockerfile

    if _TS_PARSER is None:
        with warnings.catch_warnings():  # tree-sitter 0.25+ warns about the int capsule of older grammars
            warnings.simplefilter("ignore", DeprecationWarning)
            _TS_PARSER = Parser(Language(tree_sitter_dockerfile.language()))
    tree = _TS_PARSER.parse(raw)
    root = tree.root_node
    if root.has_error:
        raise SyntaxError("tree has ERROR/MISSING nodes")
    out = []
    for n in root.named_children:
        if not n.type.endswith("_instruction"):
            continue
        kw = n.type[: -len("_instruction")].upper()
        end_row = n.end_point.row
        if n.end_point.column == 0 and end_row > n.start_point.row:
            end_row -= 1
        out.append((kw, n.start_point.row + 1, end_row + 1))
    leaves: list[bytes] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.child_count == 0:
            leaves.append(node.text or b"")
        else:
            stack.extend(reversed(node.children))
    spans = root.start_byte == 0 and root.end_byte == len(raw)
    return out, b"".join(leaves) == raw, spans


def cand_dockerfile_parse(raw: bytes) -> tuple[Bounds, bool, bool]:
    from dockerfile_parse import DockerfileParser

    p = DockerfileParser(fileobj=io.BytesIO(raw))
    items = p.structure
    out = [(s["instruction"].upper(), s["startline"] + 1, s["endline"] + 1) for s in items if s["instruction"] != "COMMENT"]
    rebuilt = "".join(s["content"] for s in items)
    return out, rebuilt.encode("utf-8") == raw, False


CANDIDATES = [
    ("dockerfix", None, cand_dockerfix),
    ("buildkit", "dockerfile", cand_buildkit),
    ("tree-sitter", "tree_sitter_dockerfile", cand_tree_sitter),
    ("dockerfile-parse", "dockerfile_parse", cand_dockerfile_parse),
]


def compare(ours: Bounds, ref: Bounds) -> str:
    if ours == ref:
        return "="
    differ = sum(1 for a, b in zip(ours, ref) if a != b) + abs(len(ours) - len(ref))
    return f"≠ {differ}/{len(ref)}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Compare Dockerfile parsers against BuildKit's")
    ap.add_argument("paths", nargs="*", type=Path, default=[DEFAULT_DIR])
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true", help="print the differing boundaries")
    args = ap.parse_args(argv)

    files: list[Path] = []
    for p in args.paths:
        files += sorted(p.glob("*")) if p.is_dir() else [p]
    files = [f for f in files if f.is_file()]

    available = []
    missing = []
    for name, module, fn in CANDIDATES:
        mods = [] if module is None else (["tree_sitter", module] if name == "tree-sitter" else [module])
        if all(ensure(m, not args.no_install) for m in mods):
            available.append((name, fn))
        else:
            missing.append(name)
    if not any(n == "buildkit" for n, _ in available):
        print("BuildKit's parser (pip install dockerfile) is needed as the reference", file=sys.stderr)
        return 2

    for _, fn in available:  # warm up (imports, grammar loading) outside the timing
        try:
            fn(files[0].read_bytes())
        except Exception:  # noqa: BLE001
            pass

    header = ["file"] + [f"{n}: boundaries / lossless" for n, _ in available]
    rows = []
    totals = {n: [0, 0, 0.0] for n, _ in available}  # boundaries ok, lossless ok, seconds
    details = []
    for f in files:
        raw = f.read_bytes()
        ref, *_ = cand_buildkit(raw)
        row = [f.name]
        for name, fn in available:
            t0 = time.perf_counter()
            try:
                bounds, lossless, spans = fn(raw)
            except Exception as e:  # noqa: BLE001 - any failure is a finding
                totals[name][2] += time.perf_counter() - t0
                row.append(f"err ({type(e).__name__}) / –")
                details.append(f"{f.name} {name}: {type(e).__name__}: {str(e)[:120]}")
                continue
            totals[name][2] += time.perf_counter() - t0
            verdict = compare(bounds, ref)
            totals[name][0] += verdict == "="
            totals[name][1] += lossless
            lossless_txt = "yes" if lossless else ("no (byte spans)" if spans else "no")
            row.append(f"{verdict} / {lossless_txt}")
            if verdict != "=" and args.verbose:
                details.append(f"{f.name} {name}: got {bounds} want {ref}")
        rows.append(row)

    print(f"## Parser candidates on {len(files)} files ({', '.join(str(p) for p in args.paths)})\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print("| **total** | " + " | ".join(
        f"**{totals[n][0]}/{len(files)} / {totals[n][1]}/{len(files)}**" for n, _ in available) + " |")
    print()
    versions = []
    for dist in ("dockerfix", "dockerfile", "tree-sitter", "tree-sitter-dockerfile", "dockerfile-parse"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    print("versions: " + ", ".join(versions))
    print("parse time for all files: " + ", ".join(f"{n} {totals[n][2] * 1000:.1f} ms" for n, _ in available))
    if missing:
        print("not available: " + ", ".join(missing))
    if details:
        print("\nfailures:" if not args.verbose else "\ndetails:")
        for d in details:
            print(f"- {d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
