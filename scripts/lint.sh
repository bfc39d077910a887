#!/usr/bin/env bash
# Lint and type-check dockerfix:   bash scripts/lint.sh   (CI runs it from scripts/test.sh)
#
# mypy cannot follow setuptools' package-dir mapping (fixer/ installs as dockerfix.fixer), so the
# sources are laid out under their installed names in build/typecheck/ (symlinks, no copies of the
# code) and mypy checks the package from there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
tree=build/typecheck
rm -rf "$tree"
mkdir -p "$tree/dockerfix"
for f in dockerfix/*.py; do ln -s "../../../$f" "$tree/dockerfix/$(basename "$f")"; done
ln -s ../../../fixer "$tree/dockerfix/fixer"
ln -s ../../../transforms "$tree/dockerfix/transforms"
echo "[lint] ruff" >&2
"$PY" -m ruff check fixer transforms dockerfix tests bench scripts
echo "[lint] mypy" >&2
( cd "$tree" && "../../$PY" -m mypy --config-file ../../pyproject.toml -p dockerfix )
