"""Hypothesis strategies that write Dockerfiles from the grammar (every instruction, flags, JSON
and shell forms, heredocs, continuations with comments and blank lines, ``# escape=``, CRLF, BOM,
Unicode, long lines) and that mutate valid ones (truncation, inserted bytes and characters)."""

from __future__ import annotations

import json

from hypothesis import strategies as st

# -- words ------------------------------------------------------------------------------------

SAFE_ALPHABET = st.sampled_from(list("abcdefghijklmnopqrstuvwxyz0123456789-_./:"))
word = st.text(SAFE_ALPHABET, min_size=1, max_size=12).filter(lambda w: not w.startswith("-"))
unicode_word = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="\\`\"'#[]<>$"),
    min_size=1, max_size=8,
)
any_word = st.one_of(word, word, word, unicode_word,
                     st.sampled_from(["$HOME", "${VAR}", "${A:-b}", "'quoted word'", '"dq \\" x"', "a\\ b",
                                      "&&", "||", "|", ";", ">", "2>&1", "*", "~", "=", "--", "-x"]))
var_name = st.sampled_from(["NODE_VERSION", "BASE", "NPM_TOKEN", "APP", "a", "X_1"])

IMAGES = ["node", "node:22", "node:22-alpine", "node:latest", "node:lts-slim", "node:18",
          "docker.io/library/node:20", "ghcr.io/org/app:1.2", "registry.example:5000/team/img",
          "node:22@sha256:" + "a" * 64, "scratch", "alpine:3.20", "${BASE}", "node:${NODE_VERSION}",
          "debian:bookworm-slim", "gcr.io/distroless/nodejs22-debian12", "build", "NODE:Bad"]
image = st.one_of(st.sampled_from(IMAGES), word)


def json_array(items=any_word, min_size=0):
    return st.lists(items, min_size=min_size, max_size=4).map(lambda xs: json.dumps(xs, ensure_ascii=False))


def odd_json(items=any_word):
    """JSON arrays with odd spacing, single quotes (not JSON) or a trailing comma."""
    return st.one_of(
        json_array(items),
        st.lists(word, min_size=1, max_size=3).map(lambda xs: "[ " + " ,  ".join(f'"{x}"' for x in xs) + " ]"),
        st.lists(word, min_size=1, max_size=3).map(lambda xs: "[" + ",".join(f"'{x}'" for x in xs) + "]"),
        st.lists(word, min_size=1, max_size=3).map(lambda xs: "[" + ",".join(f'"{x}"' for x in xs) + ",]"),
    )


def shell_cmd():
    return st.lists(any_word, min_size=1, max_size=6).map(" ".join)


NODE_CMDS = ["node server.js", "npm start", "npm install", "npm ci", "yarn install", "pnpm install",
             "npm run build", "npm ci --omit=dev", "node dist/index.js", "apt-get update && apt-get install -y curl",
             "echo $NPM_TOKEN > .npmrc", "npm install --production", "yarn --frozen-lockfile", "npx tsc"]
cmd_text = st.one_of(st.sampled_from(NODE_CMDS), shell_cmd())


def flag(name, values):
    return st.sampled_from(values).map(lambda v: f"--{name}={v}" if v is not None else f"--{name}")


run_flags = st.lists(st.one_of(
    flag("mount", ["type=cache,target=/root/.npm", "type=secret,id=npmrc,target=/root/.npmrc",
                   "type=bind,from=node:22,source=/x,target=/y", "from=alpine,target=/a"]),
    flag("network", ["none", "host"]), flag("security", ["insecure"])), max_size=2)
copy_flags = st.lists(st.one_of(
    flag("from", ["build", "node:22", "0", "ghcr.io/a/b:1"]), flag("chown", ["node:node", "1000", "root"]),
    flag("chmod", ["644", "0755"]), flag("link", [None, "true"]), flag("parents", [None]),
    flag("exclude", ["*.md"])), max_size=3)


