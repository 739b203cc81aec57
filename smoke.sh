#!/usr/bin/env bash
# Smoke test of the whole stack on loopback, as an operator starts it:
#   - the demo target (`goldwatch demo-target`) and `goldwatch serve` (API, dashboard and
#     scheduler) on free ports, with a temporary database and artifacts folder;
#   - waits (bounded) until /healthz answers, then checks /healthz, and
#     GET /api/monitoring/status with an admin token (200, the documented keys), a staff token
#     (403) and no token (401);
#   - `goldwatch run all` once, then the status lists every check's last run;
#   - stops everything it started (trap, also on failure or Ctrl-C) and checks that no process
#     it started, nor any of their children (flows, Chromium), is left.
# Last line: `smoke: PASS`, or `smoke: FAIL: <what>` (exit 1). HTTP goes through
# .venv/bin/python and httpx, so a fresh machine needs no curl.
set -uo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
PY=$ROOT/.venv/bin/python
WAIT=${SMOKE_WAIT_SECONDS:-30}     # longest wait for a server to answer
RUN_TIMEOUT=${SMOKE_RUN_TIMEOUT:-300}
TAG="smoke-$$-$RANDOM$RANDOM"      # in the environment of every process started here
PIDS=()
WORK=""
failure=""

say() { echo "smoke: $*" >&2; }

fail() { # WHAT: stop here; the EXIT trap cleans up and prints the verdict
  failure=$1
  exit 1
}

tagged() { # pids of live processes carrying this run's tag (their children inherit it)
  local file pid
  for file in /proc/[0-9]*/environ; do
    pid=${file#/proc/}
    pid=${pid%/environ}
    grep -qzx "SMOKE_RUN=$TAG" "$file" 2>/dev/null && echo "$pid"
  done
}

describe() { # PID... -> "pid (command)" for each
  local pid
  for pid in "$@"; do
    printf '%s (%s) ' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)"
  done
}

stop_all() { # SIGTERM what was started, wait up to 15 s, then SIGKILL
  local pid i
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "process $pid did not stop on SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null
      failure=${failure:-"process $pid did not stop on SIGTERM"}
    fi
    wait "$pid" 2>/dev/null
  done
  PIDS=()
}

leftovers() { # tagged processes still alive after a settle time of up to 5 s
  local i left
  for ((i = 0; i < 20; i++)); do
    left=$(tagged)
    [ -z "$left" ] && return 0
    sleep 0.25
  done
  echo "$left"
}

