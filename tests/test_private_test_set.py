"""An instructor's private test set (`make data TEST_SOURCE=DIR`): validation, install, cache keys, and a
grade that scores on exactly those faces. Every set is built in a tmp dir from a few of the course's
test faces; the real data/ folder is only read."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from grading import ROOT, SUBMISSIONS
from test_grade_trained import independent_nme

from grader.batch import isolate
from grader.data import dataset, fetch, private, testset
from grader.data.cache import SHARED_CACHE, cached_arrays

FACES = 10
RUBRIC = ROOT / "tests" / "rubrics" / "evaluation_only.toml"


def data_folder(dataset_dir: Path, samples_dir: Path, to: Path) -> Path:
    """A data/ folder whose facial-keypoints/ links to the real course files (verified, nothing copied), so
    `grader data --dest` writes only the private set, and the caches go to ``to/cache``."""
    course = to / "facial-keypoints"
    course.mkdir(parents=True)
    for part in ("training", "test", fetch.TRAIN_CSV, fetch.TEST_CSV):
        (course / part).symlink_to(dataset_dir / part)
    shutil.copy2(dataset_dir / fetch.STAMP, course / fetch.STAMP)
    (to / "samples").symlink_to(samples_dir)
    return to


def private_source(dataset_dir: Path, to: Path, count: int = FACES, prefix: str = "") -> Path:
    """A private set in the course layout: ``count`` labelled test faces (spread over the CSV) copied."""
    lines = (dataset_dir / fetch.TEST_CSV).read_text().splitlines()
    rows = lines[1:][:: len(lines[1:]) // count][:count]
    (to / "test").mkdir(parents=True)
    for row in rows:
        name = row.split(",", 1)[0]
        shutil.copy2(dataset_dir / "test" / name, to / "test" / (prefix + name))
    (to / fetch.TEST_CSV).write_text("\n".join([lines[0], *[prefix + r for r in rows]]) + "\n")
    return to


def own_manifest_hash(folder: Path) -> str:
    """The documented manifest hash, computed here from the files: `sha256sum` lines of the CSV and of
    each labelled image (sorted), hashed."""
    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    names = sorted(line.split(",", 1)[0] for line in (folder / fetch.TEST_CSV).read_text().splitlines()[1:] if line)
    text = f"{digest(folder / fetch.TEST_CSV)}  test_frames_keypoints.csv\n"
    text += "".join(f"{digest(folder / 'test' / n)}  test/{n}\n" for n in names)
    return hashlib.sha256(text.encode()).hexdigest()


def run_grader(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture
def data(dataset_dir, samples_dir, tmp_path) -> Path:
    return data_folder(dataset_dir, samples_dir, tmp_path / "data")


@pytest.fixture
def source(dataset_dir, tmp_path) -> Path:
    return private_source(dataset_dir, tmp_path / "mine")


def rewrite_row(source: Path, line: int, edit) -> str:
    """Apply ``edit`` to the cells of one CSV line (1 = the header); return that row's image name."""
    csv_path = source / fetch.TEST_CSV
    lines = csv_path.read_text().splitlines()
    cells = lines[line - 1].split(",")
    lines[line - 1] = ",".join(edit(cells))
    csv_path.write_text("\n".join(lines) + "\n")
    return cells[0]


def refused(source: Path, data: Path) -> str:
    with pytest.raises(fetch.DataError) as caught:
        private.install(source, "replace", data / fetch.PRIVATE_TEST, data / "facial-keypoints")
    assert not (data / fetch.PRIVATE_TEST).exists()
    return str(caught.value)


# -- validation: each problem named with its file, line and fix ----------------------------------------
def test_a_row_with_135_numbers_is_refused_by_the_command(source, data):
    name = rewrite_row(source, 3, lambda cells: cells[:-1])
    proc = run_grader("data", "--dest", str(data), "--test-source", str(source))
    assert proc.returncode == 2
    assert (f"{source / fetch.TEST_CSV}: line 3 ({name}) has 135 numbers after the name, expected 136 "
            "(68 points x 2: x0, y0, ..., x67, y67). Add the missing coordinates or delete the row.") in proc.stderr
    assert "nothing was installed" in proc.stderr
    assert not (data / fetch.PRIVATE_TEST).exists()


def test_a_missing_image(source, data):
    name = rewrite_row(source, 4, lambda cells: cells)
    (source / "test" / name).unlink()
    assert (f"{source / 'test' / name}: missing (named on line 4 of test_frames_keypoints.csv). Put the image in "
            "test/ or delete its row.") in refused(source, data)


