"""Run the production stage of a multi-stage build on the ``-slim`` node image.

## What it does
In a multi-stage build whose production (final) stage is built ``FROM`` a full Debian ``node``
image (``node:22``, ``node:22-bookworm``, ``node:lts-trixie``, ``node:jod``...), the stage's
``FROM`` moves to the ``-slim`` variant of the same tag: same Node.js line, same Debian release
(``node:22`` becomes ``node:22-slim``, ``node:22-bookworm`` becomes ``node:22-bookworm-slim``,
``node:latest`` becomes ``node:slim``).  The docker-node project publishes a ``-slim`` tag beside
every full Debian tag (``X.Y.Z``/``X.Y``/``X``/codename/``lts``/``current``, each with or without
the Debian release), so the new tag exists whenever the old one does.  A digest is dropped with
the old tag (it names the full image) and digest pinning (DFX002) pins the new tag in the same
run; when the registry cannot be asked (``--offline``), a pinned ``FROM`` is left alone.  Build
stages keep the full image: they are where compilers and ``git`` are needed.

With ``runtime-variant = "alpine"`` in the configuration the stage moves to ``-alpine`` instead
(``node:22-bookworm`` becomes ``node:22-alpine``), but only when no production dependency has
native code: no ``hasInstallScript`` package in the npm lockfile, no ``binding.gyp`` in the build
context, and no prebuilt platform package (``@img/sharp-linux-x64``, ``@swc/core-linux-x64-gnu``,
``@esbuild/linux-x64``...).

The change is made only when the evidence says the app still runs on the smaller image, and
otherwise the report names what keeps the full image:

* the production stage installs no OS packages (``apt-get``/``apt``/``aptitude install``), other
  than the init process (``dumb-init``, ``tini``) that DFX007 adds and the slim image installs as
  well;
* its ``RUN`` lines, ``HEALTHCHECK``, ``ENTRYPOINT``/``CMD``, the package.json scripts the
  command starts (``npm start`` and its ``pre``/``post`` scripts) and the entrypoint script
  files it names (read from the build context) run no program of the table below;
* the production dependencies hold no package of the native-module table below, and, when the
  stage runs the install itself (``npm ci --omit=dev``), every production package with an
  install script (``hasInstallScript`` in ``package-lock.json``) is one whose script needs no
  compiler (the prebuilt table below): a ``node-gyp`` build needs ``python3``, ``make`` and
  ``g++``, which only the full image has.

Programs the full image has and the slim one lacks (facts of 2026-11-29, from the official
Dockerfiles: ``node:<major>-<release>`` is ``FROM buildpack-deps:<release>``, which adds a
``-curl``, an ``-scm`` and a build-tools layer to ``debian:<release>``; ``node:<major>-<release>-slim``
is ``FROM debian:<release>-slim`` and purges the ``curl wget gnupg dirmngr xz-utils`` it
downloads Node.js with, keeping only what the ``node`` binary links (``libatomic1``); sources:
github.com/nodejs/docker-node ``22/bookworm/Dockerfile`` and ``22/bookworm-slim/Dockerfile``,
github.com/docker-library/buildpack-deps ``debian/bookworm/{curl,scm,}/Dockerfile``):

| programs | Debian package (buildpack-deps layer) |
|---|---|
| ``curl`` | curl (``-curl``) |
| ``wget`` | wget (``-curl``) |
| ``gpg``, ``sq`` | gnupg, sq (``-curl``) |
| ``git``, ``git-lfs`` | git, git-lfs (``-scm``) |
| ``hg`` | mercurial (``-scm``) |
| ``svn`` | subversion (``-scm``) |
| ``ssh``, ``scp``, ``sftp``, ``ssh-keygen``, ``ssh-keyscan`` | openssh-client (``-scm``) |
| ``ps``, ``pgrep``, ``pkill``, ``top``, ``free``, ``uptime``, ``watch``, ``vmstat``, ``sysctl`` | procps (``-scm``) |
| ``python``, ``python3`` | python3 (pulled in by mercurial, ``-scm``) |
| ``make`` | make |
| ``gcc``, ``cc``, ``g++``, ``c++`` | gcc, g++ |
| ``node-gyp`` (bundled with npm, but compiles with python3, make and g++) | — |
| ``autoconf``, ``automake``, ``libtool`` | autoconf, automake, libtool |
| ``bzip2``, ``bunzip2`` | bzip2 |
| ``unzip`` | unzip |
| ``xz``, ``unxz`` | xz-utils |
| ``convert``, ``identify``, ``magick``, ``mogrify`` | imagemagick |
| ``update-ca-certificates`` | ca-certificates (``-curl``; the slim image purges it after downloading Node.js) |

Without ca-certificates the slim image has no ``/etc/ssl/certs``: Node.js's own bundled CA list
still works, but a stage that points Node.js or OpenSSL at the system store (``--use-openssl-ca``,
``--use-system-ca``, ``SSL_CERT_FILE``, ``SSL_CERT_DIR``, ``/etc/ssl/certs``) keeps the full image.

Native modules that keep the full image, whoever installs them (checked 2026-11-29):

| package | why |
|---|---|
| ``canvas`` | links cairo, pango, libjpeg, giflib: "libcairo.so.2: cannot open shared object file" on slim [1] |
| ``prisma``, ``@prisma/client``, ``@prisma/engines`` | the query engine loads the system ``libssl``, not in bookworm-slim [2] |
| ``pg-native``, ``libpq`` | link the system ``libpq``; the full image has it through ``libpq-dev`` (buildpack-deps) |
| ``kerberos`` | links the system GSSAPI/Kerberos libraries (``libkrb5-dev`` in buildpack-deps) |
| ``node-rdkafka`` | compiles librdkafka with node-gyp, linking the full image's OpenSSL and zlib ``-dev`` packages |
| ``puppeteer``, ``playwright``, ``playwright-core`` | their browsers need ``libnss3``, ``libatk``... (neither image has them) |

[1] Automattic/node-canvas#2061 (2022): canvas 2.9 on ``node:lts-buster-slim``.
[2] prisma/prisma#19729 (2023): an app built on ``node:lts`` fails on ``node:lts-slim`` (bookworm).

Production packages with an install script that needs no compiler (prebuilt binary shipped in
the package or in a platform package, or a Node.js-only script; checked 2026-11-29 against each
package's ``install``/``postinstall`` script):

| package | install script |
|---|---|
| ``esbuild`` | ``node install.js``: checks the ``@esbuild/<platform>`` package |
| ``@swc/core`` | ``node postinstall.js``: checks the ``@swc/core-<platform>`` package |
| ``sharp`` | 0.33+: ``node install/check``, libvips in ``@img/sharp-*``; older: downloads a prebuilt libvips (HTTPS) |
| ``bcrypt`` | 5.x: ``node-pre-gyp install`` downloads an N-API prebuilt; 6.x: ``node-gyp-build``, prebuilds shipped |
| ``sqlite3`` | ``prebuild-install -r napi`` downloads an N-API prebuilt (SQLite compiled in) |
| ``argon2`` | ``node-gyp-build``/``node-pre-gyp`` with prebuilt binaries |
| ``bufferutil``, ``utf-8-validate`` | ``node-gyp-build`` with linux-x64/arm64 prebuilds in the package |
| ``msgpackr-extract`` | ``node-gyp-build-optional-packages`` with ``@msgpackr-extract/*`` platform packages |
| ``protobufjs`` | ``node scripts/postinstall``: a version check |
| ``core-js``, ``core-js-pure`` | ``node -e`` banner |

A prebuilt download that fails falls back to a ``node-gyp`` build, which fails on slim: the
image build stops with the error rather than shipping a broken image.

Single-stage builds are not changed (the same stage builds the app and needs the full image):
DFX010 splits them first, when it can, and this pass then runs on the new production stage.

## Why
The full ``node`` image is built on buildpack-deps: compilers, ``python3``, ``git``,
ImageMagick and dozens of ``-dev`` packages that a production container never runs.  They make
the image several times bigger (a slower pull and start) and every one of them is a package a
scanner reports CVEs for.  The Node.js Docker best practices and Docker's own guide recommend a
build stage with the tools and a small production base image; ``-slim`` is the same Debian
release and glibc, so prebuilt native modules keep working.  Measured in the real-engine suite
(tests/e2e, the ``ts-build`` app: Express + TypeScript built with the real compiler, on test images
made from real Debian root filesystems and the official Node.js builds; uncompressed sizes,
2026-11-29): 846 MB as shipped (one stage on ``node:22``), 795 MB split into build and
production stages on the full image, 282 MB with the production stage on ``node:22-slim``; the
slim image answers HTTP, runs as ``node`` and stops on SIGTERM.

## Example
```diff
 FROM node:22-bookworm AS build
 WORKDIR /app
 COPY . .
 RUN npm ci && npm run build

-FROM node:22-bookworm
+FROM node:22-bookworm-slim
 WORKDIR /app
 COPY package.json package-lock.json ./
 RUN npm ci --omit=dev
 COPY --from=build /app/dist ./dist
 CMD ["node", "dist/server.js"]
```

## Fix safety
Unsafe.  The checks read what the Dockerfile, the package.json scripts, the entrypoint scripts
in the build context and the lockfile say; the app's own code is not read: a ``child_process``
call to ``git`` or ``convert``, a shared library loaded by a native module outside the tables,
or a script two calls deep can still need the full image (the fix's note says so).  Nothing is
changed, and the reason names the program, package or fact, when: the production stage
installs OS packages; a listed program is used; an entrypoint script named by the command
cannot be read from the build context; a listed native module is a production dependency; the
stage runs the install and a production package has an install script outside the prebuilt
table; package.json has production dependencies but there is no ``package-lock.json`` to tell
which have native code; the stage builds on another stage; the tag is not one of the official
image's Debian tag forms (a custom or unknown tag); the new tag is not proved to exist by
dockerfix's table of the official image's tags (``fixer/data/node_images.json``: ``node:22.11.0-slim``,
whose minor the table does not list, or ``node:22-wheezy-slim``); the ``FROM`` is pinned and no registry
look-up can re-pin the new tag; or the build has a single stage.  Already slim, Alpine, Windows
and non-``node`` images are left alone.  Alpine (by configuration only) also needs no native
code at all, no ``apt``/``dpkg`` use, no ``bash`` and no ``useradd``/``groupadd`` (shadow).

## Related codes
none (hadolint and BuildKit checks do not look at image variants).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable
from typing import ClassVar

from dockerfix.fixer.context import Context
from dockerfix.fixer.document import Document, Instruction, Stage
from dockerfix.fixer.edits import Applicability, Edit, Fix, Skip
from dockerfix.fixer.positions import source_line
from dockerfix.fixer.imageref import ImageRef, ImageRefError, parse as parse_ref
from dockerfix.fixer.node_images import ABSENT, FROZEN, MAINTAINED
from dockerfix.fixer.transform import Transform

from ._images import repin_blocker
from ._pkgmanagers import package_manager_commands
from ._stages import expand_args
from ._shell import programs_in
from ._startcmd import argv_programs, command_words, final_command
from ._variants import (
    ALPINE_MISSING_TOOLS,
    DEBIAN_RELEASES,
    INIT_PACKAGES,
    NATIVE_SYSTEM_LIBS,
    NODE_CODENAMES,
    PREBUILT_INSTALL_OK,
    SLIM_MISSING_TOOLS,
)

_VERSION_RE = re.compile(r"\d+(?:\.\d+){0,2}")
_MOVING = ("lts", "current", "latest")
#: Prebuilt platform packages: native code for one OS/CPU (``@img/sharp-linux-x64``,
#: ``@swc/core-linux-x64-gnu``, ``@esbuild/linux-arm64``, ``@rollup/rollup-linux-x64-musl``).
_PLATFORM_PKG_RE = re.compile(r"(?:^|[/-])linux-(?:x64|arm64|arm|ia32|s390x|ppc64|riscv64|loong64)"
                              r"(?:-(?:gnu|musl|gnueabihf|musleabihf))?$")
_SCRIPT_SUFFIXES = (".sh", ".bash")
#: Signs that the system CA store (package ca-certificates) is used.
_SYSTEM_CA_RE = re.compile(r"--use-openssl-ca|--use-system-ca|\bSSL_CERT_(?:FILE|DIR)\b|/etc/ssl/certs")
_PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")  # the node image's PATH


def classify_tag(tag: str | None) -> tuple[str, str] | None:
    """(``kind``, ``stem``) of an official ``node`` tag: ``kind`` is ``full`` (a Debian image with
    buildpack-deps), ``slim``, ``alpine`` or ``other`` (Windows...); ``stem`` is the tag without
    the Debian release and variant (``22``, ``lts``, ``jod``; ``latest`` for none).  None: not a
    tag form the official image publishes."""
    if tag is None:
        return "full", "latest"
    t = tag.lower()
    if "alpine" in t:
        return "alpine", t
    if any(w in t for w in ("windows", "nanoserver", "servercore")):
        return "other", t
    parts = t.split("-")
    kind = "full"
    if parts[-1] == "slim":
        kind = "slim"
        parts = parts[:-1]
    if parts and parts[-1] in DEBIAN_RELEASES:
        parts = parts[:-1]
        if not parts:
            return kind, "latest"  # node:bookworm, node:bookworm-slim
    if not parts:
        return (kind, "latest") if kind == "slim" else None  # node:slim
    if len(parts) != 1:
        return None
    stem = parts[0]
    if _VERSION_RE.fullmatch(stem) or stem in _MOVING or stem in NODE_CODENAMES:
        return kind, stem
    return None


def target_tag(tag: str | None, variant: str) -> str:
    """The tag of the same line and Debian release in ``variant`` (``slim`` or ``alpine``).
    Only for tags :func:`classify_tag` calls ``full``."""
    t = (tag or "latest").lower()
    parts = t.split("-")
    release = parts[-1] if parts[-1] in DEBIAN_RELEASES else None
    stem = parts[0] if not (release and len(parts) == 1) else "latest"
    if variant == "alpine":
        return "alpine" if stem == "latest" else f"{stem}-alpine"
    if stem == "latest":
        return f"{release}-slim" if release else "slim"
    return f"{stem}-{release}-slim" if release else f"{stem}-slim"


class SlimRuntime(Transform):
    code = "DFX012"
    name = "slim-runtime"
    summary = "Run the production stage of a multi-stage build on the -slim node image"
    default_applicability = Applicability.UNSAFE
    related = ()
    #: Codes that must run before this one: the tag is chosen (DFX003) and the build split
    #: (DFX010) first.  Digest pinning (DFX002) pins the new tag in the next round of the run.
    after: ClassVar[tuple[str, ...]] = ("DFX003", "DFX010")

    def fix(self, doc: Document, ctx: Context) -> Iterable[Fix | Skip]:
        stage = doc.final_stage
        if stage is None:
            return
        variant = getattr(ctx.config, "runtime_variant", "slim") or "slim"
        chain = list(doc.stage_chain(stage))
        root = chain[-1]
        raw = root.base
        image = expand_args(doc, raw) if "$" in raw else raw
        ref = _node_ref(image)
        if ref is None:
            return
        kind = classify_tag(ref.tag)
        line = stage.from_.line
        if kind is None:
            yield Skip(self.code, f"the production stage's base `{image}` has a tag that is not one of the official "
                       "node image's Debian tag forms, so it is not known whether a -slim variant exists", line)
            return
        if kind[0] != "full":
            return  # already slim, alpine or another platform
        if len(doc.stages) == 1:
            yield Skip(self.code, f"single-stage build: the one stage on `{image}` builds the app and runs it, so it "
                       "needs the full image (DFX010 splits such builds into a build and a production stage first)",
                       line)
            return
        if len(chain) > 1:
            yield Skip(self.code, f"the production stage builds on stage `{stage.base}` (line "
                                  f"{source_line(doc, root.from_.line)}); "
                       f"moving `{image}` to -{variant} would change that stage too", line)
            return
        if "$" in raw:
            yield Skip(self.code, f"the production stage's base `{raw}` comes from a build argument; set its default "
                       f"to the -{variant} tag by hand", line)
            return
        new_tag = target_tag(ref.tag, variant)
        state = ctx.node_images.tag_state(new_tag, ctx.today, ctx.node_releases())
        if state not in (MAINTAINED, FROZEN):  # a tag that is not proved to exist is never written
            yield Skip(self.code, f"`{image}` stays: `node:{new_tag}` " + (
                "is not a published tag" if state == ABSENT else "cannot be proved to exist (not in dockerfix's "
                f"table of the official image's tags of {ctx.node_images.as_of})"), line)
            return
        blockers = self._blockers(doc, ctx, stage, variant)
        if blockers:
            yield Skip(self.code, f"`{image}` stays (not -{variant}): " + "; ".join(blockers), line)
            return
        notes = ["only the Dockerfile, package.json scripts, entrypoint scripts in the build context and the "
                 "lockfile were checked: code that runs system programs itself (child_process) may need the "
                 "full image"]
        message = f"run the production stage on `{ref.format(tag=new_tag, digest=False)}` instead of `{image}`"
        if ref.digest:
            blocker = repin_blocker(ctx, ref.format(tag=new_tag, digest=False))
            if blocker is not None:
                yield Skip(self.code, f"`{image}` stays: it is pinned to a digest, and the -{variant} tag cannot be "
                           f"pinned in this run ({blocker})", line)
                return
            message += "; the old digest is dropped and digest pinning (DFX002) pins the new tag"
        try:
            new_ref = ref.format(tag=new_tag, digest=False)
        except ImageRefError as e:  # pragma: no cover - target_tag only writes valid tags
            yield Skip(self.code, f"`{image}` stays: {e}", line)
            return
        yield Fix(self.code, message, line, (Edit.replace(stage.base_span, new_ref),), self.default_applicability,
                  tuple(notes))

    # -- evidence -----------------------------------------------------------------------------
    def _blockers(self, doc: Document, ctx: Context, stage: Stage, variant: str) -> list[str]:
        missing = dict(SLIM_MISSING_TOOLS)
        if variant == "alpine":
            missing.update(ALPINE_MISSING_TOOLS)
        out: list[str] = []
        out += self._os_packages(doc, stage, variant)
        for ins in stage.instructions:
            hit = _SYSTEM_CA_RE.search(ins.logical)
            if hit and ins.keyword != "FROM":
                out.append(f"{ins.keyword} on line {source_line(doc, ins.line)} uses the system CA store "
                           f"(`{hit.group(0)}`), and the "
                           f"-{variant} image has no ca-certificates")
        used: dict[str, str] = {}  # program -> where

        def note(programs: Iterable[str], where: str) -> None:
            for p in programs:
                if p in missing and p not in used:
                    used[p] = where

        for ins in stage.instructions:
            if ins.keyword == "RUN":
                if ins.is_json:
                    note(argv_programs(list(ins.json_args or ())), f"the RUN on line {source_line(doc, ins.line)}")
                else:
                    note(programs_in(ins.args_text), f"the RUN on line {source_line(doc, ins.line)}")
                for h in ins.heredocs:
                    note(programs_in(h.body), f"the heredoc of the RUN on line {source_line(doc, ins.line)}")
            elif ins.keyword == "HEALTHCHECK":
                note(_healthcheck_programs(ins), f"HEALTHCHECK on line {source_line(doc, ins.line)}")
            elif ins.keyword == "SHELL" and ins.json_args:
                note(argv_programs(list(ins.json_args[:1])), f"SHELL on line {source_line(doc, ins.line)}")
        ep, cmd = final_command(doc)
        argv: list[str] = []
        for start in (i for i in (ep, cmd) if i is not None):
            words = command_words(start)
            argv += words
            progs = argv_programs(words) if start.is_json else programs_in(start.args_text)
            note(progs, f"{start.keyword} on line {source_line(doc, start.line)}")
        # package.json scripts the command starts
        for name, body in _started_scripts(argv, ctx):
            note(programs_in(body), f"scripts.{name} in package.json")
            argv += body.split()
        # entrypoint/command script files
        for word in dict.fromkeys(argv):
            if not _looks_like_script(word):
                continue
            text, where = _script_text(word, stage, ctx)
            if text is None:
                official = word.rsplit("/", 1)[-1] == "docker-entrypoint.sh" and not any(
                    i.keyword in ("COPY", "ADD") and "docker-entrypoint.sh" in i.logical for i in stage.instructions)
                if official and variant == "slim":
                    continue  # the official image's own entrypoint (not replaced here); the slim image has it too
                out.append(f"the command runs `{word}`, a script not readable from the build context, so the "
                           "programs it uses are unknown")
                continue
            shebang = text.splitlines()[0] if text.startswith("#!") else ""
            note(programs_in(shebang[2:]) if shebang else [], f"the shebang of {where}")
            note(programs_in(text), f"the script {where}")
        for prog, where in used.items():
            out.append(f"{where} runs `{prog}` ({missing[prog]} is not in the -{variant} image)")
        out += self._native(doc, ctx, stage, variant)
        return out

    def _os_packages(self, doc: Document, stage: Stage, variant: str) -> list[str]:
        out = []
        for ins in stage.instructions:
            if ins.keyword != "RUN":
                continue
            commands = list(ins.commands) + [c for script in ins.heredoc_scripts for c in script.commands]
            for cmd in commands:
                words = list(cmd.argv)
                progs = [w.rsplit("/", 1)[-1] for w in words]
                for i, p in enumerate(progs):
                    if p not in ("apt-get", "apt", "aptitude"):
                        continue
                    rest = [w for w in words[i + 1:] if not w.startswith("-")]
                    if rest[:1] != ["install"]:
                        if variant == "alpine":
                            out.append(f"the RUN on line {source_line(doc, ins.line)} uses {p} (the alpine image has apk)")
                        break
                    pkgs = [w.split("=", 1)[0] for w in rest[1:]]
                    extra = [pk for pk in pkgs if pk not in INIT_PACKAGES]
                    if variant == "alpine":
                        out.append(f"the RUN on line {source_line(doc, ins.line)} installs {', '.join(pkgs) or 'packages'} with "
                                   f"{p} (the alpine image has apk)")
                    elif extra or not pkgs:
                        out.append(f"the RUN on line {source_line(doc, ins.line)} installs OS packages "
                                   f"({', '.join(extra) or 'unnamed'}) that may need libraries and tools of the "
                                   "full image")
                    break
        return out

    def _native(self, doc: Document, ctx: Context, stage: Stage, variant: str) -> list[str]:
        lock = getattr(ctx, "lock", None)
        pkg = ctx.package
        deps = pkg.dependencies if pkg is not None else {}
        if lock is None:
            if pkg is None:
                return [ctx.package_error or "no package.json in the build context, so the production dependencies "
                        "(and their native code) are unknown"]
            if deps or pkg.data.get("optionalDependencies"):
                return ["no package-lock.json to tell which production dependencies (and their dependencies) have "
                        "native code or install scripts"]
            production: frozenset[str] = frozenset()
            scripts: tuple[str, ...] = ()
        else:
            production = lock.production | frozenset(deps)
            scripts = lock.install_scripts
        out = []
        for name in sorted(production):
            if name in NATIVE_SYSTEM_LIBS:
                out.append(f"the production dependency {name} {NATIVE_SYSTEM_LIBS[name]}")
        if variant == "alpine":
            native = sorted(set(scripts) | {n for n in production if _PLATFORM_PKG_RE.search(n)})
            if native:
                out.append("production dependencies with native code (glibc builds, not for Alpine's musl): "
                           + ", ".join(native[:8]) + (" ..." if len(native) > 8 else ""))
            if ctx.read_file("binding.gyp") is not None:
                out.append("the build context has a binding.gyp (native code built for glibc)")
            return out
        if _stage_installs(stage):
            unknown = [n for n in scripts if n not in PREBUILT_INSTALL_OK and n not in NATIVE_SYSTEM_LIBS]
            if unknown:
                out.append("the stage installs the production dependencies and "
                           + ", ".join(unknown[:8]) + (" ..." if len(unknown) > 8 else "")
                           + (" run install scripts" if len(unknown) > 1 else " runs an install script")
                           + " (hasInstallScript) that may compile with node-gyp, which needs "
                           "python3, make and g++ (not in the -slim image)")
        return out


def _node_ref(image: str | None) -> ImageRef | None:
    if not image:
        return None
    try:
        ref = parse_ref(image)
    except ImageRefError:
        return None
    return ref if ref.repository == "docker.io/library/node" else None


def _healthcheck_programs(ins: Instruction) -> list[str]:
    text = ins.args_text.strip()
    head, _, rest = text.partition(" ")
    if head.upper() != "CMD":
        return []  # NONE
    rest = rest.strip()
    if rest.startswith("["):
        try:
            argv = json.loads(rest)
        except ValueError:
            argv = None
        if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
            return argv_programs(argv)
    return programs_in(rest)


def _stage_installs(stage: Stage) -> bool:
    """Does the stage run the package manager's install of the project (``npm ci``...)?"""
    return any(c.action in ("install", "ci") for ins in stage.instructions if ins.keyword == "RUN"
               for c in package_manager_commands(ins))


