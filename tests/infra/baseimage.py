"""Offline stand-ins for the official ``node`` images, pushed to the loopback test registry.

No internet is available to the tests, so ``FROM node:20-alpine`` must be served by our own registry
(dockerd uses it as its docker.io mirror). The images are made directly as tar layers in Python from
files of the host: the static busybox, ``/usr/bin/node`` with the shared libraries it needs, npm, a
vendored yarn v1 and a ``node`` user (uid/gid 1000, home /home/node) - the same facts the official
images have. Two small "package manager" shims make the lines dockerfix generates work offline:

* ``/sbin/apk`` (``*-alpine`` tags): ``apk add --no-cache dumb-init`` installs ``/usr/bin/dumb-init``.
* ``/usr/bin/apt-get`` (``*-bookworm*``/``*-slim`` and plain tags): ``apt-get update`` then
  ``apt-get install -y --no-install-recommends dumb-init`` installs ``/usr/bin/dumb-init``; like real
  Debian images the package lists are empty until ``apt-get update`` ran.

Unknown packages fail the way the real tools fail, so a test notices a rewrite that needs the network.
Note the node *binary* is the host's (v20 here) under every tag; tags only decide the distro flavour.

Usage: ``python3 -m tests.infra.baseimage --registry 127.0.0.1:PORT --cache DIR``
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from .oci import DOCKER_TYPES, OCI_TYPES, Registry, canonical_json, sha256_digest

YARN_VERSION = "1.22.22"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Where the shims find the binaries they "install".
PAYLOAD_DIR = "usr/share/dockerfix-offline"

# Tags (all in library/node). Alpine ones are pushed as OCI indexes, Debian ones as Docker manifest
# lists, so both kinds of multi-arch references exist (the arm64 entry is the amd64 rootfs relabelled:
# right for digest/platform resolution, not runnable). Every current major is there because dockerfix
# may move a FROM to the newest LTS (DFX003).
MAJORS = ["18", "20", "22", "24", "25", "26", "lts", "current"]
TAGS = {
    "alpine": [f"{m}-alpine" for m in MAJORS] + ["alpine", "lts-alpine3.22", "20-alpine3.20", "22-alpine3.20"],
    "debian": [f"{m}{suffix}" for m in MAJORS
               for suffix in ("-bookworm-slim", "-bookworm", "-slim", "-trixie-slim", "-trixie", "")]
              + ["slim", "latest", "bookworm", "bookworm-slim", "trixie-slim"],
}


# Official images' entrypoint: run the command with node when it is not a command (or is a flag).
ENTRYPOINT_SH = """#!/bin/sh
set -e
# Same rule as the official node images' docker-entrypoint.sh.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
"""

APK_SHIM = f"""#!/bin/sh
# dockerfix test double for Alpine's apk (offline): knows dumb-init and tini, nothing else.
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
           echo "  $p (not available in the offline test image)" >&2; exit 1 ;;
      esac
      echo "(offline apk) installed $p"
    done ;;
  ""|update|upgrade|del|cache|info|version) ;;
  *) echo "apk (offline test double): unsupported command '$cmd'" >&2; exit 1 ;;
esac
"""

APT_GET_SHIM = f"""#!/bin/sh
# dockerfix test double for Debian's apt-get (offline): knows dumb-init and tini, nothing else.
# Like a real slim image, install fails until `apt-get update` filled /var/lib/apt/lists.
set -e
lists=/var/lib/apt/lists
cmd=""; pkgs=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o|-t|-c) shift ;;                # options that take a value
    -*) ;;                            # -y, -q, -qq, --no-install-recommends ...
    *) if [ -z "$cmd" ]; then cmd=$1; else pkgs="$pkgs $1"; fi ;;
  esac
  shift
