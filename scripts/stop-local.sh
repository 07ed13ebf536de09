#!/usr/bin/env bash
# Stop the moto_server that start-local.sh started, and nothing else.
#
#   LOCAL_STATE_DIR  where start-local.sh keeps moto.pid and env (default <repo>/.local)
#
# The pid in the pid file is killed only while it is still a moto_server on the recorded port;
# a pid that has been reused by another program is left alone. The AWS_ENDPOINT_URL line that
# start-local.sh recorded in $LOCAL_STATE_DIR/env is removed (other lines are kept), so the
# scripts no longer point at it. Idempotent: with nothing running it says so and exits 0.
# First (unless LOCAL_AUDIT=0) the stream poller and PostgreSQL that local-up started are stopped
# by scripts/local_servers.py, the same way: only while each pid is still that server.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${LOCAL_STATE_DIR:-$repo/.local}"
pidfile="$state/moto.pid"
envfile="$state/env"

# Drop AWS_ENDPOINT_URL from $envfile, keeping the other lines; an env file left empty is
# removed. (start-local.sh has the same function.)
forget_endpoint() {
  [[ -f "$envfile" ]] || return 0
  local tmp="$envfile.$$"
  grep -v '^AWS_ENDPOINT_URL=' "$envfile" >"$tmp" || true
  # 0600: the env file also carries the local audit database's passwords.
  if [[ -s "$tmp" ]]; then chmod 600 "$tmp" && mv -f "$tmp" "$envfile"; else rm -f "$tmp" "$envfile"; fi
}

if [[ "${LOCAL_AUDIT:-1}" != "0" && -x "$repo/.venv/bin/python" ]]; then
  (cd "$repo" && "$repo/.venv/bin/python" -m scripts.local_servers down) ||
    echo "local-down: the audit servers did not stop cleanly; see above" >&2
fi

if [[ ! -f "$pidfile" ]]; then
  forget_endpoint
  echo "local-down: moto_server is not running (no $pidfile)"
  exit 0
fi
read -r pid port <"$pidfile" || true
if [[ ! "${pid:-}" =~ ^[0-9]+$ || ! "${port:-}" =~ ^[0-9]+$ ]]; then
  rm -f "$pidfile"
  forget_endpoint
  echo "local-down: removed unreadable pid file $pidfile; nothing stopped"
  exit 0
fi

# Empty when the pid is gone or a zombie (exited, not yet reaped: a container's init may never
# reap it).
cmd=""
stat="$(ps -p "$pid" -o stat= 2>/dev/null || true)"
if [[ -n "$stat" && "$stat" != Z* ]]; then cmd="$(ps -p "$pid" -o args= 2>/dev/null || true)"; fi
if [[ -z "$cmd" || "$cmd" != *moto_server* || ! "$cmd" =~ (^|[[:space:]])-p[[:space:]]+$port($|[[:space:]]) ]]; then
  # Our server is gone (crashed, killed, or a reboot); its pid may now be another program's.
  rm -f "$pidfile"
  forget_endpoint
  echo "local-down: our moto_server (pid $pid, port $port) had already exited and its in-memory data with it; removed its stale pid file${cmd:+ (pid $pid now belongs to another program, left running: $cmd)}"
  exit 0
fi

kill -TERM "$pid"
for _ in $(seq 1 50); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
forget_endpoint
echo "local-down: stopped moto_server (pid $pid, port $port); local data is gone (moto keeps it in memory)"
