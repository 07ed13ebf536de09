#!/usr/bin/env bash
# Start the local AWS emulator (moto_server from .venv) on loopback, without Docker.
#
#   MOTO_PORT        port to listen on (default 5000, moto_server's own default)
#   LOCAL_STATE_DIR  where the pid file, log and env file live (default <repo>/.local, git-ignored)
#   MOTO_START_TIMEOUT  seconds to wait for the server to answer (default 30)
#
# State, as every local service keeps it: $LOCAL_STATE_DIR/moto.pid ("<pid> <port>"), moto.log,
# and the line AWS_ENDPOINT_URL=<endpoint> in $LOCAL_STATE_DIR/env (other KEY=VALUE lines are
# kept), which make setup/seed/validate read (scripts/aws_target.py).
#
# Then (unless LOCAL_AUDIT=0) the audit trail's servers, managed in Python by
# scripts/local_servers.py: PostgreSQL 16 (pgserver's binaries, SCRAM, loopback) with the audit
# database migrated, and the stream poller that feeds the table's stream to the stream consumer;
# each keeps $LOCAL_STATE_DIR/<service>.pid and <service>.log and records its URLs in env.
#
# Idempotent: when the server this script started is still running, it says so and exits 0
# (after starting again any audit server that died).
# Listens on 127.0.0.1 only: the emulator accepts any credentials, so it must not be reachable
# from the network.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${MOTO_PORT:-5000}"
state="${LOCAL_STATE_DIR:-$repo/.local}"
timeout="${MOTO_START_TIMEOUT:-30}"
moto="${MOTO_SERVER:-$repo/.venv/bin/moto_server}"
pidfile="$state/moto.pid"
logfile="$state/moto.log"
envfile="$state/env"
endpoint="http://127.0.0.1:$port"

fail() { echo "local-up: $1" >&2; exit "${2:-1}"; }

# The audit database and the stream poller (scripts/local_servers.py); idempotent.
audit_servers() {
  if [[ "${LOCAL_AUDIT:-1}" == "0" ]]; then return 0; fi
  (cd "$repo" && "$repo/.venv/bin/python" -m scripts.local_servers up --endpoint-url "$endpoint") ||
    fail "the audit servers did not start; see the lines above and $state/postgres.log"
}

if ! [[ "$port" =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then
  fail "MOTO_PORT must be a port number 1-65535, got '$port'" 2
fi
if ! [[ "$timeout" =~ ^[1-9][0-9]*$ ]]; then
  fail "MOTO_START_TIMEOUT must be a whole number of seconds, got '$timeout'" 2
fi
command -v curl >/dev/null || fail "curl is needed to see when moto_server answers"
[[ -x "$moto" ]] || fail "$moto not found; run 'make install' (moto[server] is in requirements-dev.txt)"

# The command line of a live pid; empty when there is no such process, or when it is a zombie
# (exited, not yet reaped: a container's init may never reap it).
command_of() {
  local stat
  stat="$(ps -p "$1" -o stat= 2>/dev/null || true)"
  if [[ -z "$stat" || "$stat" == Z* ]]; then return 0; fi
  ps -p "$1" -o args= 2>/dev/null || true
}

# True when pid $1 is a moto_server listening on port $2 (the one we started).
is_our_server() {
  local cmd
  cmd="$(command_of "$1")"
  [[ "$cmd" == *moto_server* && "$cmd" =~ (^|[[:space:]])-p[[:space:]]+$2($|[[:space:]]) ]]
}

answers() {
  curl --silent --fail --max-time 2 "$endpoint/moto-api/" >/dev/null 2>&1
}

# What holds $port: "free" (nothing accepts connections), "moto" (a moto_server answers) or
# "other". curl exit 7 means the connection was refused.
port_holder() {
  local rc=0
  curl --silent --fail --output /dev/null --max-time 2 "$endpoint/moto-api/" || rc=$?
  case "$rc" in
    0) echo moto ;;
    7) echo free ;;
    *) echo other ;;
  esac
}

# Set AWS_ENDPOINT_URL in $envfile (or drop it with no argument), keeping the other lines; an
# env file left empty is removed. (stop-local.sh has the same function.)
record_endpoint() {
  local tmp="$envfile.$$"
  {
    if [[ -f "$envfile" ]]; then grep -v '^AWS_ENDPOINT_URL=' "$envfile" || true; fi
    if [[ $# -gt 0 ]]; then echo "AWS_ENDPOINT_URL=$1"; fi
  } >"$tmp"
  # 0600: the env file also carries the local audit database's passwords.
  if [[ -s "$tmp" ]]; then chmod 600 "$tmp" && mv -f "$tmp" "$envfile"; else rm -f "$tmp" "$envfile"; fi
}

mkdir -p "$state"
if [[ -f "$pidfile" ]]; then
  read -r old_pid old_port <"$pidfile" || true
  old_port="${old_port:-$port}"
  if [[ "${old_pid:-}" =~ ^[0-9]+$ ]] && is_our_server "$old_pid" "$old_port"; then
    if [[ "$old_port" != "$port" ]]; then
      fail "moto_server (pid $old_pid) is already running on port $old_port; run 'make local-down' first to move it to $port"
    fi
    record_endpoint "$endpoint"
    echo "local-up: moto_server is already running (pid $old_pid) at $endpoint"
    audit_servers
    echo "AWS_ENDPOINT_URL=$endpoint"
    exit 0
  fi
  # The server we started is gone (it crashed, was killed, or the machine rebooted); its pid may
  # since have been given to an unrelated program, which is left alone.
  rm -f "$pidfile"
  record_endpoint
  if [[ ! "${old_pid:-}" =~ ^[0-9]+$ ]]; then
    echo "local-up: removed an unreadable pid file ($pidfile)"
  else
    reused="$(command_of "$old_pid")"
    echo "local-up: our moto_server (pid $old_pid, port $old_port) had died and its in-memory data with it; removed its stale pid file${reused:+ (pid $old_pid now belongs to another program, left alone)}"
  fi
fi

case "$(port_holder)" in
  moto) fail "a moto_server that local-up did not start already answers at $endpoint; stop it, or choose another MOTO_PORT" ;;
  other) fail "another process holds port $port; stop it, or choose another MOTO_PORT (e.g. make local-up MOTO_PORT=5055)" ;;
esac

echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) starting moto_server on 127.0.0.1:$port" >>"$logfile"
# setsid: the server outlives this shell and make; AWS managed IAM policies are loaded so the
# backup role can attach AWSBackupServiceRolePolicyForBackup as it does in AWS.
MOTO_IAM_LOAD_MANAGED_POLICIES=true setsid "$moto" -H 127.0.0.1 -p "$port" \
  >>"$logfile" 2>&1 </dev/null &
pid=$!
echo "$pid $port" >"$pidfile"

deadline=$((SECONDS + timeout))
until answers; do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$pidfile"
    tail -n 20 "$logfile" >&2 || true
    fail "moto_server exited during start-up; log above and in $logfile"
  fi
  if ((SECONDS >= deadline)); then
    kill "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    fail "moto_server did not answer at $endpoint within ${timeout}s; see $logfile"
  fi
  sleep 0.2
done

record_endpoint "$endpoint"
echo "local-up: moto_server running (pid $pid) at $endpoint; log: $logfile; endpoint recorded in $envfile"
audit_servers
echo "AWS_ENDPOINT_URL=$endpoint"
