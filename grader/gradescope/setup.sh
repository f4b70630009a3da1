#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu), with the
# package unpacked in /autograder/source. docs/gradescope.md explains each step.
#
#   1. Python 3.11 (the distribution's python3.11, else the deadsnakes PPA) and a venv in /opt/fkp-venv
#   2. the pinned dependencies: torch and torchvision from the PyTorch CPU index, the rest from PyPI
#      (pip's own configuration applies: PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR installs from a wheelhouse)
#   3. the grader itself: a .pth entry for /autograder/source, which only root may read
#   4. the user `student`, who runs every student process (FKP_SANDBOX_USER in run_autograder)
#   5. the data: bundled in the zip, else fetched; verified against the pinned CSV checksums and
#      counts either way; the test labels go to a folder only root may enter
#
# Environment: FKP_TORCH_INDEX (default the PyTorch CPU index; `pypi` for PyPI's default build),
# FKP_AUTOGRADER_ROOT (default /autograder; the tests point it elsewhere).
set -euo pipefail

ROOT="${FKP_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV=/opt/fkp-venv
TORCH_INDEX="${FKP_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore

say() { echo "setup.sh: $*"; }

# 1. Python 3.11. Ubuntu 22.04 and 24.04 do not ship it as their python3; deadsnakes builds it for both.
if ! command -v python3.11 >/dev/null 2>&1 || ! python3.11 -c 'import ensurepip, venv' 2>/dev/null; then
  say "installing Python 3.11"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ! apt-get install -y -qq python3.11 python3.11-venv >/dev/null 2>&1; then
    apt-get install -y -qq software-properties-common >/dev/null
    add-apt-repository -y ppa:deadsnakes/ppa >/dev/null
    apt-get update -qq
    apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  fi
fi
python3.11 -m venv "$VENV"
say "$("$VENV/bin/python" --version) in $VENV"

# 2. The pins of pyproject.toml, torch first (from its own index), then the rest with torch kept.
"$VENV/bin/python" "$SOURCE/requirements.py" "$SOURCE/pyproject.toml" torch >"$VENV/torch.txt"
"$VENV/bin/python" "$SOURCE/requirements.py" "$SOURCE/pyproject.toml" rest >"$VENV/rest.txt"
if [ "$TORCH_INDEX" = pypi ]; then torch_source=(); else torch_source=(--index-url "$TORCH_INDEX"); fi
"$VENV/bin/pip" install --quiet "${torch_source[@]}" -r "$VENV/torch.txt"
"$VENV/bin/pip" install --quiet -r "$VENV/torch.txt" -r "$VENV/rest.txt"
"$VENV/bin/python" -c 'import torch, torchvision, cv2
print("setup.sh: torch", torch.__version__, "torchvision", torchvision.__version__, "opencv", cv2.__version__)'

# 3. The grader: importable by root from the source folder; other users cannot read the entry.
echo "$SOURCE" >"$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/fkp-grader.pth"
chown -R root:root "$SOURCE"
chmod -R u=rwX,go= "$SOURCE"
"$VENV/bin/python" -m compileall -q "$SOURCE/grader"
"$VENV/bin/python" -m grader --help >/dev/null

# 4. The unprivileged user of student code (a system uid: Ubuntu images may already have uid 1000).
id student >/dev/null 2>&1 ||
  useradd --system --user-group --no-create-home --home-dir /tmp/student --shell /usr/sbin/nologin student

# 5. The data. `grader data` verifies the CSV checksums, the counts and every labelled image.
DATA="$ROOT/fkp-data"
SECRETS="$ROOT/fkp-secrets"
if [ -f "$SOURCE/data/facial-keypoints/training_frames_keypoints.csv" ]; then
  say "data bundled in the package"
  sources=(--source "$SOURCE/data/facial-keypoints")
  [ ! -d "$SOURCE/data/samples" ] || sources+=(--samples-source "$SOURCE/data/samples")
else
  say "data not bundled: fetching the course's archive"
  sources=()
fi
"$VENV/bin/python" -m grader data "${sources[@]}" --dest "$DATA"
install -d -o root -g root -m 0700 "$SECRETS"
mv "$DATA/facial-keypoints/test_frames_keypoints.csv" "$SECRETS/test_frames_keypoints.csv"
chmod -R u=rwX,go=rX "$DATA"
chmod go+x "$ROOT"  # student processes reach the training data through it, and nothing else
say "ready: data in $DATA, test labels in $SECRETS (root only), student code runs as $(id student)"
