"""The Node.js major-upgrade pull request of ``dockerfix pr`` (``--upgrade-node``).

A major upgrade needs the app's tests, so it never rides along with the hardening fixes: the bot
makes a second, in-memory run with only DFX003 (``upgrade_node=True``, unsafe fixes on) and DFX002
(so the new tag is pinned when the registry is reachable), and proposes it on a branch of its own.

:func:`upgrade_only` keeps, from that run, exactly the ``FROM`` lines whose node major went up:
the new text is the old text with those image references replaced (and nothing else: pins of other
images, a ``# syntax`` pin, ``node`` → ``node:26`` are the hardening run's business).
:func:`upgrade_title` and :func:`render_upgrade_body` describe it: the from/to versions, the
evidence DFX003 checked, the lines it ruled out and what the team should test.
"""

from __future__ import annotations

from dataclasses import dataclass

from .formats import FINGERPRINT_MARK

UPGRADE_CODES = ("DFX003", "DFX002")  # the upgrade, and the pin that must follow a new tag


@dataclass
class Move:
    """One upgraded FROM: line, old and new reference, old and new major."""

    line: int
    old: str
    new: str
    old_major: int
    new_major: int


def _major(base: str):
    from .imageref import ImageRefError
    from .imageref import parse as parse_ref
    from .node_images import images

    try:
        ref = parse_ref(base)
    except ImageRefError:
        return None, None
    from dockerfix.transforms._images import is_official_node

    if ref.is_scratch or not is_official_node(ref) or not ref.tag:
        return None, None
    return ref, images().parse_tag(ref.tag).major


def upgrade_only(outcomes: list) -> list:
    """The outcomes of the upgrade run reduced to their major upgrades; each kept outcome gets a
    ``moves`` list of :class:`Move`.  Files without a major upgrade are dropped."""
    from .document import ParseError, parse
    from .edits import Edit, apply_edits

    kept = []
    for o in outcomes:
        r = o.result
        if r.status != "changed" or r.after == r.before:
            continue
        try:
            old_doc, new_doc = parse(r.before), parse(r.after)
        except ParseError:
            continue
        if len(old_doc.stages) != len(new_doc.stages):
            continue  # DFX003/DFX002 only rewrite image references: this is not their output
        edits, moves = [], []
        for old_st, new_st in zip(old_doc.stages, new_doc.stages):
            if old_st.base == new_st.base:
                continue
            old_ref, old_major = _major(old_st.base)
            new_ref, new_major = _major(new_st.base)
            if old_major is None or new_major is None or new_major <= old_major:
                continue  # a pin, or `node` made explicit: not an upgrade
            edits.append(Edit.replace(old_st.base_span, new_st.base))
            moves.append(Move(old_st.from_.line, old_st.base, new_st.base, old_major, new_major))
        if not moves:
            continue
        text = apply_edits(old_doc.source, edits)
        r.after = ("\ufeff" if old_doc.bom else "") + text
        r.extra_files = {}
        lines = {m.line for m in moves}
        r.applied = [f for f in r.applied if f.path is None and f.line in lines and f.code in UPGRADE_CODES]
        r.pending = [f for f in r.pending if f.code == "DFX003" and f.line in lines]
        r.skips = [s for s in r.skips if s.line in lines]
        o.moves = moves
        kept.append(o)
    return kept


def _versions(majors) -> str:
    return ", ".join(str(m) for m in sorted(set(majors)))


def upgrade_title(outcomes: list) -> str:
    moves = [m for o in outcomes for m in o.moves]
    title = f"Upgrade Node.js {_versions(m.old_major for m in moves)} → {_versions(m.new_major for m in moves)}"
    pairs = sorted({(m.old.split("@")[0], m.new.split("@")[0]) for m in moves})
    if len(pairs) == 1:
        title += f" ({pairs[0][0]} → {pairs[0][1]})"
    else:
        files = len(outcomes)
        title += f" ({len(moves)} images in {files} {'file' if files == 1 else 'files'})"
    return title


