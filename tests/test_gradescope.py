"""The Gradescope autograder package (`python -m grader gradescope`) and what it does on Gradescope.

Fast: the zip's layout, a refused dataset, `autograde` on a broken and a missing submission and on
a grader crash, run_autograder when the grader cannot even start: results.json always valid by
Gradescope's documented format (tests/gradescope_spec.py).
Docker: the package unpacked into Gradescope's paths in a container FROM the offline base, setup.sh
run there as Gradescope runs it (from a wheelhouse when DOCKER_WHEELHOUSE is set; cold whenever
setup.sh or the pins change, else on top of that cold run's image), then
run_autograder on the reference submission, a syntax error and an empty submission.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from docker_support import ROOT, docker_engine, offline_base, run  # noqa: F401 (fixtures)
from gradescope_spec import problems

from grader.gradescope import autograde

SHORT_RUBRIC = ROOT / "tests" / "rubrics" / "batch.toml"  # model checks, weights, the test set: 55 points
SUBMISSIONS = ROOT / "tests" / "submissions"
SETUP_TIMEOUT_S = 30 * 60
GRADE_TIMEOUT_S = 20 * 60


def grader(*args: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m grader ARGS` as a real process, from the checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return run([sys.executable, "-m", "grader", *args], timeout=timeout, cwd=ROOT, env=env)


def valid(path: Path) -> dict:
    results = json.loads(path.read_text())
    assert problems(results) == [], problems(results)
    return results


def package(out: Path, *extra: str) -> zipfile.ZipFile:
    made = grader("gradescope", "--rubric", str(SHORT_RUBRIC), "--out", str(out), *extra)
    assert made.returncode == 0, made.stdout + made.stderr
    return zipfile.ZipFile(out)


def unpack(archive: zipfile.ZipFile, folder: Path) -> Path:
    """Extract with the modes the zip records, as `unzip` (and Gradescope) does; zipfile drops them."""
    archive.extractall(folder)
    for info in archive.infolist():
        if info.external_attr >> 16:
            (folder / info.filename).chmod(stat.S_IMODE(info.external_attr >> 16))
    return folder


# -- the package -------------------------------------------------------------------------------


def test_package_holds_gradescopes_layout_and_no_data_unless_asked(tmp_path):
    archive = package(tmp_path / "autograder.zip")
    names = set(archive.namelist())
    assert {"setup.sh", "run_autograder", "rubric.toml", "pyproject.toml", "requirements.py",
            "student/data_load.py", "grader/cli.py", "grader/gradescope/autograde.py", "fkp-autograder.json"} <= names
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(archive.getinfo(script).external_attr >> 16) == 0o755, script
    assert archive.read("rubric.toml") == SHORT_RUBRIC.read_bytes()
    assert not [n for n in names if n.startswith("data/") or "__pycache__" in n or n.endswith(".pyc")]
    manifest = json.loads(archive.read("fkp-autograder.json"))
    assert manifest["data"].startswith("fetched by setup.sh") and manifest["max_score"] == 55
    assert manifest["rubric_sha256"] == hashlib.sha256(SHORT_RUBRIC.read_bytes()).hexdigest()
    for script in ("setup.sh", "run_autograder"):
        checked = run(["bash", "-n", str(ROOT / "grader" / "gradescope" / script)])
        assert checked.returncode == 0, checked.stderr


def test_package_refuses_a_dataset_that_is_not_the_courses(tmp_path):
    fake = tmp_path / "facial-keypoints"
    (fake / "training").mkdir(parents=True)
    (fake / "training_frames_keypoints.csv").write_text("Unnamed: 0,0,1\nx.jpg,1,2\n")
    (fake / "test_frames_keypoints.csv").write_text("Unnamed: 0,0,1\n")
    made = grader("gradescope", "--out", str(tmp_path / "autograder.zip"), "--data", str(fake))
    output = " ".join(made.stdout.split())
    assert made.returncode == 2 and "training_frames_keypoints.csv: SHA-256 is" in output, output
    assert not (tmp_path / "autograder.zip").exists()


# -- results.json when grading goes wrong ------------------------------------------------------


def test_autograde_grades_a_syntax_error_into_valid_results(tmp_path, dataset_dir):
    out = tmp_path / "results.json"
    graded = grader("autograde", str(SUBMISSIONS / "syntax_error"), "--results", str(out), "--rubric",
                    str(SHORT_RUBRIC), "--data", str(dataset_dir))
    assert graded.returncode == 0, graded.stdout + graded.stderr
    results = valid(out)
    assert results["score"] == 0 and len(results["tests"]) == 5
    assert results["tests"][0]["name"].startswith("model.import") and "SyntaxError" in results["tests"][0]["output"]
    assert results["extra_data"]["checks"][0]["status"] == "error"  # our statuses survive in extra_data


def test_autograde_explains_an_empty_submission(tmp_path, dataset_dir):
    empty, out = tmp_path / "submission", tmp_path / "results.json"
    empty.mkdir()
    graded = grader("autograde", str(empty), "--results", str(out), "--rubric", str(SHORT_RUBRIC),
                    "--data", str(dataset_dir))
    assert graded.returncode == 0, graded.stdout + graded.stderr
    results = valid(out)
    assert results["score"] == 0 and results["tests"][0]["max_score"] == 55
    assert "no student/models.py" in results["output"], results["output"]


def test_autograde_writes_results_then_reraises_a_grader_crash(tmp_path, monkeypatch):
    def crash(**_):
        raise RuntimeError("a bug in the grader")

    monkeypatch.setattr(autograde.grade, "main", crash)
    out = tmp_path / "results.json"
    with pytest.raises(RuntimeError, match="a bug in the grader"):
        autograde.main(submission=tmp_path, results=out, rubric=SHORT_RUBRIC)
    results = valid(out)
    assert results["score"] == 0 and results["tests"][0]["status"] == "failed"
    assert "RuntimeError: a bug in the grader" in results["output"]
    assert "Traceback" in results["extra_data"]["traceback"]


def test_run_autograder_writes_results_when_the_grader_cannot_start(tmp_path):
    archive = package(tmp_path / "autograder.zip")
    root = tmp_path / "autograder"
    unpack(archive, root / "source")
    (root / "submission").mkdir()
    env = {**os.environ, "FKP_AUTOGRADER_ROOT": str(root), "FKP_PYTHON": "/bin/false"}
    ran = run([str(root / "source" / "run_autograder")], env=env)
    assert ran.returncode == 0, ran.stderr
    results = valid(root / "results" / "results.json")
    assert results["score"] == 0 and results["tests"][0]["max_score"] == 55
    assert "exit status 1 before writing a result" in results["output"]


# -- in a container with Gradescope's paths ----------------------------------------------------


def digest(folder: Path, names: tuple[str, ...] | None = None) -> str:
    """A digest of the package's files (all but its data, or only ``names``) and of the wheelhouse in use."""
    hashed = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "data" not in p.relative_to(folder).parts[:1]):
        if names is None or path.relative_to(folder).as_posix() in names:
            hashed.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    hashed.update(os.environ.get("DOCKER_WHEELHOUSE", "indexes").encode())
    return hashed.hexdigest()[:12]


