#!/usr/bin/env bash
# Lint, type-check and test the whole project; exits non-zero on any failure.
#   ./verify.sh          ruff, ruff format --check, mypy, then the full test suite
#   ./verify.sh --lint   ruff and mypy only (the test suite runs this part itself)
set -uo pipefail
cd "$(dirname "$0")"
BIN=.venv/bin
[ -x "$BIN/python" ] || { echo "verify: no .venv; run 'make test' once first" >&2; exit 2; }

failed=()
step() {
  local name=$1; shift
  echo "== $name: $*"
  if "$@"; then echo "== $name: ok"; else echo "== $name: FAILED"; failed+=("$name"); fi
}

step ruff "$BIN/ruff" check .
step format "$BIN/ruff" format --check .
step mypy "$BIN/mypy" .
if [ "${1:-}" != "--lint" ]; then
  step tests "$BIN/python" -m pytest
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "verify: FAIL (${failed[*]})"
  exit 1
fi
echo "verify: PASS"