def _split_top(text: str) -> list[str]:
    """``a, b (c, d), e`` → ``[a, b (c, d), e]``."""
    out, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def render_upgrade_body(outcomes: list, *, fingerprint_value: str | None, hardening_branch: str) -> str:
    moves = [m for o in outcomes for m in o.moves]
    new = _versions(m.new_major for m in moves)
    lines = [f"dockerfix proposes a **Node.js major upgrade** to {new}: the images below are on end-of-life "
             "Node.js lines, which get no security fixes. A major upgrade can break the app, so it comes in a "
             f"pull request of its own (the hardening fixes are on `{hardening_branch}`); merge it once the app's "
             "tests pass on the new major.", ""]
    checked: list[str] = []
    ruled_out: list[str] = []
    notes: list[str] = []
    messages: list[str] = []
    for o in outcomes:
        r = o.result
        lines += [f"### `{r.path}`", "", "| Line | From | To |", "|---|---|---|"]
        lines += [f"| {m.line} | `{m.old}` | `{m.new}` |" for m in o.moves]
        lines.append("")
        for f in sorted(r.applied, key=lambda f: (f.line, f.code)):
            if f.code != "DFX003":
                continue
            messages.append(f"- line {f.line}: {f.message}")
            for note in f.notes:
                if note.startswith("checked: "):
                    checked += [c for c in _split_top(note[len("checked: "):]) if c not in checked]
                elif note.startswith("ruled out "):
                    if note[len("ruled out "):] not in ruled_out:
                        ruled_out.append(note[len("ruled out "):])
                elif note not in notes:
                    notes.append(note)
        if messages:
            lines += ["**Why**", "", *messages, ""]
            messages = []
        if r.skips:
            lines += ["**Skipped**", ""] + [f"- {s.code} line {s.line}: {s.reason}" for s in r.skips] + [""]
    lines += ["### Evidence checked", "",
              "dockerfix chose the newest supported LTS line that all of this allows:", ""]
    lines += [f"- {c}" for c in checked] or ["- (none recorded)"]
    lines.append("")
    if ruled_out:
        lines += ["Newer lines ruled out:", ""] + [f"- Node.js {r}" for r in ruled_out] + [""]
    lines += ["### What to test", "",
              f"- Build the image and run the app's tests on Node.js {new} (in the image, not only on a "
              "developer machine): the release notes of every major in between list removed and changed APIs."]
    if min(m.old_major for m in moves) < 17:
        lines.append("- Start the container and exercise the app: OpenSSL 3 (Node.js 17 and later) rejects old "
                     "algorithms and keys at run time.")
    tools = next((c for c in checked if c.startswith("package managers in the image (")), "")
    if tools and "npm only" not in tools:
        used = tools[len("package managers in the image ("):].rstrip(")")
        lines.append(f"- The install steps that run {used}: the version the node:{new} image brings may differ "
                     "from the one the lockfile was made with.")
    lines += [f"- {n[0].upper()}{n[1:]}." for n in notes]
    if any("distribution changes" in o_m for o_m in (f.message for o in outcomes for f in o.result.applied)):
        lines.append("- The Linux distribution changes (see above): packages installed with `apt-get` may have "
                     "other names or versions; check every `RUN apt-get install` line.")
    lines += ["", "### Configure or stop", "",
              "- Closing this pull request without merging it stops dockerfix from proposing exactly this "
              "upgrade again; it proposes a new one when the Dockerfiles or the evidence change.",
              "- No upgrade pull requests at all: drop `--upgrade-node` (or set `upgrade-node = false` under "
              "`[tool.dockerfix]`); one image: `# dockerfix: ignore=DFX003` on the line above its `FROM`.",
              "", "<sub>Opened by `dockerfix pr --upgrade-node`. Edits pushed to this branch by people are never "
              "overwritten; dockerfix then stops updating it and says so here.</sub>", ""]
    if fingerprint_value:
        lines.append(f"<!-- {FINGERPRINT_MARK}: {fingerprint_value} -->")
    return "\n".join(lines).rstrip() + "\n"
