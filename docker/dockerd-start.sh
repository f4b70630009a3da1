#!/usr/bin/env bash
# Start a Docker daemon for CI or a dev machine without one, and wait until it answers.
#
# Does nothing when `docker info` already answers (a daemon we did not start is left
# alone: no pid file is written, so dockerd-stop.sh will not touch it). Otherwise
# installs Debian's docker.io when dockerd is missing (needs root and apt), starts
# dockerd in the background and records its pid in $FKP_DOCKERD_DIR/dockerd.pid, its
# log in $FKP_DOCKERD_DIR/dockerd.log. Exit 0 when the daemon answers, 1 with the
# reason on stderr otherwise.
set -euo pipefail

STATE_DIR="${FKP_DOCKERD_DIR:-/tmp/fkp-dockerd}"
PID_FILE="$STATE_DIR/dockerd.pid"
LOG_FILE="$STATE_DIR/dockerd.log"
WAIT_S="${FKP_DOCKERD_WAIT_S:-60}"

say() { echo "dockerd-start: $*" >&2; }

if docker info >/dev/null 2>&1; then
  say "a Docker daemon already answers; not starting another"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "dockerd is not installed and cannot be installed here (needs root and apt-get); install docker.io"
    exit 1
  fi
  say "installing docker.io"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io; } \
      >"${TMPDIR:-/tmp}/fkp-docker-install.log" 2>&1; then
    say "apt-get install docker.io failed; last lines of ${TMPDIR:-/tmp}/fkp-docker-install.log:"
    tail -n 5 "${TMPDIR:-/tmp}/fkp-docker-install.log" >&2
    exit 1
  fi
fi
if ! command -v docker >/dev/null 2>&1; then
  say "the docker client is missing (docker.io provides it)"
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  say "dockerd must be started as root (uid is $(id -u))"
  exit 1
fi

mkdir -p "$STATE_DIR"
if [ -s "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  say "dockerd $(cat "$PID_FILE") from an earlier start is running but does not answer; see $LOG_FILE"
  exit 1
fi

# setsid: the daemon must not die with the shell or the terminal that started it.
setsid dockerd --pidfile "$PID_FILE.dockerd" >"$LOG_FILE" 2>&1 </dev/null &
echo $! >"$PID_FILE"
pid=$(cat "$PID_FILE")

for _ in $(seq "$WAIT_S"); do
  if docker info >/dev/null 2>&1; then
    say "dockerd $pid answers (log: $LOG_FILE)"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    say "dockerd exited during start-up; last lines of $LOG_FILE:"
    tail -n 10 "$LOG_FILE" >&2
    rm -f "$PID_FILE"
    exit 1
  fi
  sleep 1
done
say "dockerd $pid did not answer within ${WAIT_S}s; last lines of $LOG_FILE:"
tail -n 10 "$LOG_FILE" >&2
exit 1
