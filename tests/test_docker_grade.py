"""Grading real submissions in the container, the way `make grade` does when a Docker engine answers.

- A trained submission (tests/submissions/reference when its weights exist, else small_trained)
  graded by `make grade` in the container and by `grader.grade.main` on this machine: the same
  results.json, timings and the `environment` block aside.
- Adversarial submissions made at test time from it (code appended to models.py, which runs when
  the grader imports it): each tries something student code must not do in the container, prints
  what happened, and must fail, be reported (model.import's details.printed) and change no score.
- Without an engine, `make grade` says so in one line and grades on this machine.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from docker_support import (OFFLINE_BASE, ROOT, STUDENT_UID, docker_engine, image, make,  # noqa: F401
                            make_command, offline_base, run)
from grading import SUBMISSIONS, grade_folder, without_timings

GRADE_TIMEOUT_S = 60 * 60
ADVERSARY_PORT = 47613  # fixed: the adversarial code names it; the test's server listens there
FALLBACK_NOTICE = ("make grade: no Docker engine answers 'docker info'; grading on this machine instead "
                   "(make grade-local).")


def trained_source() -> Path:
    """The strongest trained submission in the tree: the reference once its weights are there."""
    reference = SUBMISSIONS / "reference"
    if (reference / "student" / "models.py").is_file() and any((reference / "student" / "saved_models").glob("*.pt")):
        return reference
    return SUBMISSIONS / "small_trained"


def copy_trained(to: Path) -> Path:
    shutil.copytree(trained_source(), to, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
    return to


def comparable(results: dict, places: dict[str, str]) -> dict:
    """results.json minus what legitimately differs between two runs or two places: timings, the
    `environment` block, and where the data is (paths given to notebooks), named by ``places``."""
    def rename(value):
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        if isinstance(value, str):
            for path, name in places.items():
                if value == path or value.startswith(path + "/"):
                    return name + value[len(path):]
        return value
    return rename(without_timings({k: v for k, v in results.items() if k != "environment"}))


def first_difference(a, b, path: str = "") -> str | None:
    if type(a) is not type(b):
        return f"{path or '/'}: {a!r:.200} != {b!r:.200}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}/{key}: only on one side"
            found = first_difference(a[key], b[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for index, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r:.200} != {b!r:.200}"


def grade_in_container(submission: Path, reports: Path, name: str, target: str = "docker-grade") -> dict:
    started = time.monotonic()
    output = make(target, f"SUBMISSION={submission}", f"REPORTS={reports}", f"NAME={name}", timeout=GRADE_TIMEOUT_S)
    seconds = time.monotonic() - started
    results = json.loads((reports / name / "results.json").read_text())
    return {"results": results, "seconds": seconds, "output": output, "folder": reports / name}


def printed_at_import(results: dict) -> str:
    check = next(c for c in results["checks"] if c["id"] == "model.import")
    assert check["status"] == "passed", check
    return check["details"].get("printed", "")


def outcomes(printed: str) -> dict[str, str]:
    """The adversary's lines `ADVERSARY <what> <target>: <outcome>` as {"<what> <target>": outcome}."""
    found = {}
    for line in printed.splitlines():
        if line.startswith("ADVERSARY ") and ": " in line:
            key, outcome = line[len("ADVERSARY "):].split(": ", 1)
            found[key] = outcome
    return found


def scores(results: dict) -> dict:
    return {"score": results["score"], "metrics": results["metrics"],
            "checks": [(c["id"], c["status"], c["score"]) for c in results["checks"]]}


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# -- the clean trained submission, graded both ways ---------------------------------------------


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("docker-grading")