SETUP_INPUTS = ("setup.sh", "requirements.py", "pyproject.toml")  # what the dependencies' layer rests on


def setup_in(base: str, source: Path, image: str) -> float:
    """Gradescope's build step: /autograder/source from ``source``, run_autograder beside it, setup.sh run
    as root in a container of ``base``, committed as ``image``. Returns setup.sh's seconds."""
    wheelhouse = os.environ.get("DOCKER_WHEELHOUSE")
    offline = (["--network", "none", "-v", f"{Path(wheelhouse).resolve()}:/wheelhouse:ro",
                "-e", "PIP_NO_INDEX=1", "-e", "PIP_FIND_LINKS=/wheelhouse"] if wheelhouse else [])
    name = f"fkp-gradescope-setup-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    setup = run(["docker", "run", "--name", name, *offline, "-v", f"{source}:/source-in:ro", base, "bash", "-c",
                 "cd / && rm -rf /autograder && mkdir -p /autograder && cp -a /source-in /autograder/source && "
                 "cp /autograder/source/run_autograder /autograder/run_autograder && /autograder/source/setup.sh"],
                timeout=SETUP_TIMEOUT_S)
    seconds = time.monotonic() - started
    try:
        assert setup.returncode == 0, f"setup.sh failed:\n{setup.stdout[-3000:]}\n{setup.stderr[-3000:]}"
        committed = run(["docker", "commit", "--change", "WORKDIR /autograder", name, image], timeout=600)
        assert committed.returncode == 0, committed.stderr
    finally:
        run(["docker", "rm", "--force", name], timeout=600)
    print(f"\nsetup.sh in {base}: {seconds:.0f} s\n{setup.stdout}")
    return seconds


def keep_only(repository: str, image: str) -> None:
    """Each image of a repository is GBs: keep the one in use."""
    older = run(["docker", "image", "ls", repository, "--format", "{{.Repository}}:{{.Tag}}"])
    for stale in set(older.stdout.split()) - {image}:
        run(["docker", "image", "rm", stale], timeout=600)


