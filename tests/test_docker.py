"""The grading image: the offline base, the build, and what student code can do in a
container started the way `make docker-grade` starts it (docker/run.sh).

Real daemon, real containers, real sockets. Skipped when no Docker engine answers
`docker info`; docker/dockerd-start.sh starts one (.ci/run does).
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
from docker_support import (ROOT, STUDENT_UID, docker_engine, image, make_command, offline_base,  # noqa: F401
                            run)

pytestmark = pytest.mark.docker

SECRET_LABELS = "/grader-secrets/test_frames_keypoints.csv"
REPORTS_IN_CONTAINER = "/grader-out/reports"

# Runs inside the container: try one operation, print what happened as JSON.
PROBE = textwrap.dedent(
    """
    import errno, json, os, socket, sys
    kind, target = sys.argv[1], sys.argv[2]
    try:
        if kind == "read":
            with open(target, "rb") as handle:
                detail = handle.readline().decode(errors="replace").strip()
        elif kind == "list":
            detail = sorted(os.listdir(target))
        elif kind == "write":
            with open(target, "w") as handle:
                handle.write("written by the probe\\n")
            detail = None
        elif kind == "connect":
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=5) as conn:
                detail = conn.recv(64).decode()
        elif kind == "signal":
            os.kill(int(target), 0)
            detail = None
        print(json.dumps({"ok": True, "detail": detail, "uid": os.getuid()}))
    except OSError as exc:
        name = errno.errorcode.get(exc.errno, "timeout" if isinstance(exc, TimeoutError) else str(exc.errno))
        print(json.dumps({"ok": False, "errno": name, "error": str(exc), "uid": os.getuid()}))
    """
)


@pytest.fixture(scope="module")
def container(image, dataset_dir, samples_dir, tmp_path_factory) -> dict:
    """A detached container started by docker/run.sh, idle, with a copy of the starter
    workspace as the submission and a fresh reports folder."""
    work = tmp_path_factory.mktemp("docker-grade")
    submission, reports = work / "submission", work / "reports"
    shutil.copytree(ROOT / "student", submission / "student")
    reports.mkdir(mode=0o755)
    if os.geteuid() == 0:  # the worst case: the host user who owns the reports has the student's uid
        os.chown(reports, STUDENT_UID, STUDENT_UID)
    name = f"fkp-test-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "SUBMISSION": str(submission), "REPORTS": str(reports),
           "DATA": str(dataset_dir), "SAMPLES": str(samples_dir)}
    started = run([str(ROOT / "docker/run.sh"), "--detach", "--name", name, "--entrypoint", "sleep", "--",
                   image, "infinity"], env=env)
    assert started.returncode == 0, f"docker/run.sh failed: {started.stderr}"
    yield {"name": name, "reports": reports, "data": dataset_dir}
    run(["docker", "rm", "--force", name])


def probe(container: dict, kind: str, target: str, user: str = "student") -> dict:
    result = run(["docker", "exec", "--user", user, container["name"], "python", "-c", PROBE, kind, target])
    assert result.returncode == 0, f"probe {kind} {target} as {user} crashed: {result.stderr}"
    return json.loads(result.stdout)


@pytest.fixture
def loopback_server():
    """A TCP server on the host's loopback that greets each client; yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    stop = threading.Event()

    def serve() -> None:
        deadline = time.monotonic() + 300  # stops by itself whatever happens to the test
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"hello from the host")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    server.close()


# (1) the offline base and the image build


def test_offline_base_runs_python_and_trusts_the_host_cas(offline_base):
    version = run(["docker", "run", "--rm", "--network", "none", offline_base, "python3", "-c",
                   "import sys, venv, ssl; print('%d.%d' % sys.version_info[:2])"])
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == "3.11"
    bundle = run(["docker", "run", "--rm", "--network", "none", offline_base,
                  "cat", "/etc/ssl/certs/ca-certificates.crt"])
    marker = "-----BEGIN CERTIFICATE-----"
    host_certs = {c.strip() for c in Path("/etc/ssl/certs/ca-certificates.crt").read_text().split(marker)[1:]}
    image_certs = {c.strip() for c in bundle.stdout.split(marker)[1:]}
    assert host_certs <= image_certs, f"{len(host_certs - image_certs)} host CA certificate(s) missing in the base"


def test_image_builds_with_the_sandbox_contract(image):
    inspect = run(["docker", "image", "inspect", image, "--format", "{{json .Config}}"])
    assert inspect.returncode == 0, inspect.stderr
    config = json.loads(inspect.stdout)
    assert "FKP_SANDBOX_USER=student" in config["Env"]
    assert config["Entrypoint"] == ["python", "-m", "grader"]
    ids = run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "id", image, "student"])
    assert ids.stdout.startswith(f"uid={STUDENT_UID}(student) gid={STUDENT_UID}(student)"), ids.stdout + ids.stderr
    cli = run(["docker", "run", "--rm", "--network", "none", image, "--help"])
    assert cli.returncode == 0 and "grade" in cli.stdout, cli.stdout + cli.stderr
    lean = run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
                "command -v gcc cc make git; ls /root/.cache /wheelhouse 2>/dev/null; true"])
    assert lean.stdout.strip() == "", f"build leftovers in the final image: {lean.stdout}"
    size = run(["docker", "image", "inspect", image, "--format", "{{.Size}}"]).stdout.strip()
    print(f"{image}: {int(size) / 1e9:.2f} GB")


