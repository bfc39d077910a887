"""Generate a deterministic corpus of Node.js Dockerfiles for the benchmark.

    python bench/corpus.py OUT --files 1000 --seed 1

Every file lives in its own folder (``OUT/app-00001/Dockerfile``) so that dockerfix reads one
build context per file; about two folders in three also get a ``package.json`` and half of those a
``package-lock.json`` (so the context-dependent transforms have something to do).  The same
``--files``/``--seed`` always produce byte-identical output (``random.Random(seed)``, no clock, no
environment).

The files are meant to look like what people write: 5 to 60 instructions; multi-stage builds;
``ARG`` before ``FROM``; continuation lines, some with comment lines inside the continuation;
``CMD``/``ENTRYPOINT`` in JSON and shell form; ``RUN <<EOF`` heredocs now and then; ``npm install``
/ ``npm ci`` / ``yarn``; ``COPY`` with ``--chown``, ``--from``, ``--link``, globs; lower-case
keywords in some files.  Every generated file is accepted by BuildKit's parser.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path

NODE_TAGS = [
    "node:18", "node:18-alpine", "node:20", "node:20-alpine", "node:20-slim", "node:22-alpine",
    "node:22-bookworm-slim", "node:lts", "node:lts-alpine", "node:latest", "node:16-buster",
    "node:21", "node", "node:current-alpine", "node:20.11.1-alpine3.19",
]
RUNTIME_TAGS = ["node:20-alpine", "node:22-slim", "gcr.io/distroless/nodejs20-debian12", "node:lts-slim", "alpine:3.20"]
PACKAGES = ["curl", "git", "python3", "make", "g++", "tini", "dumb-init", "ca-certificates", "bash", "openssl"]
DEPS = ["express", "fastify", "lodash", "pg", "redis", "axios", "zod", "dotenv", "koa", "ws", "prisma", "sharp"]
DEV_DEPS = ["typescript", "jest", "eslint", "nodemon", "ts-node", "vitest", "prettier", "@types/node"]


class Gen:
    def __init__(self, rng: random.Random):
        self.r = rng
        self.lower = rng.random() < 0.15
        self.lines: list[str] = []
        self.count = 0  # instructions emitted

    def kw(self, word: str) -> str:
        return word.lower() if self.lower else word

    def ins(self, keyword: str, rest: str) -> None:
        self.lines.append(f"{self.kw(keyword)} {rest}")
        self.count += 1

    def comment(self) -> None:
        self.lines.append(self.r.choice([
            "# install dependencies", "# build the app", "# runtime image", "# TODO: slim this down",
            "# copy sources", "# hadolint ignore=DL3018", "#", "# keep layers small",
        ]))

    def blank(self) -> None:
        self.lines.append("")

    # -- instruction generators -------------------------------------------------------------

    def run_multi(self) -> None:
        """A RUN with continuations, sometimes with comment lines inside the continuation."""
        r = self.r
        cmds = []
        if r.random() < 0.5:
            pkgs = " ".join(r.sample(PACKAGES, r.randint(1, 4)))
            cmds += ["apt-get update", f"apt-get install -y --no-install-recommends {pkgs}",
                     "rm -rf /var/lib/apt/lists/*"] if r.random() < 0.5 else [f"apk add --no-cache {pkgs}"]
        cmds += r.sample(["mkdir -p /app/data", "chown -R node:node /app", "npm cache clean --force",
                          "echo \"building $APP_ENV\"", "ls -la", "node --version", "npm --version"],
                         r.randint(1, 3))
        parts = []
        for i, c in enumerate(cmds):
            if i and r.random() < 0.2:
                parts.append("    # " + r.choice(["clean up", "sanity check", "see #123"]))
            parts.append(c)
        out = [f"{self.kw('RUN')} {parts[0]}"]
        body = parts[1:]
        # join: every non-comment line ends with " && \" except the last; comments are bare lines
        real = [p for p in body if not p.lstrip().startswith("#")]
        last_real = real[-1] if real else None
        cur = out
        if body:
            cur[-1] += " && \\"
        for p in body:
            if p.lstrip().startswith("#"):
                cur.append(p)
            elif p is last_real:
                cur.append(f"    {p}")
            else:
                cur.append(f"    {p} && \\")
        self.lines.extend(out)
        self.count += 1

    def run_heredoc(self) -> None:
        word = self.r.choice(["EOF", "SCRIPT", "END"])
        dash = self.r.random() < 0.3
        body = self.r.sample(["set -eux", "npm ci", "npm run build", "npm prune --omit=dev",
                              "echo done", "node -e 'console.log(1)'"], self.r.randint(1, 4))
        self.lines.append(f"{self.kw('RUN')} <<{'-' if dash else ''}{word}")
        for b in body:
            self.lines.append(("\t" if dash else "") + b)
        self.lines.append(word)
        self.count += 1

    def npm(self) -> None:
        r = self.r
        choice = r.choice([
            "npm install", "npm install", "npm ci", "npm install --production", "npm ci --omit=dev",
            "yarn install --frozen-lockfile", "npm install && npm cache clean --force",
            "npm install --silent", "npm i", "npm ci --only=production",
        ])
        if r.random() < 0.15:
            self.ins("RUN", f"--mount=type=cache,target=/root/.npm {choice}")
        else:
            self.ins("RUN", choice)

    def copy(self, stages: list[str]) -> None:
        r = self.r
        variants = [
            "package*.json ./", "package.json package-lock.json ./", ". .", "./ ./", "src ./src",
            "--chown=node:node . .", "--chown=node:node package*.json ./", "--link . /app",
            "[\"package.json\", \"./\"]", "tsconfig.json ./",
        ]
        if stages and r.random() < 0.4:
            src = r.choice(stages)
            self.ins("COPY", f"--from={src} /app/{r.choice(['dist', 'build', 'node_modules'])} "
                             f"./{r.choice(['dist', 'build', 'node_modules'])}")
        else:
            self.ins(r.choice(["COPY", "COPY", "COPY", "ADD"]), r.choice(variants))

    def misc(self) -> None:
        r = self.r
        k = r.randrange(9)
        if k == 0:
            self.ins("ENV", r.choice(["NODE_ENV=production", "PORT=3000", "NODE_ENV production",
                                      "NPM_CONFIG_LOGLEVEL=warn PATH=/app/node_modules/.bin:$PATH"]))
        elif k == 1:
            self.ins("EXPOSE", str(r.choice([3000, 8080, 80, 4000, 5173])))
        elif k == 2:
            self.ins("WORKDIR", r.choice(["/app", "/usr/src/app", "/home/node/app"]))
        elif k == 3:
            self.ins("LABEL", f'org.opencontainers.image.source="https://example.com/app{r.randint(1, 99)}"')
        elif k == 4:
            self.ins("USER", r.choice(["node", "1000", "node:node"]))
        elif k == 5:
            self.ins("ARG", r.choice(["APP_ENV=production", "BUILD_DATE", "GIT_SHA=unknown"]))
        elif k == 6:
            self.run_multi()
        elif k == 7:
            self.ins("RUN", r.choice(["npm run build", "npm test", "npm run lint", "node scripts/prepare.js",
                                      "[\"npm\", \"run\", \"build\"]"]))
        else:
            self.ins("HEALTHCHECK", "--interval=30s CMD " + r.choice(
                ["curl -f http://localhost:3000/health || exit 1", '["node", "healthcheck.js"]']))

    def final(self) -> None:
        r = self.r
        k = r.randrange(6)
        if k == 0:
            self.ins("CMD", '["node", "server.js"]')
        elif k == 1:
            self.ins("CMD", r.choice(["node server.js", "npm start", "npm run start:prod", "node dist/index.js"]))
        elif k == 2:
            self.ins("ENTRYPOINT", '["docker-entrypoint.sh"]')
            self.ins("CMD", '[ "node" , "index.js" ]')
        elif k == 3:
            self.ins("ENTRYPOINT", r.choice(['["/sbin/tini", "--"]', "node app.js"]))
            self.ins("CMD", '["node", "app.js"]')
        elif k == 4:
            self.ins("CMD", '["npm", "start"]')
        else:
            self.ins("CMD", "yarn start")


def dockerfile(rng: random.Random) -> str:
    g = Gen(rng)
    r = rng
    target = r.randint(5, 59)  # the last stage's CMD/ENTRYPOINT may add one more
    if r.random() < 0.2:
        g.lines.append("# syntax=docker/dockerfile:1")
    if r.random() < 0.3:
        g.ins("ARG", f"NODE_VERSION={r.choice(['18', '20', '22', '20.11.1'])}")
        base = "node:${NODE_VERSION}-alpine"
    else:
        base = r.choice(NODE_TAGS)
    n_stages = 1 if target < 10 else r.choice([1, 1, 2, 2, 3])
    stage_names: list[str] = []
    per_stage = max(3, (target - g.count) // n_stages)
    for s in range(n_stages):
        last = s == n_stages - 1
        name = ["deps", "build", "builder", "test"][s % 4] if not last else r.choice(["runtime", "prod", ""])
        img = base if s == 0 else (r.choice(RUNTIME_TAGS) if last else r.choice([base, stage_names[-1]]))
        as_ = f" {g.kw('AS')} {name}" if name else ""
        if g.lines:
            g.blank()
        g.ins("FROM", f"{img}{as_}")
        g.ins("WORKDIR", "/app")
        stop = g.count + per_stage - 2 if not last else target - 1
        while g.count < (stop if last else stop - 1):
            k = r.random()
            if k < 0.08:
                g.comment()
            elif k < 0.1:
                g.blank()
            if k < 0.25:
                g.copy(stage_names)
            elif k < 0.4:
                g.npm()
            elif k < 0.45:
                g.run_heredoc()
            else:
                g.misc()
        if last:
            g.final()
        if name:
            stage_names.append(name)
    text = "\n".join(g.lines) + "\n"
    if r.random() < 0.05:
        text = text.rstrip("\n")  # no final newline
    return text


def package_json(rng: random.Random, i: int) -> dict:
    r = rng
    data: dict = {
        "name": f"app-{i:05d}",
        "version": f"1.{r.randint(0, 20)}.{r.randint(0, 9)}",
        "private": True,
        "scripts": {"start": "node server.js", "build": "tsc -p .", "test": "jest"},
        "dependencies": {d: f"^{r.randint(1, 9)}.{r.randint(0, 9)}.0" for d in r.sample(DEPS, r.randint(1, 6))},
    }
    if r.random() < 0.7:
        data["devDependencies"] = {d: f"^{r.randint(1, 9)}.0.0" for d in r.sample(DEV_DEPS, r.randint(1, 4))}
    if r.random() < 0.4:
        data["engines"] = {"node": r.choice([">=18", "20.x", "^20.11.0", ">=16 <21", "22"])}
    return data


def package_lock(rng: random.Random, pkg: dict) -> dict:
    deps = {**pkg.get("dependencies", {}), **pkg.get("devDependencies", {})}
    return {
        "name": pkg["name"], "version": pkg["version"], "lockfileVersion": 3, "requires": True,
        "packages": {
            "": {"name": pkg["name"], "version": pkg["version"], "dependencies": pkg.get("dependencies", {})},
            **{f"node_modules/{d}": {"version": v.lstrip("^"), "resolved": f"https://registry.npmjs.org/{d}/-/{d.split('/')[-1]}-{v.lstrip('^')}.tgz",
                                     **({"dev": True} if d in pkg.get("devDependencies", {}) else {})}
               for d, v in deps.items()},
        },
    }


def generate(out: str | Path, files: int = 1000, seed: int = 1) -> list[Path]:
    """Write ``files`` Dockerfiles under ``out`` (replacing it) and return their paths."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = random.Random(seed)
    paths = []
    for i in range(files):
        d = out / f"app-{i:05d}"
        d.mkdir()
        p = d / "Dockerfile"
        p.write_text(dockerfile(rng), encoding="utf-8", newline="")
        paths.append(p)
        if rng.random() < 0.66:
            pkg = package_json(rng, i)
            (d / "package.json").write_text(json.dumps(pkg, indent=2) + "\n", encoding="utf-8")
            if rng.random() < 0.5:
                (d / "package-lock.json").write_text(json.dumps(package_lock(rng, pkg), indent=2) + "\n", encoding="utf-8")
    (out / ".corpus.json").write_text(json.dumps({"files": files, "seed": seed, "version": CORPUS_VERSION}) + "\n")
    return paths


CORPUS_VERSION = 1


def corpus_matches(out: str | Path, files: int, seed: int) -> bool:
    """Whether ``out`` already holds the corpus for (files, seed) from this generator version."""
    try:
        meta = json.loads((Path(out) / ".corpus.json").read_text())
    except (OSError, ValueError):
        return False
    return meta == {"files": files, "seed": seed, "version": CORPUS_VERSION}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="output folder (replaced)")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    paths = generate(args.out, args.files, args.seed)
    total = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} Dockerfiles ({total / 1024:.0f} KiB) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