finish() {
  local code=$? left
  trap - EXIT INT TERM HUP
  stop_all
  left=$(leftovers)
  if [ -n "$left" ]; then
    # shellcheck disable=SC2086
    failure=${failure:-"processes left running: $(describe $left)"}
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null
  fi
  [ -z "$failure" ] && [ "$code" -ne 0 ] && failure="exited with status $code"
  if [ -n "$failure" ] && [ -n "$WORK" ]; then
    for log in "$WORK"/*.log; do
      [ -s "$log" ] && { echo "--- tail of $(basename "$log")"; tail -n 15 "$log"; } >&2
    done
  fi
  [ -n "$WORK" ] && rm -rf "$WORK"
  if [ -n "$failure" ]; then
    echo "smoke: FAIL: $failure"
    exit 1
  fi
  echo "smoke: PASS"
  exit 0
}

start() { # NAME COMMAND...: in the background, tagged, output to $WORK/NAME.log
  local name=$1
  shift
  : >"$WORK/$name.log"
  env SMOKE_RUN="$TAG" PYTHONUNBUFFERED=1 "$@" >>"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}

goldwatch() { # the CLI in the foreground, tagged
  env SMOKE_RUN="$TAG" "$PY" -m runner "$@"
}

url_in_log() { # NAME PID PATTERN: the first URL after PATTERN in NAME.log, within $WAIT s
  local name=$1 pid=$2 pattern=$3 url i
  for ((i = 0; i < WAIT * 10; i++)); do
    url=$(grep -o -m1 "$pattern http://127\.0\.0\.1:[0-9]*" "$WORK/$name.log" | grep -o 'http.*')
    [ -n "$url" ] && { echo "$url"; return 0; }
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

check_http() { # STEP EXPECTED_STATUS PATH [TOKEN] [MODE]: MODE keys|ran checks the status body
  local out
  out=$("$PY" - "$BASE$3" "$2" "${4:-}" "${5:-}" <<'PYTHON'
import json
import sys

import httpx

url, expected, token, mode = sys.argv[1:5]
headers = {"Authorization": f"Bearer {token}"} if token else {}
try:
    response = httpx.get(url, headers=headers, timeout=10)
except httpx.HTTPError as error:
    sys.exit(f"{type(error).__name__}: {error}")
if response.status_code != int(expected):
    sys.exit(f"HTTP {response.status_code} (expected {expected}): {response.text[:300]}")
if mode:
    body = json.loads(response.text)
    keys = {"overallStatus", "lastChecks", "activeIncidentsCount"}
    if not keys <= body.keys() or body["overallStatus"] not in ("green", "yellow", "red"):
        sys.exit(f"not the documented status shape: {response.text[:300]}")
    checks = body["lastChecks"]
    for name in ("api_health", "web_health", "golden_flows"):
        last = checks.get(name)
        if not isinstance(last, dict) or not {"status", "at", "durationMs", "stale"} <= last.keys():
            sys.exit(f"lastChecks.{name} missing or incomplete: {response.text[:300]}")
        if mode == "ran" and (last["status"] is None or last["at"] is None):
            sys.exit(f"no finished run of {name} in the status: {response.text[:300]}")
print(f"HTTP {response.status_code} {response.text[:160]}")
PYTHON
  ) || fail "$1: ${out:-no answer}"
  say "$1: $out"
}

trap finish EXIT
trap 'fail "interrupted"' INT TERM HUP
[ -x "$PY" ] || fail "no $PY; run 'make test' once first"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/goldwatch-smoke.XXXXXX") || fail "cannot create a temp folder"

# Only this run's settings: no GOLDWATCH_* from the caller, and no .env (commands run in $WORK).
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^GOLDWATCH_')
export GOLDWATCH_DATABASE_URL="sqlite:///$WORK/goldwatch.db"
export GOLDWATCH_ARTIFACTS_DIR="$WORK/screenshots"
cd "$WORK" || fail "cannot enter $WORK"

start target "$PY" -m runner demo-target --port 0
TARGET=$(url_in_log target "${PIDS[-1]}" "serving at") || fail "the demo target did not start"
say "demo target at $TARGET"
export GOLDWATCH_API_BASE_URL=$TARGET GOLDWATCH_WEB_BASE_URL=$TARGET

echo "smoke-admin-password" | goldwatch user add admin@smoke.test --role admin >/dev/null \
  || fail "goldwatch user add (admin)"
echo "smoke-staff-password" | goldwatch user add staff@smoke.test --role staff >/dev/null \
  || fail "goldwatch user add (staff)"
ADMIN=$(goldwatch token create admin@smoke.test 2>/dev/null) || fail "goldwatch token create (admin)"
STAFF=$(goldwatch token create staff@smoke.test 2>/dev/null) || fail "goldwatch token create (staff)"

start serve "$PY" -m runner serve --port 0
BASE=$(url_in_log serve "${PIDS[-1]}" "dashboard at") || fail "goldwatch serve did not start"
say "monitor at $BASE"
answered=""
for ((i = 0; i < WAIT * 10; i++)); do
  "$PY" -c "import httpx, sys; httpx.get(sys.argv[1], timeout=2).raise_for_status()" \
    "$BASE/healthz" 2>/dev/null && { answered=1; break; }
  kill -0 "${PIDS[-1]}" 2>/dev/null || fail "goldwatch serve exited before /healthz answered"
  sleep 0.1
done
[ -n "$answered" ] || fail "/healthz did not answer within $WAIT s"

check_http "/healthz" 200 /healthz
check_http "status as admin" 200 /api/monitoring/status "$ADMIN" keys
check_http "status as staff" 403 /api/monitoring/status "$STAFF"
check_http "status without a token" 401 /api/monitoring/status

say "goldwatch run all ..."
timeout "$RUN_TIMEOUT" env SMOKE_RUN="$TAG" "$PY" -m runner run all >"$WORK/run.log" 2>&1
code=$?
[ "$code" -eq 0 ] || fail "goldwatch run all exited with $code"
sed 's/^/smoke:   /' "$WORK/run.log" >&2
check_http "status after the run" 200 /api/monitoring/status "$ADMIN" ran
grep -q "leader: holding the scheduler lease" "$WORK/serve.log" \
  || fail "the scheduler in goldwatch serve did not take the lease"