def test_an_undecodable_image(source, data):
    name = rewrite_row(source, 2, lambda cells: cells)
    (source / "test" / name).write_bytes(b"\xff\xd8 this is not a JPEG")
    assert (f"{source / 'test' / name}: OpenCV cannot decode it as an image (named on line 2 of "
            "test_frames_keypoints.csv). Re-save it as JPEG or PNG.") in refused(source, data)


def test_a_point_outside_the_image(source, data):
    name = rewrite_row(source, 5, lambda cells: cells)
    height, width = cv2.imread(str(source / "test" / name)).shape[:2]
    x = 1.5 * width
    rewrite_row(source, 5, lambda cells: [cells[0], "%g" % x, *cells[2:]])
    message = refused(source, data)
    assert (f"{source / 'test' / name}: point 0 at ({x:g}, ") in message
    assert (f"lies outside the {width}x{height} image by more than 10% of its size (1 point(s) in all; line 5 of "
            "test_frames_keypoints.csv). Coordinates are pixels of this image, x then y") in message


def test_a_point_just_inside_the_margin_is_accepted(source, data):
    name = rewrite_row(source, 5, lambda cells: cells)
    width = cv2.imread(str(source / "test" / name)).shape[1]
    rewrite_row(source, 5, lambda cells: [cells[0], "%g" % (1.09 * width), *cells[2:]])
    faces, _ = private.validate(source)
    assert len(faces) == FACES


def test_duplicates_non_finite_values_and_an_empty_set(source, data):
    lines = (source / fetch.TEST_CSV).read_text().splitlines()
    name = lines[1].split(",", 1)[0]
    (source / fetch.TEST_CSV).write_text("\n".join([*lines, lines[1]]) + "\n")
    rewrite_row(source, 3, lambda cells: [cells[0], "nan", *cells[2:]])
    message = refused(source, data)
    assert f"line {len(lines) + 1}: image {name} is already labelled on line 2; each face appears once." in message
    assert "line 3 (" in message and "column 2 (point 0 x): 'nan' is not a finite number" in message
    (source / fetch.TEST_CSV).write_text(lines[0] + "\n")
    assert (f"{source / fetch.TEST_CSV}: no labelled faces (a header line and no rows). Add one row per face."
            in refused(source, data))


# -- install, anchors, caches ----------------------------------------------------------------------
def test_add_mode_joins_the_course_faces_and_refuses_clashing_names(dataset_dir, data, tmp_path):
    clashing = private_source(dataset_dir, tmp_path / "clash", count=2)
    with pytest.raises(fetch.DataError, match="has the name of one of the course's test images"):
        private.install(clashing, "add", data / fetch.PRIVATE_TEST, data / "facial-keypoints")
    mine = private_source(dataset_dir, tmp_path / "renamed", count=3, prefix="mine_")
    print(private.install(mine, "add", data / fetch.PRIVATE_TEST, data / "facial-keypoints"))
    manifest = json.loads((data / fetch.PRIVATE_TEST / fetch.MANIFEST).read_text())
    assert (manifest["mode"], manifest["n_images"], manifest["n_private"]) == ("add", 773, 3)
    assert manifest["private_sha256"] == own_manifest_hash(mine)
    assert manifest["sha256"] == own_manifest_hash(data / fetch.PRIVATE_TEST) != manifest["private_sha256"]
    # 3 faces among 773 barely move the mean-shape anchor documented for the course's 770 (28.5 %, 0.079)
    assert manifest["anchors"]["mean_shape_nme"] == pytest.approx(0.285, abs=0.002)
    assert manifest["anchors"]["mean_shape_mse"] == pytest.approx(0.079, abs=0.001)
    assert manifest["anchors"]["dlib_nme"] is None and "not measured" in manifest["anchors"]["dlib"]


def test_the_eval_cache_is_keyed_by_the_private_sets_hash(source, data):
    course, target = data / "facial-keypoints", data / fetch.PRIVATE_TEST
    private.install(source, "replace", target, course)
    assert testset.locate(course).root == target.resolve()
    assert dataset.content_hash(target, "test") == own_manifest_hash(source)
    first_key, first = dataset.cache_key(target, "test"), dataset.load_eval_set(target, "test")
    # the same CSV, one image mirrored: a CSV-keyed cache would serve the old pixels
    name = rewrite_row(source, 2, lambda cells: cells)
    cv2.imwrite(str(source / "test" / name), cv2.imread(str(source / "test" / name))[:, ::-1])
    private.install(source, "replace", target, course)
    assert dataset.content_hash(target, "test") == own_manifest_hash(source)
    second_key, second = dataset.cache_key(target, "test"), dataset.load_eval_set(target, "test")
    assert second_key != first_key
    assert not np.array_equal(first.images[0], second.images[0])
    assert np.array_equal(first.images[1:], second.images[1:])
    assert {p.name for p in (data / "cache").glob("eval-test-*.npz")} == {f"eval-test-{first_key}.npz",
                                                                         f"eval-test-{second_key}.npz"}
    assert dataset.content_hash(course, "test") == fetch.CSV_SHA256[fetch.TEST_CSV]  # the course's: unchanged


