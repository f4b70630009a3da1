#!/usr/bin/env bash
# Fill a wheelhouse with every wheel the grading image needs, for an offline build:
#
#   docker/wheelhouse.sh DIR [PYTHON]     PYTHON default: python3 (a Linux x86_64 CPython 3.11)
#
# Resolved for CPython $TARGET_PYTHON (default 3.11.2, Debian bookworm's, the oldest
# Python 3.11 an image base has): newer releases of some dependencies need 3.11.5+.
# Uses PYTHON's pip with this machine's pip configuration (its index, mirror or local
# wheel directories), so run it where those reach the wheels; `make docker-build
# DOCKER_WHEELHOUSE=DIR` then installs from DIR alone (pip --no-index). The torch wheel
# is whatever build that configuration serves: the CPU build from a PyTorch CPU mirror,
# or PyPI's default build with its nvidia-* wheels (several GB). Wheels already in DIR
# are not fetched again.
set -euo pipefail

DIR="${1:?usage: docker/wheelhouse.sh DIR [PYTHON]}"
PYTHON="${2:-python3}"
TARGET_PYTHON="${TARGET_PYTHON:-3.11.2}"
HERE="$(cd "$(dirname "$0")" && pwd)"

"$PYTHON" -c 'import sys, platform
if sys.version_info[:2] != (3, 11) or platform.machine() != "x86_64" or sys.platform != "linux":
    sys.exit(f"wheelhouse: {sys.executable} is Python {platform.python_version()} on {sys.platform}/{platform.machine()}; "
             "the image needs wheels for CPython 3.11 on Linux x86_64")'
mkdir -p "$DIR"
requirements="$(mktemp)"
trap 'rm -f "$requirements"' EXIT
"$PYTHON" "$HERE/requirements.py" "$HERE/../pyproject.toml" all >"$requirements"
echo "# CPython $TARGET_PYTHON" >>"$requirements"
# The wheelhouse records what it was filled for; the same requirements need no pip run.
if cmp -s "$requirements" "$DIR/.requirements.txt"; then
  echo "wheelhouse: $DIR is up to date" >&2
  exit 0
fi
# -qq: the pip configuration may list local indexes that lack most projects, and pip
# warns once per project about each; errors still show.
"$PYTHON" -m pip download -qq --only-binary=:all: --python-version "$TARGET_PYTHON" \
  --dest "$DIR" -r "$requirements"
cp "$requirements" "$DIR/.requirements.txt"
echo "wheelhouse: $(ls "$DIR"/*.whl | wc -l) wheels, $(du -sh "$DIR" | cut -f1) in $DIR" >&2
