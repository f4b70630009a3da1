#!/usr/bin/env bash
# Print the base image `make grade` builds from: BASE when it is here or a registry serves it,
# else OFFLINE (docker/base-offline.sh builds it, no registry needed), saying so in one line.
#
#   docker/base-image.sh BASE OFFLINE
#
# Cheap: nothing when BASE is already local; else one `docker pull` (what the build would do
# anyway), bounded by BASE_PULL_TIMEOUT_S (default 60) for a registry that never answers.
set -uo pipefail

BASE="${1:?usage: docker/base-image.sh BASE OFFLINE}"
OFFLINE="${2:?usage: docker/base-image.sh BASE OFFLINE}"

if [ "$BASE" = "$OFFLINE" ] || docker image inspect "$BASE" >/dev/null 2>&1; then
  echo "$BASE"
  exit 0
fi
if error=$(timeout "${BASE_PULL_TIMEOUT_S:-60}" docker pull --quiet "$BASE" 2>&1 >/dev/null); then
  echo "$BASE"
  exit 0
fi
reason=$(printf '%s\n' "${error:-no answer within ${BASE_PULL_TIMEOUT_S:-60} s}" | tail -n 1 | cut -c1-160)
echo "make grade: no image registry serves $BASE ($reason); building from the offline base $OFFLINE instead (make docker-base-offline)." >&2
echo "$OFFLINE"