def _started_scripts(argv: list[str], ctx: Context) -> list[tuple[str, str]]:
    """The package.json scripts ``npm start``/``npm run x``/``yarn x`` in the command run."""
    if ctx.package is None:
        return []
    scripts = ctx.package.scripts
    names: list[str] = []
    for i, w in enumerate(argv):
        if w.rsplit("/", 1)[-1] not in ("npm", "yarn", "pnpm"):
            continue
        rest = [a for a in argv[i + 1:] if not a.startswith("-")]
        if rest[:1] == ["start"]:
            names.append("start")
        elif rest[:1] in (["run"], ["run-script"]) and len(rest) > 1:
            names.append(rest[1])
        elif w != "npm" and rest:
            names.append(rest[0])
    out = []
    for name in names:
        for s in (f"pre{name}", name, f"post{name}"):
            if s in scripts:
                out.append((s, scripts[s]))
    return out


def _looks_like_script(word: str) -> bool:
    base = word.rsplit("/", 1)[-1]
    if not base or base.startswith("-") or "$" in word or "=" in word:
        return False
    return base.endswith(_SCRIPT_SUFFIXES) or ("entrypoint" in base and "." not in base)


def _script_text(word: str, stage: Stage, ctx: Context) -> tuple[str | None, str]:
    """The text of a script the command names, found in the build context through the stage's
    COPY lines (or at the same relative path / by its name at the context root)."""
    workdir = "/"
    candidates: list[str] = []
    for ins in stage.instructions:
        if ins.keyword == "WORKDIR" and len(ins.words) == 1:
            workdir = posixpath.normpath(posixpath.join(workdir, ins.words[0].value))
        if ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and not ins.is_json and len(ins.words) >= 2:
            srcs = [w.value for w in ins.words[:-1]]
            dest_n = posixpath.normpath(posixpath.join(workdir, ins.words[-1].value))
            paths = [posixpath.normpath(posixpath.join(workdir, word))]
            if "/" not in word:  # a bare name is looked up in PATH
                paths += [f"{d}/{word}" for d in _PATH_DIRS]
            for path in paths:
                if path == dest_n and len(srcs) == 1:
                    candidates.append(srcs[0])
                elif path.startswith(dest_n.rstrip("/") + "/"):
                    rel = path[len(dest_n.rstrip("/")) + 1:]
                    for s in srcs:
                        if posixpath.basename(s.rstrip("/")) == rel:
                            candidates.append(s)
                        candidates.append(posixpath.join(s, rel))
    rel_word = word[2:] if word.startswith("./") else word
    if rel_word.startswith(workdir.rstrip("/") + "/"):
        rel_word = rel_word[len(workdir.rstrip("/")) + 1:]
    candidates += [rel_word.lstrip("/"), posixpath.basename(word)]
    for c in dict.fromkeys(posixpath.normpath(c) for c in candidates):
        if c.startswith("..") or c in (".", ""):
            continue
        text = ctx.read_file(c)
        if text is not None:
            return text, c
    return None, word
