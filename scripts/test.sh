#!/usr/bin/env bash
# The project's test command (README; CI runs it through .ci/run):   bash scripts/test.sh [pytest args]
#
# 1. installs the system packages the e2e tests need (skipped when all commands exist)
# 2. proves the NON-editable install works in a throwaway venv (import names under dockerfix.*)
# 3. installs the project editable with its test extras into .venv, then lints and type-checks
#    (scripts/lint.sh: ruff, mypy); a finding fails the run
# 4. starts the container stack (registry + private dockerd) once, for every test that wants it,
#    and stops it on exit whatever happens
# 5. runs pytest; with CI=true, DOCKERFIX_REQUIRE_REAL=1 turns "tool missing" skips into failures
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}

log() { printf '\n[test.sh] %s\n' "$*" >&2; }
# pip, minus this machine's harmless "find-links location ... is ignored" noise (pip's status is kept
# by pipefail)
pip_quiet() { "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }; }

if [ "${CI:-}" = true ]; then
  export DOCKERFIX_REQUIRE_REAL=1
fi

STACK_DIR=""
INSTALL_CHECK_VENV=""
cleanup() {
  local rc=$?
  if [ -n "$STACK_DIR" ]; then bash "$ROOT/scripts/containers.sh" down "$STACK_DIR" || true; fi
  if [ -n "$INSTALL_CHECK_VENV" ]; then rm -rf "$INSTALL_CHECK_VENV"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. system packages --------------------------------------------------------------------------
log "system packages"
if ! bash scripts/containers.sh install; then
  [ -z "${DOCKERFIX_REQUIRE_REAL:-}" ] || { log "FAILED to install system packages"; exit 1; }
  log "WARNING: system packages could not be installed; e2e tests will skip"
fi

# 2. non-editable install in a fresh venv -----------------------------------------------------
log "check: non-editable install (pip install .) in a throwaway venv"
INSTALL_CHECK_VENV=$(mktemp -d /tmp/dockerfix-installcheck.XXXXXX)
"$PYTHON" -m venv "$INSTALL_CHECK_VENV"
pip_quiet "$INSTALL_CHECK_VENV/bin/pip" install -q --disable-pip-version-check "$ROOT"
# Run from / so the checkout's own dockerfix/ folder cannot be imported instead of the install.
( cd / && "$INSTALL_CHECK_VENV/bin/python" -c \
    "import dockerfix.fixer, dockerfix.transforms, dockerfix; print('installed at', dockerfix.__file__)" )
log "check: installed console script 'dockerfix --help' and a run on the example"
( cd / && "$INSTALL_CHECK_VENV/bin/dockerfix" --help >/dev/null )
( cd "$ROOT" && set +e; "$INSTALL_CHECK_VENV/bin/dockerfix" --diff --offline examples/seed >/dev/null; rc=$?; set -e
  [ $rc -eq 1 ] || { echo "installed dockerfix --diff examples/seed exited $rc, expected 1 (a diff)" >&2; exit 1; } )
rm -rf "$INSTALL_CHECK_VENV"; INSTALL_CHECK_VENV=""

# 3. development venv ---------------------------------------------------------------------------
log "venv .venv with pip install -e '.[test]'"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip_quiet .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
log "lint: ruff and mypy (scripts/lint.sh)"
PYTHON=.venv/bin/python bash scripts/lint.sh

# 4. container stack, shared by the e2e tests through DOCKERFIX_E2E_ENV -------------------------
if [ -z "${DOCKERFIX_E2E_ENV:-}" ]; then
  STACK_DIR=$(mktemp -d /tmp/dockerfix-stack.XXXXXX)
  log "container stack in $STACK_DIR"
  if bash scripts/containers.sh up "$STACK_DIR"; then
    export DOCKERFIX_E2E_ENV=$STACK_DIR/env.sh
  else
    # up cleaned up after itself; the e2e fixture reports (skip, or fail under CI)
    log "WARNING: container stack did not start"
    STACK_DIR=""
  fi
fi

# 5. tests ------------------------------------------------------------------------------------
log "pytest $*"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  log "pytest collected no tests: treating that as a failure"
  exit 5
fi
exit $rc