done
case "$cmd" in
  update)
    mkdir -p $lists/partial
    echo "Package: dumb-init" > $lists/offline_dists_bookworm_main_binary-amd64_Packages
    echo "Package: tini" >> $lists/offline_dists_bookworm_main_binary-amd64_Packages
    echo "(offline apt-get) package lists updated" ;;
  install)
    for p in $pkgs; do
      case "$p" in
        dumb-init|dumb-init=*) src=dumb-init; dst=/usr/bin/dumb-init ;;
        tini|tini=*) src=tini; dst=/usr/bin/tini ;;
        ca-certificates|ca-certificates=*) continue ;;        # already present
        *) echo "E: Unable to locate package $p" >&2; exit 100 ;;
      esac
      if ! ls $lists/*_Packages >/dev/null 2>&1; then
        echo "E: Unable to locate package $p" >&2; exit 100
      fi
      cp /{PAYLOAD_DIR}/$src $dst; chmod 0755 $dst
      echo "(offline apt-get) installed $p"
    done ;;
  clean|autoclean|autoremove|upgrade|dist-upgrade|remove|purge) ;;
  *) echo "apt-get (offline test double): unsupported command '$cmd'" >&2; exit 100 ;;
esac
"""

OS_RELEASE = {
    "alpine": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.0\n'
              'PRETTY_NAME="Alpine Linux v3.20 (dockerfix offline test image)"\n',
    "debian": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm) (dockerfix offline test image)"\nNAME="Debian GNU/Linux"\n'
              'VERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
}

# Global npm/yarn config baked into the image: never try the network from inside a test build.
NPMRC = "audit=false\nfund=false\nupdate-notifier=false\noffline=true\n"
YARNRC = "disable-self-update-check true\noffline true\n"


class Layer:
    """An uncompressed tar layer built in memory; parents of every entry are added as directories."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)
        self.seen: set[str] = set()

    def _info(self, name, kind, mode, uid=0):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, uid, 0
        ti.uname = ti.gname = "node" if uid == 1000 else "root"
        return ti

    def dir(self, name, mode=0o755, uid=0):
        name = name.strip("/")
        if not name or name in self.seen:
            return
        self.dir(os.path.dirname(name))
        self.seen.add(name)
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode, uid))

    def file(self, name, data: bytes | str, mode=0o644, uid=0):
        name = name.strip("/")
        if name in self.seen:
            return
        self.dir(os.path.dirname(name))
        self.seen.add(name)
        data = data.encode() if isinstance(data, str) else data
        ti = self._info(name, tarfile.REGTYPE, mode, uid)
        ti.size = len(data)
        self.tar.addfile(ti, io.BytesIO(data))

    def symlink(self, name, target):
        name = name.strip("/")
        if name in self.seen:
            return
        self.dir(os.path.dirname(name))
        self.seen.add(name)
        ti = self._info(name, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.tar.addfile(ti)

    def host_file(self, name, src, mode=None):
        src = Path(src).resolve()
        self.file(name, src.read_bytes(), mode if mode is not None else (src.stat().st_mode & 0o777))

    def host_tree(self, name, src):
        """Copy a host directory (regular files, dirs, symlinks) owned by root."""
        src = Path(src)
        for root, dirs, files in os.walk(src):
            rel = Path(root).relative_to(src)
            self.dir(str(Path(name) / rel))
            for entry in sorted(dirs + files):
                p = Path(root) / entry
                dest = str(Path(name) / rel / entry)
                if p.is_symlink():
                    self.symlink(dest, os.readlink(p))
                elif p.is_file():
                    self.file(dest, p.read_bytes(), p.stat().st_mode & 0o777)

    def finish(self) -> tuple[bytes, str]:
        """(gzip bytes, diff_id)."""
        self.tar.close()
        raw = self.buf.getvalue()
        return gzip.compress(raw, compresslevel=1, mtime=0), sha256_digest(raw)


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
        elif parts and parts[0].startswith("/") and "ld-linux" in parts[0]:
            libs.add(Path(parts[0]))
    return sorted(libs)


def yarn_tarball(cache: Path) -> Path | None:
    """yarn v1 (one self-contained JS file) from the npm registry, cached; None when unreachable."""
    tgz = cache / f"yarn-{YARN_VERSION}.tgz"
    if tgz.exists():
        return tgz
    cache.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["npm", "pack", f"yarn@{YARN_VERSION}", "--pack-destination", str(cache)],
                       check=True, capture_output=True, text=True, timeout=120)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"baseimage: WARNING: cannot fetch yarn {YARN_VERSION} ({exc}); images get no yarn",
              file=sys.stderr)
        return None
    return tgz if tgz.exists() else None


def npm_dir() -> Path:
    # /usr/bin/npm -> ../lib/node_modules/npm/bin/npm-cli.js
    return which("npm").parent.parent


def common_layer(yarn_tgz: Path | None) -> Layer:
    node, busybox = which("node"), Path("/bin/busybox").resolve()
    dumb_init, tini = which("dumb-init"), which("tini-static")
    layer = Layer()
    for d in ["bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin", "usr/local/lib",
              "etc", "root", "proc", "sys", "dev", "run", "var/tmp", "opt", "usr/local/etc"]:
        layer.dir(d, 0o700 if d == "root" else 0o755)
    layer.dir("tmp", 0o1777)
    layer.dir("home/node", 0o755, uid=1000)
    # busybox + one symlink per applet (busybox --list-full gives paths like usr/bin/env)
    layer.host_file("bin/busybox", busybox, 0o755)
    applets = subprocess.run([str(busybox), "--list-full"], check=True, capture_output=True, text=True).stdout
    for path in applets.split():
        if path != "bin/busybox":
            layer.symlink(path, "/bin/busybox")
    # node and the glibc pieces it (and dumb-init) needs
    layer.host_file("usr/local/bin/node", node, 0o755)
    for lib in shared_libs(node, dumb_init):
        layer.host_file(str(lib), lib, 0o755)
    layer.host_file("lib64/ld-linux-x86-64.so.2", Path("/lib64/ld-linux-x86-64.so.2"), 0o755)
    # npm as in the official image: /usr/local/lib/node_modules/npm + bin symlinks
    layer.host_tree("usr/local/lib/node_modules/npm", npm_dir())
    layer.symlink("usr/local/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js")
    layer.symlink("usr/local/bin/npx", "../lib/node_modules/npm/bin/npx-cli.js")
    layer.file("usr/local/etc/npmrc", NPMRC)
    # yarn v1 as in the official image: /opt/yarn-vX + /usr/local/bin/yarn{,pkg}
    if yarn_tgz:
        with tarfile.open(yarn_tgz) as tf:
            for m in tf.getmembers():
                if m.isfile() and m.name.startswith("package/"):
                    data = tf.extractfile(m).read()
                    layer.file(f"opt/yarn-v{YARN_VERSION}/" + m.name[len("package/"):], data,
                               0o755 if "/bin/" in m.name else 0o644)
        layer.symlink("usr/local/bin/yarn", f"/opt/yarn-v{YARN_VERSION}/bin/yarn")
        layer.symlink("usr/local/bin/yarnpkg", f"/opt/yarn-v{YARN_VERSION}/bin/yarnpkg")
        layer.file("etc/yarnrc", YARNRC)
    layer.file("usr/local/bin/docker-entrypoint.sh", ENTRYPOINT_SH, 0o755)
    # binaries the package-manager shims "install"; NOT on PATH until installed
    layer.host_file(f"{PAYLOAD_DIR}/dumb-init", dumb_init, 0o755)
    layer.host_file(f"{PAYLOAD_DIR}/tini", tini, 0o755)
    if Path("/etc/ssl/certs/ca-certificates.crt").exists():
        layer.host_file("etc/ssl/certs/ca-certificates.crt", Path("/etc/ssl/certs/ca-certificates.crt"), 0o644)
    layer.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    layer.file("etc/group", "root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n")
    return layer


def flavour_layer(flavour: str) -> Layer:
    layer = Layer()
    layer.file("etc/os-release", OS_RELEASE[flavour])
    if flavour == "alpine":
        layer.file("etc/alpine-release", "3.20.0\n")
        layer.file("sbin/apk", APK_SHIM, 0o755)
    else:
        layer.file("etc/debian_version", "12.8\n")
        layer.file("usr/bin/apt-get", APT_GET_SHIM, 0o755)
        layer.dir("var/lib/apt/lists/partial")
        layer.dir("var/cache/apt")
    return layer


def cache_key(yarn_tgz: Path | None) -> str:
    """Changes when any host input or this file changes (then the cached layer is rebuilt)."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    for p in [which("node"), Path("/bin/busybox").resolve(), which("dumb-init"), which("tini-static"),
              npm_dir() / "package.json", yarn_tgz]:
        if p:
            st = p.stat()
            h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def cached_layers(cache: Path) -> dict[str, tuple[bytes, str]]:
    """{'common'|'alpine'|'debian': (gz, diff_id)}, rebuilt only when the inputs change."""
    yarn_tgz = yarn_tarball(cache)
    key_dir = cache / f"layers-{cache_key(yarn_tgz)}"
    out = {}
    for name in ("common", "alpine", "debian"):
        gz_path, id_path = key_dir / f"{name}.tar.gz", key_dir / f"{name}.diffid"
        if not gz_path.exists():
            t0 = time.monotonic()
            gz, diff_id = (common_layer(yarn_tgz) if name == "common" else flavour_layer(name)).finish()
            key_dir.mkdir(parents=True, exist_ok=True)
            gz_path.with_suffix(".tmp").write_bytes(gz)
            id_path.write_text(diff_id)
            gz_path.with_suffix(".tmp").rename(gz_path)
            print(f"baseimage: built {name} layer ({len(gz) >> 20} MiB) in {time.monotonic() - t0:.1f}s")
        out[name] = (gz_path.read_bytes(), id_path.read_text())
    out["yarn"] = (b"", YARN_VERSION if yarn_tgz else "")
    return out


def push_node_images(reg: Registry, layers: dict, repo: str = "library/node") -> dict[str, str]:
    """Push every tag in TAGS; returns {tag: digest of its index/list}."""
    node_version = subprocess.run([str(which("node")), "--version"], capture_output=True, text=True,
                                  check=True).stdout.strip().lstrip("v")
    env = [PATH_ENV, f"NODE_VERSION={node_version}"]
    if layers["yarn"][1]:
        env.append(f"YARN_VERSION={layers['yarn'][1]}")
    digests = {}
    for flavour, tags in TAGS.items():
        manifest_t, config_t, layer_t, index_t = OCI_TYPES if flavour == "alpine" else DOCKER_TYPES
        image_layers = [layers["common"], layers[flavour]]
        layer_descs = [{"mediaType": layer_t, "digest": reg.push_blob(repo, gz), "size": len(gz)}
                       for gz, _ in image_layers]
        entries = []
        for arch in ("amd64", "arm64"):
            config = canonical_json({
                "architecture": arch, "os": "linux",
                "config": {"Env": env, "Cmd": ["node"], "Entrypoint": ["docker-entrypoint.sh"],
                           "Labels": {"org.dockerfix.test-image": flavour}},
                "rootfs": {"type": "layers", "diff_ids": [d for _, d in image_layers]},
                "history": [{"created_by": "dockerfix tests/infra/baseimage.py (offline test image)"}],
            })
            manifest = canonical_json({
                "schemaVersion": 2, "mediaType": manifest_t,
                "config": {"mediaType": config_t, "digest": reg.push_blob(repo, config), "size": len(config)},
                "layers": layer_descs})
            digest = reg.put_manifest(repo, sha256_digest(manifest), manifest, manifest_t)
            entries.append({"mediaType": manifest_t, "digest": digest, "size": len(manifest),
                            "platform": {"architecture": arch, "os": "linux"}})
        index = canonical_json({"schemaVersion": 2, "mediaType": index_t, "manifests": entries})
        for tag in tags:
            digests[tag] = reg.put_manifest(repo, tag, index, index_t)
    return digests


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registry", required=True, help="host:port of the loopback registry")
    ap.add_argument("--cache", required=True, type=Path, help="directory for cached layers and yarn")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    layers = cached_layers(args.cache)
    t1 = time.monotonic()
    digests = push_node_images(Registry.from_address(args.registry), layers)
    print(f"baseimage: layers {t1 - t0:.1f}s, push {time.monotonic() - t1:.1f}s; seeded {len(digests)} "
          f"library/node tags ({', '.join(list(digests)[:4])}, ...)" + ("" if layers["yarn"][1] else "; NO yarn"))


if __name__ == "__main__":
    main()
