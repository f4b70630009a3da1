#!/usr/bin/env bash
# Stop the Docker daemon that dockerd-start.sh started, by the pid it recorded.
# A daemon it did not start (no pid file) is left running. Always exits 0.
set -uo pipefail

STATE_DIR="${FKP_DOCKERD_DIR:-/tmp/fkp-dockerd}"
PID_FILE="$STATE_DIR/dockerd.pid"

say() { echo "dockerd-stop: $*" >&2; }

if [ ! -s "$PID_FILE" ]; then
  exit 0
fi
pid=$(cat "$PID_FILE")
# Only signal the process if it still is the dockerd we started (pids get reused).
if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "dockerd" ]; then
  say "pid $pid is no longer dockerd; nothing to stop"
  rm -f "$PID_FILE"
  exit 0
fi
kill -TERM "$pid"
for _ in $(seq 30); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
if kill -0 "$pid" 2>/dev/null; then
  say "dockerd $pid ignored SIGTERM for 30s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null
fi
rm -f "$PID_FILE"
say "stopped dockerd $pid"
exit 0