@st.composite
def heredoc(draw, keyword):
    name = draw(st.sampled_from(["EOF", "EOT", "END", "SCRIPT", "x"]))
    dash = draw(st.booleans())
    quote = draw(st.sampled_from(["", "'", '"']))
    lines = draw(st.lists(st.one_of(cmd_text, st.sampled_from(["CMD not-an-instruction", "FROM nope", "# c",
                                                                  "", "\\", "  indented"])), max_size=4))
    if dash:
        lines = ["\t" + ln for ln in lines]
    term = ("\t" if dash and draw(st.booleans()) else "") + name
    if keyword == "RUN":
        head = f"RUN {draw(run_flags_str())}<<{'-' if dash else ''}{quote}{name}{quote}"
        if draw(st.booleans()):
            head += " " + draw(st.sampled_from(["bash", "sh -e", "python3"]))
    else:
        head = f"{keyword} <<{'-' if dash else ''}{quote}{name}{quote} /app/{draw(word)}"
    return [head] + lines + [term]


def run_flags_str():
    return run_flags.map(lambda fs: "".join(f + " " for f in fs))


@st.composite
def instruction(draw, first=False):
    """One logical instruction as a list of physical lines (heredoc bodies included)."""
    if first:
        kw = "FROM"
    else:
        kw = draw(st.sampled_from(["FROM", "ARG", "ENV", "RUN", "RUN", "RUN", "CMD", "ENTRYPOINT", "COPY", "COPY",
                                   "ADD", "WORKDIR", "USER", "EXPOSE", "LABEL", "VOLUME", "SHELL", "STOPSIGNAL",
                                   "HEALTHCHECK", "ONBUILD", "MAINTAINER", "HEREDOC"]))
    if kw == "HEREDOC":
        return draw(heredoc(draw(st.sampled_from(["RUN", "COPY", "ADD"]))))
    if kw == "FROM":
        plat = draw(st.sampled_from(["", "--platform=linux/amd64 ", "--platform=$BUILDPLATFORM "]))
        alias = draw(st.sampled_from(["", " AS build", " as runtime", f" AS {draw(word)}"]))
        body = f"{plat}{draw(image)}{alias}"
    elif kw == "ARG":
        body = draw(st.one_of(var_name, st.tuples(var_name, any_word).map(lambda t: f"{t[0]}={t[1]}")))
    elif kw == "ENV":
        body = draw(st.one_of(
            st.tuples(var_name, any_word).map(lambda t: f"{t[0]}={t[1]}"),
            st.tuples(var_name, shell_cmd()).map(lambda t: f"{t[0]} {t[1]}"),
            st.just("NODE_ENV=production"), st.just("NODE_ENV development")))
    elif kw == "RUN":
        body = draw(run_flags_str()) + draw(st.one_of(cmd_text, cmd_text, odd_json()))
    elif kw in ("CMD", "ENTRYPOINT"):
        body = draw(st.one_of(cmd_text, odd_json(), json_array(st.sampled_from(["node", "server.js", "dumb-init",
                                                                                "--", "npm", "start"]), 1)))
    elif kw in ("COPY", "ADD"):
        body = draw(copy_flags).__iter__()
        body = "".join(f + " " for f in body) + draw(st.one_of(
            st.lists(word, min_size=2, max_size=3).map(" ".join),
            st.sampled_from([". .", ". /usr/src/app", "package*.json ./", "--chown=node:node . ."]),
            json_array(word, 2)))
    elif kw == "WORKDIR":
        body = draw(st.sampled_from(["/app", "/usr/src/app", "$HOME/x", "app"]))
    elif kw == "USER":
        body = draw(st.sampled_from(["node", "root", "1000", "1000:1000", "${USER}"]))
    elif kw == "EXPOSE":
        body = draw(st.sampled_from(["3000", "80", "8080/tcp", "53/udp 80"]))
    elif kw == "LABEL":
        body = draw(st.tuples(word, any_word).map(lambda t: f'{t[0]}="{t[1]}"'))
    elif kw == "VOLUME":
        body = draw(st.one_of(st.just("/data"), json_array(word, 1)))
    elif kw == "SHELL":
        body = draw(st.sampled_from(['["/bin/sh", "-c"]', '["bash", "-o", "pipefail", "-c"]', '["pwsh", "-c"]']))
    elif kw == "STOPSIGNAL":
        body = draw(st.sampled_from(["SIGTERM", "SIGINT", "9"]))
    elif kw == "HEALTHCHECK":
        body = draw(st.sampled_from(["NONE", "--interval=30s CMD curl -f http://localhost/ || exit 1",
                                     'CMD ["node", "hc.js"]']))
    elif kw == "ONBUILD":
        inner = draw(st.sampled_from(["COPY . /app", "RUN npm install", "CMD node x.js", "ENV A=b"]))
        body = inner
    else:  # MAINTAINER
        body = draw(any_word)
    keyword = kw
    case = draw(st.sampled_from(["upper", "upper", "upper", "lower", "mixed"]))
    if case == "lower":
        keyword = kw.lower()
    elif case == "mixed":
        keyword = kw[0] + kw[1:].lower()
    indent = draw(st.sampled_from(["", "", "", " ", "\t", "  "]))
    return [f"{indent}{keyword} {body}"]


