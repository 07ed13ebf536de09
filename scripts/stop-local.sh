#!/usr/bin/env bash
# Stop the moto_server that start-local.sh started, and nothing else.
#
#   LOCAL_STATE_DIR  where start-local.sh keeps moto.pid (default <repo>/.local)
#
# The pid in the pid file is killed only while it is still a moto_server on the recorded port;
# a pid that has been reused by another program is left alone. Idempotent: with nothing running
# it says so and exits 0.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${LOCAL_STATE_DIR:-$repo/.local}"
pidfile="$state/moto.pid"

if [[ ! -f "$pidfile" ]]; then
  echo "local-down: moto_server is not running (no $pidfile)"
  exit 0
fi
read -r pid port <"$pidfile" || true
if [[ ! "${pid:-}" =~ ^[0-9]+$ || ! "${port:-}" =~ ^[0-9]+$ ]]; then
  rm -f "$pidfile"
  echo "local-down: removed unreadable pid file $pidfile; nothing stopped"
  exit 0
fi

cmd="$(ps -p "$pid" -o args= 2>/dev/null || true)"
if [[ -z "$cmd" ]]; then
  rm -f "$pidfile"
  echo "local-down: moto_server (pid $pid) had already exited; removed the stale pid file"
  exit 0
fi
if [[ "$cmd" != *moto_server* || ! "$cmd" =~ (^|[[:space:]])-p[[:space:]]+$port($|[[:space:]]) ]]; then
  rm -f "$pidfile"
  echo "local-down: pid $pid is not our moto_server (it is: $cmd); left it running and removed the stale pid file" >&2
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
echo "local-down: stopped moto_server (pid $pid, port $port); local data is gone (moto keeps it in memory)"