@pytest.fixture(scope="module")
def gradescope_image(offline_base, tmp_path_factory, dataset_dir, samples_dir) -> dict:
    """Gradescope's image build, mimicked: the zip unpacked into /autograder/source, setup.sh run as
    root, run_autograder copied to /autograder, the container committed as an image. The data is
    bundled (--data); with DOCKER_WHEELHOUSE, pip installs from it alone and the build has no network.

    In two layers, as Docker would cache them: setup.sh runs cold in the offline base whenever setup.sh,
    requirements.py or the pins change (Python, the venv, 3 GB of wheels: 70 to 110 s); the package
    under test then runs setup.sh again on top of that image from a fresh /autograder (its pip finds
    every pin installed; the grader, the student user and the data are set up anew)."""
    work = tmp_path_factory.mktemp("gradescope")
    unpack(package(work / "autograder.zip", "--data", str(dataset_dir), "--samples", str(samples_dir)), work / "source")
    deps = f"fkp-gradescope-deps:{digest(work / 'source', SETUP_INPUTS)}"
    cold = 0.0
    if run(["docker", "image", "inspect", deps]).returncode != 0:
        cold = setup_in(offline_base, work / "source", deps)
        keep_only("fkp-gradescope-deps", deps)
    image = f"fkp-gradescope-test:{digest(work / 'source')}-{deps.rpartition(':')[2]}"
    seconds = 0.0
    if run(["docker", "image", "inspect", image]).returncode != 0:
        seconds = setup_in(deps, work / "source", image)
        keep_only("fkp-gradescope-test", image)
    size = run(["docker", "image", "inspect", image, "--format", "{{.Size}}"]).stdout.strip()
    print(f"{image}: {int(size) / 1e9:.2f} GB")
    return {"image": image, "work": work, "setup_seconds": seconds, "cold_setup_seconds": cold}


def run_autograder(gradescope_image: dict, submission: Path, label: str) -> dict:
    """Gradescope's run: the submission in /autograder/submission, results out of /autograder/results."""
    results = gradescope_image["work"] / "results" / label
    results.mkdir(parents=True)
    started = time.monotonic()
    ran = run(["docker", "run", "--rm", "--network", "none", "-v", f"{submission}:/autograder/submission:ro",
               "-v", f"{results}:/autograder/results", gradescope_image["image"], "/autograder/run_autograder"],
              timeout=GRADE_TIMEOUT_S)
    seconds = time.monotonic() - started
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    graded = valid(results / "results.json")
    print(f"\nrun_autograder {label}: {seconds:.0f} s, score {graded['score']}")
    return graded


@pytest.mark.docker
def test_reference_gets_full_marks_as_student_in_gradescopes_paths(gradescope_image):
    results = run_autograder(gradescope_image, SUBMISSIONS / "reference", "reference")
    assert results["score"] == 55 and all(t["status"] == "passed" for t in results["tests"]), results["tests"]
    assert results["leaderboard"][0]["name"] == "NME (%)"
    environment = results["extra_data"]["environment"]
    assert environment["sandbox_user"] == "student" and environment["python"].startswith("3.11")


@pytest.mark.docker
def test_syntax_error_and_empty_submission_get_zero_and_the_reason(gradescope_image, tmp_path):
    broken = run_autograder(gradescope_image, SUBMISSIONS / "syntax_error", "syntax_error")
    assert broken["score"] == 0 and "SyntaxError" in broken["tests"][0]["output"]
    (tmp_path / "empty").mkdir()
    empty = run_autograder(gradescope_image, tmp_path / "empty", "empty")
    assert empty["score"] == 0 and "no student/models.py" in empty["output"]


@pytest.mark.docker
def test_student_user_cannot_read_the_labels_or_the_package(gradescope_image):
    def as_student(*command: str) -> subprocess.CompletedProcess:
        return run(["docker", "run", "--rm", "--network", "none", "--user", "student", gradescope_image["image"],
                    *command])

    for closed in ("/autograder/fkp-secrets/test_frames_keypoints.csv", "/autograder/source/rubric.toml"):
        attempt = as_student("cat", closed)
        assert attempt.returncode != 0 and "Permission denied" in attempt.stderr, (closed, attempt.stderr)
    readable = as_student("/opt/fkp-venv/bin/python", "-c", "import torch, cv2; print(len(open("
                          "'/autograder/fkp-data/facial-keypoints/training_frames_keypoints.csv').readlines()))")
    assert readable.returncode == 0 and readable.stdout.strip() == "3463", readable.stderr