# (2) isolation of student code in a container started like `make docker-grade`


def test_student_cannot_read_the_test_labels(container):
    as_root = probe(container, "read", SECRET_LABELS, user="0")
    host_header = (container["data"] / "test_frames_keypoints.csv").open().readline().strip()
    assert as_root["ok"] and as_root["detail"] == host_header, as_root  # the labels are mounted
    for kind, target in (("read", SECRET_LABELS), ("list", "/grader-secrets")):
        outcome = probe(container, kind, target)
        assert outcome["uid"] == STUDENT_UID
        assert not outcome["ok"] and outcome["errno"] == "EACCES", outcome


def test_student_has_no_network(container, loopback_server, image):
    # Control: the same probe with the host's network reaches the server, so a failure
    # below is the isolation, not a broken probe.
    control = run(["docker", "run", "--rm", "--network", "host", "--user", "student", "--entrypoint", "python",
                   image, "-c", PROBE, "connect", f"127.0.0.1:{loopback_server}"])
    assert json.loads(control.stdout) == {"ok": True, "detail": "hello from the host", "uid": STUDENT_UID}
    outcome = probe(container, "connect", f"127.0.0.1:{loopback_server}")
    assert not outcome["ok"] and outcome["errno"] == "ECONNREFUSED", outcome
    interfaces = probe(container, "list", "/sys/class/net")
    assert interfaces["detail"] == ["lo"], interfaces


@pytest.mark.parametrize("target", ["/submission/student/models.py", "/submission/new.py", "/usr/lib/sitecustomize.py",
                                    "/data/training_frames_keypoints.csv", "/data/test/new.jpg",
                                    "/opt/fkp/grader/cli.py", "/opt/venv/bin/python3.pth",
                                    f"{REPORTS_IN_CONTAINER}/results.json"])
def test_student_cannot_write_outside_tmp(container, target):
    outcome = probe(container, "write", target)
    assert not outcome["ok"] and outcome["errno"] in {"EROFS", "EACCES", "EPERM"}, outcome


def test_only_reports_and_tmp_are_writable(container):
    # The reports folder sits in a folder only root enters: student code must not forge results,
    # even when the host folder's owner has the student's uid (see the container fixture).
    assert probe(container, "write", f"{REPORTS_IN_CONTAINER}/from-the-grader.txt", user="0")["ok"]
    assert (container["reports"] / "from-the-grader.txt").read_text() == "written by the probe\n"
    outcome = probe(container, "write", "/tmp/from-the-student.txt")
    assert outcome["ok"] and outcome["uid"] == STUDENT_UID, outcome


def test_grader_code_is_root_only_and_ships_the_course_data_load(container):
    # Student processes run from copies the grader makes; the grader's folder stays closed to them.
    outcome = probe(container, "list", "/opt/fkp")
    assert not outcome["ok"] and outcome["errno"] == "EACCES", outcome
    shipped = run(["docker", "exec", container["name"], "cat", "/opt/fkp/student/data_load.py"])
    assert shipped.returncode == 0, shipped.stderr
    assert shipped.stdout == (ROOT / "student" / "data_load.py").read_text()


def test_student_cannot_signal_root_processes(container):
    outcome = probe(container, "signal", "1")
    assert not outcome["ok"] and outcome["errno"] == "EPERM", outcome


def test_student_can_run_torch_under_these_limits(container):
    code = ("import torch, matplotlib.pyplot, cv2; "
            "print(tuple(torch.nn.Conv2d(1, 4, 5)(torch.zeros(2, 1, 224, 224)).shape))")
    result = run(["docker", "exec", "--user", "student", container["name"], "python", "-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(2, 4, 220, 220)"


def test_a_second_build_waits_for_the_first_and_finds_its_image(image, tmp_path):
    """Two builds at once (two test workers, two `make grade`s) would each build the same 6 GB image:
    `make docker-build` waits for the build lock, then finds the image the holder made."""
    lock = tmp_path / "docker-build.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a build in progress holds it
        waiting = subprocess.Popen(make_command("docker-build", f"DOCKER_BUILD_LOCK={lock}"), text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(3)
        assert waiting.poll() is None, waiting.communicate()[0]  # still waiting for the lock
    output, _ = waiting.communicate(timeout=300)
    assert waiting.returncode == 0 and f"docker-build: {image} exists" in output, output
    assert output.index(": waiting for another build") < output.index(f"docker-build: {image} exists"), output


def test_a_build_goes_on_where_its_lock_cannot_be_made(image, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    result = run(make_command("docker-build", f"DOCKER_BUILD_LOCK={blocked}/below/docker-build.lock"), timeout=300)
    assert result.returncode == 0 and f"docker-build: {image} exists" in result.stdout, result.stdout + result.stderr