@pytest.fixture(scope="module")
def clean(image, work, dataset_dir, samples_dir) -> dict:
    submission = copy_trained(work / "submissions" / "clean")
    started = time.monotonic()
    local = grade_folder(submission, work / "local", name="clean")
    local_seconds = time.monotonic() - started
    container = grade_in_container(submission, work / "container", "clean", target="grade")
    print(f"\n{trained_source().name}: local grade {local_seconds:.0f} s, score {local['score']}; "
          f"container grade (make grade) {container['seconds']:.0f} s, score {container['results']['score']}")
    return {"local": local, "local_seconds": local_seconds, **container}


@pytest.mark.docker
def test_make_grade_uses_the_container_when_an_engine_answers(clean):
    assert "docker/run.sh" in clean["output"], clean["output"][-2000:]
    environment = clean["results"]["environment"]
    assert environment["sandbox_user"] == "student", environment
    # The grader is root in the container; the report it publishes belongs to whoever ran make.
    for path in [clean["folder"], *clean["folder"].rglob("*")]:
        assert (path.stat().st_uid, path.stat().st_gid) == (os.getuid(), os.getgid()), path


@pytest.mark.docker
def test_container_grade_equals_local_grade(clean, dataset_dir, samples_dir):
    local, container = clean["local"], clean["results"]
    assert local["environment"]["sandbox_user"] is None
    assert container["score"] == local["score"]
    assert container["metrics"] == local["metrics"]
    # Longest paths first: the samples may sit inside the data folder.
    here = {str(samples_dir.resolve()): "<samples>", str(samples_dir): "<samples>",
            str(dataset_dir.resolve()): "<data>", str(dataset_dir): "<data>"}
    there = {"/data/samples": "<samples>", "/data": "<data>"}
    difference = first_difference(comparable(local, here), comparable(container, there))
    assert difference is None, f"results.json differs between local and container grading at {difference}"


# -- adversarial submissions --------------------------------------------------------------------

REPORT = '''

# --- appended by the docker tests: an adversarial submission ---
def _adversary_report(what, target, action):
    import errno
    try:
        print(f"ADVERSARY {what} {target}: SUCCEEDED {action(target)}", flush=True)
    except OSError as exc:
        code = errno.errorcode.get(exc.errno, "no errno") if exc.errno else "no errno"
        print(f"ADVERSARY {what} {target}: failed {type(exc).__name__} {code}", flush=True)
'''

READS_TEST_LABELS = REPORT + '''

def _adversary_reads_labels():
    import glob, os

    def read(path):
        with open(path, "rb") as handle:
            return f"{len(handle.read())} bytes"

    _adversary_report("read", "/grader-secrets/test_frames_keypoints.csv", read)
    _adversary_report("list", "/grader-secrets", lambda path: sorted(os.listdir(path)))
    _adversary_report("read", "/proc/1/root/grader-secrets/test_frames_keypoints.csv", read)
    found, closed = [], []
    for top in ("/data", "/submission", "/reports", "/grader-out", "/opt", "/tmp", "/home", "/root", "/srv", "/mnt"):
        for folder, _, files in os.walk(top, onerror=lambda exc: closed.append(exc.filename)
                                        if isinstance(exc, PermissionError) else None):
            found += [os.path.join(folder, name) for name in files if name.endswith("test_frames_keypoints.csv")]
    print(f"ADVERSARY search *test_frames_keypoints.csv: {len(found)} found {sorted(found)}; "
          f"closed folders {sorted(closed)}", flush=True)
    for path in found:
        _adversary_report("read", path, read)
    # The grader reads back what this process prints: point that at the labels instead.
    logs = glob.glob("*.log") + glob.glob(".*.log")
    for name in logs:
        os.remove(name)
        os.symlink("/grader-secrets/test_frames_keypoints.csv", name)
    print(f"ADVERSARY swap-log {os.getcwd()}: {'swapped ' + ' '.join(logs) if logs else 'no log here'}", flush=True)


_adversary_reads_labels()
'''

