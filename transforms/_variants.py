"""What the official ``node`` image variants hold: the programs and libraries the ``-slim`` and
``-alpine`` variants lack next to the full image, the native modules that need them, and the
tag forms of the variants (see DFX012's docstring for the sources and their dates)."""

from __future__ import annotations

from dockerfix.fixer.node_images import images


#: Programs of the full image that the slim one lacks -> the Debian package that has them.
SLIM_MISSING_TOOLS: dict[str, str] = {
    **dict.fromkeys(("curl",), "curl"),
    **dict.fromkeys(("wget",), "wget"),
    **dict.fromkeys(("gpg",), "gnupg"),
    **dict.fromkeys(("sq",), "sq"),
    **dict.fromkeys(("git", "git-lfs"), "git"),
    **dict.fromkeys(("hg",), "mercurial"),
    **dict.fromkeys(("svn",), "subversion"),
    **dict.fromkeys(("ssh", "scp", "sftp", "ssh-keygen", "ssh-keyscan"), "openssh-client"),
    **dict.fromkeys(("ps", "pgrep", "pkill", "top", "free", "uptime", "watch", "vmstat", "sysctl"), "procps"),
    **dict.fromkeys(("python", "python3"), "python3"),
    **dict.fromkeys(("make",), "make"),
    **dict.fromkeys(("gcc", "cc", "g++", "c++"), "gcc/g++"),
    **dict.fromkeys(("node-gyp",), "python3, make and g++"),
    **dict.fromkeys(("autoconf", "automake", "libtool"), "autoconf/automake/libtool"),
    **dict.fromkeys(("bzip2", "bunzip2"), "bzip2"),
    **dict.fromkeys(("unzip",), "unzip"),
    **dict.fromkeys(("xz", "unxz"), "xz-utils"),
    **dict.fromkeys(("convert", "identify", "magick", "mogrify"), "imagemagick"),
    **dict.fromkeys(("update-ca-certificates",), "ca-certificates"),
}
#: Programs Alpine's node image lacks on top of that (busybox has no bash; apk, not apt).
ALPINE_MISSING_TOOLS: dict[str, str] = {"bash": "bash", "apt-get": "apt", "apt": "apt", "dpkg": "dpkg",
                                        **dict.fromkeys(("useradd", "groupadd", "usermod", "userdel", "groupdel"),
                                                        "shadow"),
                                        "aptitude": "aptitude"}

#: Native modules that need system libraries beyond glibc and libstdc++ (see the docstring table).
NATIVE_SYSTEM_LIBS: dict[str, str] = {
    "canvas": "links cairo, pango, libjpeg and giflib, which the slim image lacks",
    "prisma": "Prisma's query engine loads the system OpenSSL (libssl), which the slim image lacks",
    "@prisma/client": "Prisma's query engine loads the system OpenSSL (libssl), which the slim image lacks",
    "@prisma/engines": "Prisma's query engine loads the system OpenSSL (libssl), which the slim image lacks",
    "pg-native": "links the system libpq, which the slim image lacks",
    "libpq": "links the system libpq, which the slim image lacks",
    "kerberos": "links the system Kerberos/GSSAPI libraries, which the slim image lacks",
    "node-rdkafka": "compiles librdkafka at install and links the system OpenSSL and zlib",
    "puppeteer": "its browser needs graphics and font libraries (libnss3, libatk...) the stage must install",
    "playwright": "its browsers need graphics and font libraries (libnss3, libatk...) the stage must install",
    "playwright-core": "its browsers need graphics and font libraries (libnss3, libatk...) the stage must install",
}
#: Production packages whose install script needs no compiler (see the docstring table).
PREBUILT_INSTALL_OK = frozenset({
    "esbuild", "@swc/core", "sharp", "bcrypt", "sqlite3", "argon2", "bufferutil", "utf-8-validate",
    "msgpackr-extract", "protobufjs", "core-js", "core-js-pure",
})
#: OS packages a production stage may install on slim too: the init process (DFX007).
INIT_PACKAGES = frozenset({"dumb-init", "tini"})

#: Debian releases the official node image is published for (each has a ``-slim`` sibling) and the
#: LTS codenames used as node tags (``node:jod``, ``node:iron-bookworm``): from the one table of the
#: official image's facts (``fixer/data/node_images.json``).
DEBIAN_RELEASES: tuple[str, ...] = images().debian_releases
NODE_CODENAMES: tuple[str, ...] = tuple(images().codenames)
