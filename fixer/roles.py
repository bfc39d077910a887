"""What each stage of a Dockerfile is for, decided from evidence in the file.

Hardening fixes (``NODE_ENV=production``, a non-root ``USER``, an init as PID 1) belong in the
image that runs an application.  They are wrong in a Dockerfile that builds a *base image* (like the
official ``node`` image, whose clean-up removes a package just added), in a *development* or
*test* image, in a *build-only* image without a start command, and in a stage that runs something
other than Node.js (nginx serving a built front end, a Java service).  :func:`stage_roles` names
the role of every stage, with the evidence, so that transforms can leave the others alone and say
why.

A start command is judged by what it runs: a package.json script by its name and its body,
``npm dev`` (npm has no such command: the ``dev`` script is meant), monorepo task runners asked for a
development task (``turbo dev``, ``nx serve api``), and, in ``transforms/_roles.py`` which can read the
build context, the commands of a start script (``bash /entrypoint.sh``); a start script that is not
in the build context leaves the role unknown.

Roles: ``runtime`` (runs a Node.js application), ``build`` (a stage other stages copy from),
``base-image``, ``development``, ``test``, ``build-only`` (final stage without a start command),
``non-node`` (final stage runs another program), ``unknown``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import cache
from collections.abc import Mapping

from .document import Document, Instruction, Stage

RUNTIME, BUILD, BASE_IMAGE, DEVELOPMENT, TEST, BUILD_ONLY, NON_NODE, UNKNOWN = (
    "runtime", "build", "base-image", "development", "test", "build-only", "non-node", "unknown")

#: Images whose stage runs something else than a Node.js application.
NON_NODE_IMAGES = ("nginx", "httpd", "caddy", "traefik", "haproxy", "openjdk", "eclipse-temurin", "amazoncorretto",
                   "tomcat", "python", "golang", "php", "ruby", "postgres", "mysql", "redis", "scratch",
                   "gcr.io/distroless/static", "nginxinc/nginx-unprivileged")
#: Last path components of images that serve or run something else (``public.ecr.aws/nginx/nginx``).
NON_NODE_LAST = frozenset({"nginx", "nginx-unprivileged", "httpd", "caddy", "openresty", "tomcat", "jetty", "openjdk",
                           "eclipse-temurin", "amazoncorretto", "haproxy", "traefik"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
#: Programs that run the rest of the command as another user (``gosu node npm start``).
STEP_DOWN = frozenset({"su-exec", "gosu", "s6-setuidgid", "runuser"})
#: Programs a start command may run that are not Node.js applications.
NON_NODE_PROGRAMS = frozenset({"nginx", "httpd", "apache2", "apache2-foreground", "caddy", "java", "python",
                               "python3", "gunicorn", "uvicorn", "php-fpm", "ruby", "rails", "bundle", "go",
                               "redis-server", "postgres", "mysqld", "haproxy", "traefik", "serve-static"})
#: Start commands of development servers and watchers.
DEV_PROGRAMS = frozenset({"nodemon", "ts-node-dev", "tsnd", "nest start --watch", "webpack-dev-server",
                          "vite", "next dev", "nuxt dev", "react-scripts start", "ng serve", "gatsby develop",
                          "remix dev", "astro dev", "tsx watch", "node --watch", "ember serve", "vue-cli-service serve"})
DEV_SCRIPTS = frozenset({"dev", "develop", "development", "watch", "serve:dev", "start:dev", "dev:server", "debug",
                         "start:debug", "storybook"})
TEST_PROGRAMS = frozenset({"jest", "mocha", "vitest", "ava", "tap", "cypress", "playwright", "karma", "jasmine",
                           "nyc", "c8", "eslint", "tsc --noEmit"})
TEST_SCRIPTS = frozenset({"test", "t", "tst", "test:ci", "test:e2e", "test:unit", "e2e", "lint", "ci"})
TEST_IMAGES = ("cypress/", "mcr.microsoft.com/playwright", "selenium/", "browserless/")
RUNNERS = frozenset({"npm", "yarn", "pnpm", "bun"})
#: Monorepo task runners: ``turbo dev``, ``turbo run dev``, ``nx serve api``, ``nx run api:serve``.
TASK_RUNNERS = frozenset({"turbo", "nx", "lerna"})
#: Tasks of those runners that start development servers (Nx's ``serve`` runs the dev server or
#: the Node executor in watch mode; production serving is a built app run by node or a server).
DEV_TASKS = DEV_SCRIPTS | {"serve", "start:dev"}
#: Launchers that run a package's binary: ``npx turbo dev``, ``pnpm exec nx serve api``.
_LAUNCHERS = frozenset({"npx", "bunx", "pnpx"})
#: npm's own commands (``npm <word>`` runs a package.json script only through ``run``).
NPM_COMMANDS = frozenset({
    "access", "adduser", "audit", "bugs", "cache", "ci", "completion", "config", "dedupe", "deprecate", "diff",
    "dist-tag", "docs", "doctor", "edit", "exec", "explain", "explore", "find-dupes", "fund", "get", "help",
    "help-search", "hook", "init", "install", "install-ci-test", "install-test", "link", "ll", "login", "logout",
    "ls", "org", "outdated", "owner", "pack", "ping", "pkg", "prefix", "profile", "prune", "publish", "query",
    "rebuild", "repo", "restart", "root", "run", "run-script", "sbom", "search", "set", "shrinkwrap", "star",
    "stars", "start", "stop", "team", "test", "token", "uninstall", "unpublish", "unstar", "update", "version",
    "view", "whoami", "i", "it", "cit", "add", "un", "rm", "up", "x", "t", "tst", "c", "ln", "r", "rb", "s"})
#: Runner options that take a value (``npm --prefix api start``, ``pnpm --filter api dev``).
_VALUE_FLAGS = frozenset({"--prefix", "-C", "--cwd", "--dir", "--filter", "-F", "-w", "--workspace"})


@dataclass(frozen=True)
class Role:
    kind: str
    evidence: str

    @property
    def is_runtime(self) -> bool:
        return self.kind == RUNTIME


@cache
def _dev_name_re() -> re.Pattern[str]:
    return re.compile(r"(^|[._-])(dev|develop|development|local)([._-]|$)", re.IGNORECASE)


@cache
def _test_name_re() -> re.Pattern[str]:
    return re.compile(r"(^|[._-])(test|tests|testing|ci|e2e|cypress|playwright)([._-]|$)", re.IGNORECASE)


@cache
def _not_prod_comment_re() -> re.Pattern[str]:
    return re.compile(r"(do not|don't|not for|never) use (this )?(image |file |dockerfile |container )?(in|for) "
                      r"production|not (meant |intended )?for production|development (only|purposes)"
                      r"|for local development|(development|dev) (image|container|dockerfile) (only|for)",
                      re.IGNORECASE)


def _argv(ins: Instruction | None) -> list[str]:
    if ins is None:
        return []
    if ins.json_args is not None:
        return list(ins.json_args)
    return [w.value for w in ins.words]


def _start(doc: Document, stage: Stage) -> tuple[list[str], Instruction | None]:
    """The start command of ``stage`` (ENTRYPOINT + CMD as written in the stage or the stages it
    builds on), with the instruction that carries it."""
    entry = cmd = None
    chain = _chain(doc, stage)
    for st in chain:
        for ins in st.instructions:
            if ins.keyword == "ENTRYPOINT":
                entry, cmd = ins, None  # an ENTRYPOINT resets an inherited CMD
            elif ins.keyword == "CMD":
                cmd = ins
    argv = _argv(entry) + _argv(cmd)
    # sh -c "..." and exec wrappers: look at the command they run
    if len(argv) >= 3 and posixpath.basename(argv[0]) in ("sh", "bash", "ash", "dash") and argv[1] in ("-c", "-ec", "-lc"):
        argv = argv[2].split()
    while argv:
        prog = posixpath.basename(argv[0])
        if prog in ("dumb-init", "tini", "tini-static", "docker-init", "exec", "--", "catatonit", "env"):
            argv = argv[1:]
            while argv and argv[0].startswith("-"):  # the init's own options, `--` last
                stop = argv[0] == "--"
                argv = argv[1:]
                if stop:
                    break
        elif prog in STEP_DOWN and len(argv) > 2:
            argv = argv[2:]  # the user to step down to, then the command
        elif prog.endswith(".sh") and "entrypoint" in prog and len(argv) > 1:
            argv = argv[1:]  # an entrypoint script that ends with `exec "$@"`: look at its command
        else:
            break
    return argv, (cmd or entry)


def _chain(doc: Document, stage: Stage) -> list[Stage]:
    names = {s.name.lower(): s for s in doc.stages if s.name}
    out: list[Stage] = []
    cur: Stage | None = stage
    while cur is not None and cur not in out:
        out.append(cur)
        cur = names.get(cur.base.lower())
        if cur is not None and cur.index >= out[-1].index:
            break
    return list(reversed(out))


def _root_base(doc: Document, stage: Stage) -> str:
    return _chain(doc, stage)[0].base.lower()


def _image_name(ref: str) -> str:
    name = ref.split("@")[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":")[0]
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    return name


def _joined(argv: list[str]) -> str:
    return " ".join(posixpath.basename(a) if i == 0 else a for i, a in enumerate(argv))


def _script_of(argv: list[str]) -> str | None:
    """The package.json script a runner command runs (``npm run dev`` → ``dev``; ``npm test`` → ``test``)."""
    if not argv or posixpath.basename(argv[0]) not in RUNNERS:
        return None
    runner = posixpath.basename(argv[0])
    rest: list[str] = []
    skip = False
    for a in argv[1:]:
        if skip:
            skip = False
        elif a in _VALUE_FLAGS:
            skip = True
        elif not a.startswith("-"):
            rest.append(a)
    if rest[:1] == ["workspace"] and len(rest) > 2:  # yarn workspace <name> <script>
        rest = rest[2:]
    if not rest:
        return None
    if rest[0] in ("run", "run-script", "run-s") and len(rest) > 1:
        return rest[1]
    if runner == "npm" and rest[0] not in ("start", "test", "t", "tst", "restart", "stop"):
        return None  # npm's own commands (ci, install, exec...) are not package.json scripts
    return rest[0]


def _positional(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a in _VALUE_FLAGS:
            skip = True
        elif not a.startswith("-"):
            out.append(a)
    return out


def _dev_task(words: list[str]) -> str | None:
    """``turbo dev`` / ``npx turbo run dev`` / ``nx serve api`` / ``pnpm exec nx run api:serve``
    / ``lerna run dev``: the development task a monorepo task runner is asked to run, or None."""
    if not words:
        return None
    prog = posixpath.basename(words[0])
    rest = words[1:]
    if prog in _LAUNCHERS or (prog in RUNNERS and rest[:1] in (["exec"], ["dlx"], ["x"])):
        rest = rest[1:] if prog in RUNNERS else rest
        while rest and rest[0].startswith("-"):  # npx -y / --no-install ...
            rest = rest[1:]
        if not rest:
            return None
        prog, rest = posixpath.basename(rest[0]), rest[1:]
    elif prog in ("yarn", "pnpm", "bun") and rest[:1] and rest[0] in TASK_RUNNERS:
        prog, rest = rest[0], rest[1:]  # yarn turbo dev: yarn runs the binary
    if prog not in TASK_RUNNERS:
        return None
    args = _positional(rest)
    flags = [a for a in rest if a.startswith("--target=")]
    if args[:1] in (["run"], ["run-many"]) and len(args) > 1:
        args = args[1:]
    elif args[:1] == ["run-many"] and flags:
        args = [flags[0].split("=", 1)[1]]
    if not args:
        return None
    task = args[0].split(":")[1] if prog == "nx" and ":" in args[0] else args[0]  # nx run api:serve
    if task in DEV_TASKS or task.startswith(("dev:", "watch:")):
        return " ".join([prog, *rest])
    return None


def command_role(argv: list[str], scripts: Mapping[str, str] | None, what: str = "its start command",
                 where: str = "") -> Role | None:
    """Development or test, when the command ``argv`` (named ``what`` in the evidence, followed
    by ``where`` when given) shows it; None otherwise.  ``scripts`` are package.json's scripts
    (``npm start`` is judged by its body)."""
    joined = _joined(argv)
    label = f"{what} `{joined}`{where}"
    runner = posixpath.basename(argv[0]) if argv else ""
    script = _script_of(argv)
    if runner == "npm" and script is None:
        args = _positional(argv[1:])
        if args and args[0] not in NPM_COMMANDS and (args[0] in DEV_SCRIPTS or args[0].startswith(("dev:", "watch:"))):
            return Role(DEVELOPMENT, f"{label} names the development script `{args[0]}` (npm has no `{args[0]}` "
                        f"command and exits with `Unknown command`: `npm run {args[0]}` is meant)")
    texts = [(joined, label)]
    short = label if where else what
    if script is not None:
        if script in DEV_SCRIPTS or script.startswith(("dev:", "watch:")):
            return Role(DEVELOPMENT, f"{short} runs the development script `{script}`")
        if script in TEST_SCRIPTS or script.startswith("test:"):
            return Role(TEST, f"{short} runs the test script `{script}`")
        body = (scripts or {}).get(script)
        if body:
            texts.append((body, f"scripts.{script} (`{body}`), which {short} runs,"))
    for text, said in texts:
        words = text.split()
        prog = posixpath.basename(words[0]) if words else ""
        for dev in DEV_PROGRAMS:
            via_runner = prog in ("npx", "yarn", "pnpm", "bunx") and f" {dev}" in f" {text}"
            if text == dev or text.startswith(dev + " ") or via_runner or f"&& {dev}" in text:
                return Role(DEVELOPMENT, f"{said} runs `{dev}`, a development server or watcher")
        for part in re.split(r"&&|\|\||;", text):
            task = _dev_task([w.strip("'\"") for w in part.split()])
            if task is not None:
                return Role(DEVELOPMENT, f"{said} runs `{task}`, a task runner's development task")
        if prog in TEST_PROGRAMS or (prog == "npx" and len(words) > 1 and words[1] in TEST_PROGRAMS):
            return Role(TEST, f"{said} runs {prog if prog != 'npx' else words[1]}, a test tool")
    if "--watch" in argv or "--inspect" in " ".join(argv) or "--inspect-brk" in " ".join(argv):
        return Role(DEVELOPMENT, f"{short} watches files or opens the debugger")
    return None


def start_argv(doc: Document, stage: Stage) -> list[str]:
    """The start command of ``stage`` with inits, step-down programs and ``exec "$@"`` entrypoint
    wrappers looked through (``["node", "server.js"]``, ``["sh", "start.sh"]``)."""
    return _start(doc, stage)[0]


def stage_roles(doc: Document, dockerfile_name: str = "Dockerfile",
                scripts: Mapping[str, str] | None = None) -> dict[int, Role]:
    """The role of every stage (by index).  Stages other stages build on or copy from are
    ``build``; the final stage gets its role from the evidence below, in this order.
    ``dockerfile_name`` is the file's name or path; ``scripts`` the ``scripts`` of package.json
    (when known), so that ``npm start`` is judged by what it runs."""
    roles: dict[int, Role] = {}
    final = doc.stages[-1] if doc.stages else None
    for st in doc.stages:
        if st is not final:
            roles[st.index] = Role(BUILD, "a stage other stages build on or copy from")
    if final is not None:
        roles[final.index] = final_role(doc, final, dockerfile_name, scripts)
    return roles


def _stage_comments(doc: Document, stage: Stage) -> str:
    """The comments that speak about ``stage``: inside the stages of its FROM chain, the block
    directly above each of their FROM lines, and the file's header when it has one stage."""
    chain = _chain(doc, stage)
    out: list[str] = []
    for st in chain:
        out.extend(doc.comments_before(st.from_))
        end = st.instructions[-1].span.end
        out.extend(doc.text(sp) for sp in doc.comment_spans() if st.from_.span.end <= sp.start <= end)
    if len(doc.stages) == 1:
        first = doc.stages[0].from_.span.start
        out.extend(doc.text(sp) for sp in doc.comment_spans() if sp.end <= first)
    return " ".join(out)


