#!/usr/bin/env bash
# Build the grading image with the classic builder from a context of pyproject.toml,
# docker/ and grader/ only (no data, no .venv), streamed as a tar:
#
#   docker/build-image.sh IMAGE
#
# Environment: BASE_IMAGE (default python:3.11-slim), TORCH_INDEX (default the PyTorch
# CPU index; `pypi` for PyPI's default build), WHEELHOUSE (a folder of wheels from
# docker/wheelhouse.sh: streamed in as docker/wheelhouse/, the build then uses no index).
set -euo pipefail

IMAGE="${1:?usage: docker/build-image.sh IMAGE}"
BASE_IMAGE="${BASE_IMAGE:-python:3.11-slim}"
TORCH_INDEX="${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"
WHEELHOUSE="${WHEELHOUSE:-}"
cd "$(dirname "$0")/.."

wheels=()
if [ -n "$WHEELHOUSE" ]; then
  ls "$WHEELHOUSE"/*.whl >/dev/null 2>&1 || { echo "build-image: no wheels in $WHEELHOUSE" >&2; exit 1; }
  # Members "./x.whl" of the wheelhouse become "docker/wheelhouse/x.whl" in the context.
  mapfile -t names < <(cd "$WHEELHOUSE" && printf './%s\n' *.whl)
  wheels=(-C "$(cd "$WHEELHOUSE" && pwd)" --transform 's,^\./,docker/wheelhouse/,' "${names[@]}")
fi

hint() {
  cat >&2 <<EOT
build-image: building $IMAGE failed (the cause is above). Where no image registry answers,
  build FROM the offline base: make docker-base-offline, then DOCKER_BASE_IMAGE=fkp-grader-base:bookworm.
Where $TORCH_INDEX does not answer, take torch from PyPI (DOCKER_TORCH_INDEX=pypi), or from a
  wheelhouse this machine's pip fills (DOCKER_WHEELHOUSE=DIR). docs/docker.md has both paths.
EOT
  exit 1
}

echo "build-image: $IMAGE from $BASE_IMAGE, torch from ${WHEELHOUSE:-$TORCH_INDEX}" >&2
tar -c --owner=0 --group=0 --numeric-owner \
    --exclude=__pycache__ --exclude='*.pyc' --exclude='docker/wheelhouse/*.whl' \
    pyproject.toml docker grader student/data_load.py "${wheels[@]}" |
  DOCKER_BUILDKIT=0 docker build --force-rm --file docker/Dockerfile \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg TORCH_INDEX="$TORCH_INDEX" \
    --tag "$IMAGE" - || hint