def test_docker_mounts_the_private_images_and_hides_its_labels(source, data, tmp_path):
    private.install(source, "replace", data / fetch.PRIVATE_TEST, data / "facial-keypoints")
    settings = isolate.GradeSettings(data / "facial-keypoints", docker_image="fkp-grader:abc")
    line = " ".join(isolate.docker_command(settings, "alice", tmp_path / "alice", tmp_path / "out", "c1"))
    root = (data / fetch.PRIVATE_TEST).resolve()
    assert f"{root / 'test'}:/data/test:ro" in line
    assert f"{root / fetch.TEST_CSV}:/grader-secrets/test_frames_keypoints.csv:ro" in line
    assert f"{root / fetch.MANIFEST}:/grader-secrets/manifest.json:ro" in line


def test_a_docker_batch_preprocesses_the_test_images_once_and_mounts_them_read_only(source, data, tmp_path,
                                                                                  monkeypatch):
    private.install(source, "replace", data / fetch.PRIVATE_TEST, data / "facial-keypoints")
    monkeypatch.delenv("FKP_CACHE_DIR", raising=False)
    monkeypatch.delenv(SHARED_CACHE, raising=False)
    settings = isolate.fill_shared_cache(isolate.GradeSettings(data / "facial-keypoints", docker_image="fkp-grader:abc"))
    key = dataset.cache_key(data / fetch.PRIVATE_TEST, "test")
    assert settings.shared_cache == data / "cache" and (data / "cache" / f"eval-test-{key}.npz").is_file()
    argv = isolate.docker_command(settings, "alice", tmp_path / "alice", tmp_path / "out", "c1")
    assert f"{(data / 'cache').resolve()}:/grader-out/cache:ro" in argv and f"{SHARED_CACHE}=/grader-out/cache" in argv
    # in the container: the entry is read from the shared folder, and the container's own cache stays empty
    monkeypatch.setenv(SHARED_CACHE, str(data / "cache"))
    own = tmp_path / "container-cache"
    shared = dataset.load_eval_set(data / fetch.PRIVATE_TEST, "test", cache_dir=own)
    assert not own.exists() and len(shared.images) == FACES
    # an entry the shared folder lacks is built into the container's own cache
    assert cached_arrays(own, "other", "k", lambda: {"a": np.arange(3)})["a"].tolist() == [0, 1, 2]
    assert [p.name for p in own.iterdir()] == ["other-k.npz"]


# -- end to end: `grader data --test-source`, then a grade on exactly those faces --------------------
@pytest.mark.slow
def test_a_grade_scores_on_the_private_set_and_records_its_hash(source, data, dataset_dir, tmp_path):
    installed = run_grader("data", "--dest", str(data), "--test-source", str(source))
    assert installed.returncode == 0, installed.stderr
    assert "private test set installed (replace): 10 labelled faces" in installed.stdout
    again = run_grader("data", "--dest", str(data), "--test-source", str(source))
    assert "already in place (nothing to do)" in again.stdout
    graded = run_grader("grade", str(SUBMISSIONS / "small_trained"), "--rubric", str(RUBRIC), "--data",
                        str(data / "facial-keypoints"), "--out", str(tmp_path / "reports"), "--device", "cpu",
                        "--quiet")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    results = json.loads((tmp_path / "reports" / "small_trained" / "results.json").read_text())
    recorded = results["environment"]["test_set"]
    assert recorded["kind"] == "private" and recorded["mode"] == "replace"
    assert recorded["sha256"] == own_manifest_hash(source)
    assert recorded["anchors"]["dlib_nme"] is None
    names = {line.split(",", 1)[0] for line in (source / fetch.TEST_CSV).read_text().splitlines()[1:]}
    evaluation = next(c for c in results["checks"] if c["id"] == "evaluation.test_set")
    assert evaluation["status"] in ("passed", "partial"), evaluation["message"]
    assert results["metrics"]["n_test_images"] == FACES == evaluation["details"]["n_images"]
    assert {w["name"] for w in evaluation["details"]["worst_images"]} == names
    assert results["metrics"]["nme"] == pytest.approx(independent_nme(source), abs=1e-4)
    assert "instructor's private test set" in evaluation["message"]
    report = (tmp_path / "reports" / "small_trained" / "report.html").read_text()
    assert recorded["sha256"] in report and 'data-kind="private"' in report
    assert not (dataset_dir.parent / fetch.PRIVATE_TEST).exists()  # the real data/ was only read