def final_role(doc: Document, stage: Stage, dockerfile_name: str = "Dockerfile",
               scripts: Mapping[str, str] | None = None) -> Role:
    base = _root_base(doc, stage)
    image = _image_name(base)
    argv, start = _start(doc, stage)
    program = posixpath.basename(argv[0]) if argv else ""
    joined = _joined(argv)
    chain_ins = [ins for st in _chain(doc, stage) for ins in st.instructions]
    logicals = [ins.logical for ins in chain_ins]
    comments = _stage_comments(doc, stage)

    # 1. the file says it is not for production
    path = dockerfile_name.replace("\\", "/")
    base_name = posixpath.basename(path)
    stem = base_name.replace("Dockerfile", "").replace("dockerfile", "").replace("Containerfile", "")
    if ".devcontainer" in path.split("/")[:-1]:
        return Role(DEVELOPMENT, "the file is in .devcontainer/, a development container")
    if _dev_name_re().search(stem):
        return Role(DEVELOPMENT, f"the file name {base_name} marks a development image")
    if _test_name_re().search(stem):
        return Role(TEST, f"the file name {base_name} marks a test or CI image")
    m = _not_prod_comment_re().search(comments)
    if m:
        return Role(DEVELOPMENT, f"a comment says so (\"{m.group(0)}\")")
    for ins in chain_ins:
        if ins.keyword == "ENV":
            for a in ins.assignments:
                if a.name == "NODE_ENV" and (a.value or "").strip().lower() in ("development", "dev", "test"):
                    return Role(DEVELOPMENT, f"it sets NODE_ENV={a.value} (line {ins.line})")

    # 2. what the stage starts
    if any(image.startswith(t.rstrip("/")) for t in TEST_IMAGES):
        return Role(TEST, f"it is built on {image}, a browser-test image")
    if program in NON_NODE_PROGRAMS:
        return Role(NON_NODE, f"its start command runs {program}, not Node.js")
    last = image.rsplit("/", 1)[-1]
    if (any(image == n or image.startswith(n + "/") for n in NON_NODE_IMAGES) or last in NON_NODE_LAST) \
            and program not in RUNNERS | {"node"}:
        return Role(NON_NODE, f"it runs on {image}, not a Node.js image")
    found = command_role(argv, scripts) if argv else None
    if found is not None:
        return found

    # 3. building a base image, not an application
    onbuild = next((ins for ins in chain_ins if ins.keyword == "ONBUILD"), None)
    if onbuild is not None:
        return Role(BASE_IMAGE, f"it has ONBUILD triggers (line {onbuild.line}): images are built FROM it")
    text = "\n".join(logicals)
    if re.search(r"\bapt-mark auto\b|\bENV NODE_VERSION\b|nodejs\.org/dist|groupadd --gid 1000 node|"
                 r"addgroup -g 1000 node", text):
        if not argv or joined in ("node", "docker-entrypoint.sh node"):
            return Role(BASE_IMAGE, "it installs Node.js itself and starts no application (a base image)")
    if start is None:
        return Role(BUILD_ONLY, "it sets no CMD or ENTRYPOINT: it builds files and starts no application")
    if not argv:
        return Role(BASE_IMAGE, "its start command is only an init, with no application after it")
    if joined in ("node", "docker-entrypoint.sh node"):
        return Role(BASE_IMAGE, "its start command is a bare `node` (the REPL), not an application")
    if program in SHELLS and len(argv) == 1:
        return Role(BUILD_ONLY, f"its start command is an interactive shell ({program}), not an application")
    return Role(RUNTIME, f"its start command `{joined}` runs the application")