OPENS_SOCKET = REPORT + '''

def _adversary_connects():
    import socket

    def connect(target):
        host, port = target.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=3) as conn:
            return repr(conn.recv(64))

    for target in ("127.0.0.1:{port}", "{gateway}:{port}", "1.1.1.1:443"):
        _adversary_report("connect", target, connect)
    _adversary_report("resolve", "example.org", lambda name: socket.getaddrinfo(name, 443)[0][4])


_adversary_connects()
'''

WRITES_OUTSIDE_REPORTS = REPORT + '''

def _adversary_writes():
    def write(path):
        with open(path, "a") as handle:
            handle.write("written by the adversary\\n")
        return "wrote"

    for path in ("/submission/student/models.py", "/submission/planted.py", "/data/training_frames_keypoints.csv",
                 "/data/test/planted.jpg", "/data/samples/planted.jpg", "/opt/fkp/grader/rubric.toml",
                 "/opt/fkp/planted.py", "/opt/venv/lib/python3.11/site-packages/sitecustomize.py",
                 "/usr/lib/python3.11/sitecustomize.py", "/usr/local/bin/planted", "/reports/planted.txt",
                 "/grader-out/reports/planted.txt", "/grader-out/reports/{other}/results.json",
                 "/grader-secrets/test_frames_keypoints.csv", "/tmp/fkp-cache/planted.npz",
                 "/tmp/matplotlib/matplotlibrc", "/etc/passwd"):
        _adversary_report("write", path, write)


_adversary_writes()
'''


def adversary(name: str, code: str, work: Path) -> Path:
    submission = copy_trained(work / "submissions" / name)
    with open(submission / "student" / "models.py", "a") as handle:
        handle.write(code)
    return submission


def assert_same_grade_as_clean(results: dict, clean: dict) -> None:
    assert scores(results) == scores(clean["results"])


@pytest.mark.docker
def test_reads_test_labels_fails_in_the_container(clean, work, dataset_dir):
    submission = adversary("reads_test_labels", READS_TEST_LABELS, work)
    graded = grade_in_container(submission, work / "adversaries", "reads_test_labels")
    printed = printed_at_import(graded["results"])
    seen = outcomes(printed)
    assert not [line for line in seen.values() if line.startswith("SUCCEEDED")], printed
    for key in ("read /grader-secrets/test_frames_keypoints.csv", "list /grader-secrets",
                "read /proc/1/root/grader-secrets/test_frames_keypoints.csv"):
        assert seen.get(key, "").startswith("failed PermissionError EACCES"), (key, printed)
    search = seen["search *test_frames_keypoints.csv"]
    assert search.startswith("0 found []"), search
    assert "/grader-out" in search and "/opt/fkp" in search, search  # closed to the student, not absent
    assert any(key.startswith("swap-log ") for key in seen), printed
    # Nothing of the labels reached the report: not the printed text, not the report files.
    rows = (dataset_dir / "test_frames_keypoints.csv").read_text().splitlines()[1:4]
    fragments = [row.split(",", 1)[1][:40] for row in rows]
    for path in (graded["folder"] / "results.json", graded["folder"] / "report.html"):
        text = path.read_text(errors="replace")
        assert not [f for f in fragments if f in text], f"test labels in {path.name}"
    assert_same_grade_as_clean(graded["results"], clean)


