#!/usr/bin/env bash
# Print the grading image's tag: 12 hex of a SHA-256 over the contents and paths of
# pyproject.toml, docker/ and grader/ (caches and wheels left out) and the build
# arguments that change the image (the base image, where torch comes from).
#
#   docker/image-tag.sh BASE_IMAGE TORCH_SOURCE
set -euo pipefail
cd "$(dirname "$0")/.."
{
  find pyproject.toml docker grader student/data_load.py -type f \
    ! -path '*/__pycache__/*' ! -name '*.pyc' ! -path 'docker/wheelhouse/*.whl' -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum
  printf 'base=%s\ntorch=%s\n' "${1:?usage: docker/image-tag.sh BASE_IMAGE TORCH_SOURCE}" "${2:?torch source}"
} | sha256sum | cut -c1-12
