"""``make data TEST_SOURCE=DIR``: an instructor's own labelled faces as the test set a grade scores on.

DIR is in the course's layout: ``test_frames_keypoints.csv`` (a header line, then one row per face:
the image name and 136 numbers, x0, y0, ..., x67, y67 in pixels of the original image) and ``test/``
beside it with the images. Every problem is reported at once, naming the file, the line and the
fix. The set is installed as ``data/private-test/`` (``testset`` finds it there):

- ``replace`` (default): the private faces alone are the test set;
- ``add``: the course's 770 labelled test faces plus the private ones (names must not clash).
"""
from __future__ import annotations

import csv
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from grader.data import dataset, testset
from grader.data.fetch import MANIFEST, TEST_CSV, DataError

MODES = ("replace", "add")
MARGIN = 0.10  # points may lie this fraction of the image's width (x) or height (y) outside it
CHANNELS = (1, 3, 4)
MAX_LISTED = 20  # problems listed before "... and N more"
LAYOUT = (f"A private test set is a folder holding {TEST_CSV} (a header line, then per face: the image name and "
          "136 numbers, x0, y0, ..., x67, y67 in pixels) and test/ beside it with the images it names.")


@dataclass(frozen=True)
class Face:
    """One labelled row of the private CSV."""

    name: str
    line: int
    keypoints: np.ndarray  # (68, 2) pixels of the original image


def parse_row(csv_path: Path, line: int, row: list[str]) -> tuple[Face | None, list[str]]:
    """One CSV row -> a Face, or the problems that stop it being one."""
    name, values = row[0].strip(), row[1:]
    where = f"{csv_path}: line {line} ({name or 'no image name'})"
    if not name:
        return None, [f"{where}: the first column must name an image in test/; fill it in or delete the row."]
    if len(values) != 136:
        return None, [f"{where} has {len(values)} numbers after the name, expected 136 (68 points x 2: x0, y0, ..., "
                      "x67, y67). Add the missing coordinates or delete the row."]
    numbers = []
    for column, text in enumerate(values, start=1):
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            point, axis = divmod(column - 1, 2)
            return None, [f"{where}, column {column + 1} (point {point} {'xy'[axis]}): {text.strip()!r} is not a "
                          "finite number; every coordinate must be a pixel position."]
        numbers.append(number)
    return Face(name, line, np.array(numbers, np.float64).reshape(68, 2)), []


