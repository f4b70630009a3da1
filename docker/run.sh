#!/usr/bin/env bash
# Start a grading container the way `make docker-grade` does (the one place that says how):
#
#   docker/run.sh [DOCKER-RUN-OPTION...] -- IMAGE [ARG...]
#
# Environment: SUBMISSION (default .), REPORTS (default reports), DATA (default
# data/facial-keypoints), SAMPLES (default data/samples). The submission and the data
# are mounted read-only, REPORTS is the only writable mount, at /grader-out/reports (inside
# a root-only folder: the host folder's owner may have the student's uid), the test labels
# go to /grader-secrets (root only). The container runs as root: the grader drops every
# child process to the user `student` (FKP_SANDBOX_USER in the image) and hands the report
# it publishes to the calling user (FKP_REPORT_OWNER).
set -euo pipefail

die() { echo "docker/run.sh: $*" >&2; exit 2; }

options=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do options+=("$1"); shift; done
[ $# -ge 2 ] || die "usage: docker/run.sh [DOCKER-RUN-OPTION...] -- IMAGE [ARG...]"
shift
image="$1"; shift

existing() { realpath -e "$1" 2>/dev/null || die "$2: $1 does not exist${3:+; $3}"; }
submission=$(existing "${SUBMISSION:-.}" SUBMISSION)
data=$(existing "${DATA:-data/facial-keypoints}" DATA "run \`make data\`")
samples=$(existing "${SAMPLES:-data/samples}" SAMPLES "run \`make data\`")
for part in training test training_frames_keypoints.csv test_frames_keypoints.csv; do
  existing "$data/$part" DATA "the course layout has training/, test/ and the two CSVs" >/dev/null
done
# An instructor's private test set beside the dataset (make data TEST_SOURCE=...): its images are
# the test images, its labels and manifest go to /grader-secrets like the course's labels.
test="$data"; private=$(dirname "${DATA:-data/facial-keypoints}")/private-test
[ -f "$private/manifest.json" ] && test=$(realpath -e "$private")
mkdir -p "${REPORTS:-reports}"
reports=$(existing "${REPORTS:-reports}" REPORTS)

# Resources: no network, nothing writable but the reports folder and a size-capped /tmp.
limits=(
  --network none --read-only
  --tmpfs /tmp:rw,nosuid,nodev,noexec,size=2g,mode=1777
  --memory 6g --memory-swap 6g --cpus 2 --pids-limit 512
  --shm-size 512m   # PyTorch DataLoader workers share tensors through /dev/shm
)
# The student's processes run under a uid of this container's own: the kernel counts the process limit
# per uid across containers, so a fork bomb in another container must not count against this one.
sandbox_uid=$(( 100000 + (RANDOM << 15 | RANDOM) ))
# Root keeps only what dropping to `student` and cleaning up after it need.
privileges=(
  --user 0:0 --init --security-opt no-new-privileges --cap-drop ALL
  --cap-add SETUID --cap-add SETGID --cap-add KILL --cap-add CHOWN --cap-add FOWNER --cap-add DAC_OVERRIDE
)
mounts=(
  -v "$submission:/submission:ro"
  -v "$data/training:/data/training:ro"
  -v "$test/test:/data/test:ro"
  -v "$data/training_frames_keypoints.csv:/data/training_frames_keypoints.csv:ro"
  -v "$samples:/data/samples:ro"
  -v "$test/test_frames_keypoints.csv:/grader-secrets/test_frames_keypoints.csv:ro"
  -v "$reports:/grader-out/reports"
)
[ "$test" = "$data" ] || mounts+=(-v "$test/manifest.json:/grader-secrets/manifest.json:ro")
exec docker run --rm "${limits[@]}" "${privileges[@]}" "${mounts[@]}" \
  --env "FKP_REPORT_OWNER=$(id -u):$(id -g)" --env "FKP_SANDBOX_UID=$sandbox_uid" "${options[@]}" "$image" "$@"