@pytest.fixture
def listening_host():
    """Servers on the host's loopback and on the Docker bridge's gateway (the host as a bridged
    container reaches it), at the fixed port; counts the connections they accept."""
    gateway = run(["docker", "network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"])
    if gateway.returncode != 0 or not gateway.stdout.strip():
        pytest.skip(f"no Docker bridge network to take the host's outside address from: {gateway.stderr.strip()}")
    addresses = ["127.0.0.1", gateway.stdout.strip()]
    try:
        servers = [socket.create_server((address, ADVERSARY_PORT)) for address in addresses]
    except OSError as exc:
        pytest.skip(f"port {ADVERSARY_PORT} is taken on this host ({exc}); the adversarial code names it")
    accepted, stop = [], threading.Event()

    def serve(server: socket.socket) -> None:
        server.settimeout(0.5)
        deadline = time.monotonic() + GRADE_TIMEOUT_S  # stops by itself whatever happens to the test
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            accepted.append(peer)
            with conn:
                conn.sendall(b"hello from the host")

    threads = [threading.Thread(target=serve, args=(server,), daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    yield {"gateway": addresses[1], "accepted": accepted}
    stop.set()
    for thread, server in zip(threads, servers):
        thread.join(timeout=5)
        server.close()


@pytest.mark.docker
def test_opens_socket_fails_in_the_container(clean, work, listening_host, image):
    gateway = listening_host["gateway"]
    # Controls: both servers answer, and a container on Docker's default network reaches the
    # outside one, so the failures below come from the grading container's isolation.
    for address in ("127.0.0.1", gateway):
        with socket.create_connection((address, ADVERSARY_PORT), timeout=5) as conn:
            assert conn.recv(64) == b"hello from the host"
    bridged = run(["docker", "run", "--rm", "--network", "bridge", "--user", "student", "--entrypoint", "python",
                   image, "-c", "import socket; print(socket.create_connection((%r, %d), timeout=5).recv(64))"
                   % (gateway, ADVERSARY_PORT)])
    assert bridged.stdout.strip() == "b'hello from the host'", bridged.stderr
    listening_host["accepted"].clear()

    code = OPENS_SOCKET.replace("{port}", str(ADVERSARY_PORT)).replace("{gateway}", gateway)
    graded = grade_in_container(adversary("opens_socket", code, work), work / "adversaries", "opens_socket")
    printed = printed_at_import(graded["results"])
    seen = outcomes(printed)
    expected = {f"connect 127.0.0.1:{ADVERSARY_PORT}", f"connect {gateway}:{ADVERSARY_PORT}", "connect 1.1.1.1:443",
                "resolve example.org"}
    assert set(seen) == expected, printed
    assert all(outcome.startswith("failed ") for outcome in seen.values()), printed
    assert listening_host["accepted"] == [], "the grading container reached a server on the host"
    assert_same_grade_as_clean(graded["results"], clean)


@pytest.mark.docker
def test_writes_outside_reports_fail_in_the_container(clean, work):
    reports = work / "shared-reports"
    other = reports / "other_student"
    other.mkdir(parents=True)
    (other / "results.json").write_text('{"score": 12.5}\n')
    if os.geteuid() == 0:  # the worst case: the host user owning the reports has the student's uid
        for path in (reports, other, other / "results.json"):
            os.chown(path, STUDENT_UID, STUDENT_UID)
    code = WRITES_OUTSIDE_REPORTS.replace("{other}", other.name)
    submission = adversary("writes_outside_reports", code, work)
    before = tree_digest(submission)
    graded = grade_in_container(submission, reports, "writes_outside_reports")
    printed = printed_at_import(graded["results"])
    seen = outcomes(printed)
    assert len(seen) == 17, printed
    assert all(outcome.startswith("failed ") for outcome in seen.values()), printed
    for key in ("write /grader-out/reports/planted.txt", f"write /grader-out/reports/{other.name}/results.json",
                "write /tmp/fkp-cache/planted.npz", "write /tmp/matplotlib/matplotlibrc"):
        assert seen[key].startswith("failed PermissionError EACCES"), (key, printed)
    assert (other / "results.json").read_text() == '{"score": 12.5}\n'
    assert sorted(p.name for p in reports.iterdir()) == ["other_student", "writes_outside_reports"]
    assert tree_digest(submission) == before
    assert_same_grade_as_clean(graded["results"], clean)


# -- an engine but no image registry ------------------------------------------------------------


@pytest.mark.docker
def test_make_grade_builds_from_the_offline_base_when_no_registry_answers(image, tmp_path):
    # A base on a registry that cannot exist (.invalid never resolves) stands for no registry at all.
    started = time.monotonic()
    result = run(make_command("grade", "DOCKER_BASE_IMAGE=registry.invalid/python:3.11-slim",
                              f"SUBMISSION={SUBMISSIONS / 'syntax_error'}", "NAME=no_registry", f"REPORTS={tmp_path}"),
                 timeout=GRADE_TIMEOUT_S)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    notices = [line for line in output.splitlines() if line.startswith("make grade:")]
    assert len(notices) == 1, output[-3000:]
    assert notices[0].startswith("make grade: no image registry serves registry.invalid/python:3.11-slim (")
    assert notices[0].endswith(f"building from the offline base {OFFLINE_BASE} instead (make docker-base-offline)."), \
        notices[0]
    assert f"docker-build: {image} exists" in output  # the image of DOCKER_BASE_IMAGE=fkp-grader-base:bookworm
    results = json.loads((tmp_path / "no_registry" / "results.json").read_text())
    assert results["environment"]["in_container"] and results["environment"]["sandbox_user"] == "student"
    print(f"\nmake grade without a registry: {seconds:.1f} s\n{notices[0]}")


# -- no engine ----------------------------------------------------------------------------------


def test_make_grade_falls_back_to_local_grading_without_an_engine(tmp_path, dataset_dir):
    # A folder that is no submission: the local grader answers at once, which shows it ran.
    folder = tmp_path / "not_a_submission"
    folder.mkdir()
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    result = run(make_command("grade", f"SUBMISSION={folder}", "NAME=fallback", f"REPORTS={tmp_path / 'reports'}"),
                 timeout=300, env=env)
    output = result.stdout + result.stderr
    assert [line for line in output.splitlines() if line.startswith("make grade:")] == [FALLBACK_NOTICE], output
    assert "-m grader grade" in output and "docker/run.sh" not in output, output
    assert "no student/models.py" in " ".join(output.split()), output  # the grader's console wraps lines
    assert result.returncode != 0


# -- the grader's side of running as root (fast) -------------------------------------------------


def test_scratch_folders_must_be_the_graders_alone(tmp_path, monkeypatch):
    from grader.grade import private_scratch

    fresh, planted = tmp_path / "fresh" / "cache", tmp_path / "planted"
    monkeypatch.setenv("FKP_CACHE_DIR", str(fresh))
    monkeypatch.setenv("MPLCONFIGDIR", str(planted))
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)  # as if another user made it first: anyone may plant files in it
    problem = private_scratch()
    assert fresh.is_dir() and fresh.stat().st_mode & 0o777 == 0o700
    assert problem and problem.startswith(f"MPLCONFIGDIR={planted} exists but is not a folder only the grader can write")
    planted.chmod(0o755)
    assert private_scratch() is None


def test_link_as_scratch_folder_is_refused(tmp_path, monkeypatch):
    from grader.grade import private_scratch

    (tmp_path / "elsewhere").mkdir(mode=0o700)
    (tmp_path / "cache").symlink_to(tmp_path / "elsewhere")
    monkeypatch.setenv("FKP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    assert "is not a folder only the grader can write" in private_scratch()


@pytest.mark.skipif(os.geteuid() != 0, reason="handing files to another user needs root")
def test_report_is_handed_to_the_owner_named_by_the_environment(tmp_path, monkeypatch):
    from grader.grade import hand_over, report_owner

    report = tmp_path / "report"
    (report / "artifacts").mkdir(parents=True)
    (report / "results.json").write_text("{}")
    (report / "artifacts" / "link").symlink_to("/etc/hostname")
    monkeypatch.setenv("FKP_REPORT_OWNER", "4321:4322")
    hand_over(report, report_owner())
    for path in (report, report / "artifacts", report / "results.json", report / "artifacts" / "link"):
        assert (path.lstat().st_uid, path.lstat().st_gid) == (4321, 4322), path
    assert Path("/etc/hostname").stat().st_uid == 0  # a link is changed itself, never followed
    monkeypatch.delenv("FKP_REPORT_OWNER")
    assert report_owner() is None