@st.composite
def continued(draw, lines, escape):
    """Split the first line of an instruction over continuation lines, with comments and blank
    lines between them (BuildKit skips both inside a continuation)."""
    first, rest = lines[0], lines[1:]
    if "<<" in first or len(first) < 6 or not draw(st.integers(0, 3)) == 0:
        return lines
    parts = first.split(" ")
    out, cur = [], []
    for p in parts:
        cur.append(p)
        if len(cur) > 1 and draw(st.integers(0, 2)) == 0:
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    if len(out) < 2:
        return lines
    phys = []
    for i, piece in enumerate(out):
        if i < len(out) - 1:
            trailing = draw(st.sampled_from(["", " ", "\t", "  "]))
            phys.append(f"{piece} {escape}{trailing}")
            for _ in range(draw(st.integers(0, 2))):
                phys.append(draw(st.sampled_from(["# a comment", "  # indented comment", "", "   ", "#"])))
        else:
            phys.append("  " + piece)
    return phys + rest


@st.composite
def dockerfiles(draw, max_instructions=12):
    escape = draw(st.sampled_from(["\\", "\\", "\\", "`"]))
    directives = []
    if draw(st.booleans()):
        directives.append("# syntax=docker/dockerfile:1")
    if escape == "`" or draw(st.integers(0, 5)) == 0:
        directives.append(f"# escape={escape}")
    if draw(st.integers(0, 5)) == 0:
        directives.append("# check=skip=JSONArgsRecommended")
    directives = draw(st.permutations(directives))
    lines = list(directives)
    args = draw(st.lists(st.tuples(var_name, st.sampled_from(["22", "node:22-alpine", ""])), max_size=2))
    for name, val in args:
        lines.append(f"ARG {name}={val}" if val else f"ARG {name}")
    n = draw(st.integers(1, max_instructions))
    for i in range(n):
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.sampled_from(["", "# comment", "# dockerfix: ignore=DFX006", "   ",
                                               "# hadolint ignore=DL3025", "# dockerfix: ignore-file=DFX002"])))
        ins = draw(instruction(first=i == 0))
        lines.extend(draw(continued(ins, escape)))
    if draw(st.integers(0, 10)) == 0:  # a very long line
        lines.append("RUN echo " + "x" * draw(st.integers(1000, 20000)))
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n"]))
    text = newline.join(lines)
    if draw(st.integers(0, 4)) != 0:
        text += newline
    if draw(st.integers(0, 8)) == 0:
        text = "\ufeff" + text
    return text


NOISE = list("\\`\"'[]{}$#<>-=\t \n\r\x0b\x0c;&|") + ["<<", "<<EOF\n", "\r\n", "\\\n", "`\n", "\u00e9", "\u2028",
                                                        "\u0085", "\ufeff", "\U0001f600", "\x00", "\x7f", "FROM ",
                                                        "RUN ", "# escape=`\n", "ONBUILD "]


@st.composite
def mutated(draw):
    """A valid-looking Dockerfile, then broken: truncated, characters inserted, lines dropped."""
    text = draw(dockerfiles(max_instructions=8))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "insert", "insert", "insert", "delete", "dupline"]))
        pos = draw(st.integers(0, len(text)))
        if op == "truncate":
            text = text[:pos]
        elif op == "insert":
            ins = draw(st.one_of(st.sampled_from(NOISE), st.text(max_size=3)))
            text = text[:pos] + ins + text[pos:]
        elif op == "delete":
            end = draw(st.integers(pos, min(len(text), pos + 10)))
            text = text[:pos] + text[end:]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, max(0, len(lines) - 1)))
            lines.insert(i, lines[i] if lines else "")
            text = "\n".join(lines)
    return text


any_input = st.one_of(dockerfiles(), mutated(), st.text(max_size=200))