def read_faces(csv_path: Path) -> tuple[list[Face], list[str]]:
    """The labelled rows of the private CSV and the problems found in it (rows, duplicates, emptiness)."""
    faces, problems, first_line = [], [], {}
    with open(csv_path, newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            if line == 1:
                if len(row) != 137:
                    problems.append(f"{csv_path}: line 1 (the header) has {len(row)} fields, expected 137 (the name "
                                    "column and 136 coordinate columns). Copy the header line of the course's CSV.")
                continue
            if not any(cell.strip() for cell in row):
                continue
            face, found = parse_row(csv_path, line, row)
            problems += found
            if face is None:
                continue
            if face.name in first_line:
                problems.append(f"{csv_path}: line {line}: image {face.name} is already labelled on line "
                                f"{first_line[face.name]}; each face appears once. Delete one of the two rows.")
                continue
            first_line[face.name] = line
            faces.append(face)
    if not faces and not problems:
        problems.append(f"{csv_path}: no labelled faces (a header line and no rows). Add one row per face.")
    return faces, problems


def image_problem(path: Path, face: Face) -> tuple[tuple[int, int] | None, str | None]:
    """The (height, width) of a face's image, or why it cannot be used."""
    named = f"(named on line {face.line} of {TEST_CSV})"
    if not path.is_file():
        return None, f"{path}: missing {named}. Put the image in test/ or delete its row."
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        return None, f"{path}: OpenCV cannot decode it as an image {named}. Re-save it as JPEG or PNG."
    channels = 1 if image.ndim == 2 else image.shape[2]
    if channels not in CHANNELS or image.dtype != np.uint8:
        return None, (f"{path}: {channels} channel(s) of {image.dtype} {named}; expected 8-bit gray, colour or "
                      "colour with alpha (1, 3 or 4 channels). Re-save it as an 8-bit JPEG or PNG.")
    height, width = image.shape[:2]
    low = -MARGIN * np.array([width, height])
    high = (1 + MARGIN) * np.array([width, height])
    outside = np.flatnonzero(((face.keypoints < low) | (face.keypoints > high)).any(axis=1))
    if len(outside):
        k = int(outside[0])
        x, y = face.keypoints[k]
        return None, (f"{path}: point {k} at ({x:g}, {y:g}) lies outside the {width}x{height} image by more than "
                      f"{MARGIN:.0%} of its size ({len(outside)} point(s) in all; line {face.line} of {TEST_CSV}). "
                      "Coordinates are pixels of this image, x then y; check the row's order and scale.")
    return (height, width), None


def check_images(images_dir: Path, faces: list[Face]) -> tuple[list[tuple[int, int]], list[str]]:
    sizes, problems = [], []
    for face in faces:
        size, problem = image_problem(images_dir / face.name, face)
        sizes.append(size)
        if problem:
            problems.append(problem)
    return sizes, problems


def refuse(source: Path, problems: list[str]) -> DataError:
    listed = problems[:MAX_LISTED]
    if len(problems) > MAX_LISTED:
        listed.append(f"... and {len(problems) - MAX_LISTED} more")
    return DataError(f"private test set {source}: {len(problems)} problem(s); nothing was installed.\n"
                     + "\n".join(f"  - {p}" for p in listed))


def validate(source: Path, course_names: set[str] = frozenset()) -> tuple[list[Face], list[tuple[int, int]]]:
    """The faces of a private set and their image sizes; DataError listing every problem otherwise.
    ``course_names``: the course's labelled test names a private face must not reuse (``add`` mode)."""
    csv_path = source / TEST_CSV
    if not csv_path.is_file():
        raise DataError(f"{csv_path}: missing. {LAYOUT}")
    if not (source / "test").is_dir():
        raise DataError(f"{source / 'test'}: missing. {LAYOUT}")
    try:
        faces, problems = read_faces(csv_path)
    except UnicodeDecodeError as exc:
        raise DataError(f"{csv_path}: not UTF-8 text ({exc.reason} at byte {exc.start}). Save it as UTF-8 CSV.")
    problems += [f"{csv_path}: line {f.line}: image {f.name} has the name of one of the course's test images; "
                 "with --test-mode add names must differ. Rename the image and its row." for f in faces
                 if f.name in course_names]
    sizes, image_problems = check_images(source / "test", faces)
    if problems or image_problems:
        raise refuse(source, problems + image_problems)
    return faces, sizes


def materialise(source: Path, faces: list[Face], mode: str, course_root: Path, into: Path) -> None:
    """Write the test set to grade on into ``into`` in the course layout (CSV and test/)."""
    (into / "test").mkdir(parents=True)
    private_text = (source / TEST_CSV).read_text(encoding="utf-8")
    if mode == "replace":
        shutil.copy2(source / TEST_CSV, into / TEST_CSV)
    else:  # the course's rows, then the private rows (its header dropped)
        course_text = (course_root / TEST_CSV).read_text(encoding="utf-8").rstrip("\n") + "\n"
        (into / TEST_CSV).write_text(course_text + private_text.split("\n", 1)[1], encoding="utf-8")
        for name in dataset.read_table(course_root, "test").names:
            shutil.copy2(course_root / "test" / name, into / "test" / name)
    for face in faces:
        shutil.copy2(source / "test" / face.name, into / "test" / face.name)


def install(source: Path, mode: str, dest: Path, course_root: Path) -> str:
    """Validate the private set at ``source`` and install it as ``dest`` (atomically); say what was done."""
    if mode not in MODES:
        raise DataError(f"--test-mode {mode}: expected one of {', '.join(MODES)}.")
    source = Path(source).expanduser()
    if not source.is_dir():
        raise DataError(f"TEST_SOURCE={source}: no such folder. {LAYOUT}")
    course_names = set(dataset.read_table(course_root, "test").names) if mode == "add" else set()
    faces, sizes = validate(source, course_names)
    private_sha = testset.manifest_sha256(source / TEST_CSV, source / "test", [f.name for f in faces])
    recorded = dest / MANIFEST
    if recorded.is_file():
        old = json.loads(recorded.read_text())
        if old.get("private_sha256") == private_sha and old.get("mode") == mode:
            return f"{dest}: private test set {private_sha[:12]} ({mode}) already in place (nothing to do)"
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    materialise(source, faces, mode, course_root, tmp)
    table = dataset.read_table(tmp, "test")
    train = dataset.read_table(course_root, "training")
    test_sizes = sizes if mode == "replace" else np.concatenate([dataset.image_sizes(course_root, "test"), sizes])
    anchors = testset.mean_shape_anchors(train.keypoints, dataset.image_sizes(course_root, "training"),
                                         table.keypoints, test_sizes)
    manifest = {"schema_version": 1, "kind": "private", "mode": mode, "source": str(source.resolve()),
                "sha256": testset.manifest_sha256(tmp / TEST_CSV, tmp / "test", table.names),
                "private_sha256": private_sha, "n_images": len(table.names), "n_private": len(faces),
                "margin": MARGIN, "anchors": anchors}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)  # atomic: a half-copied folder never looks like a test set
    return (f"{dest}: private test set installed ({mode}): {len(table.names)} labelled faces, SHA-256 "
            f"{manifest['sha256']}; mean training shape NME {100 * anchors['mean_shape_nme']:.1f} % on it, "
            "dlib not measured")
