"""The test set a grade scores on: the course's labelled test set, or an instructor's private one.

``python -m grader data --test-source DIR`` installs a private set as ``data/private-test/`` in the
course layout (``test_frames_keypoints.csv``, ``test/``) with a ``manifest.json`` beside the labels:
its SHA-256, counts and anchors. ``locate`` finds it beside the course's dataset folder; in the
container the manifest is mounted beside the hidden labels (FKP_TEST_LABELS) and the images at
``/data/test``. Without a private set the grade scores on the course's test set, as before.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.data import dataset, metrics
from grader.data.fetch import CSV_SHA256, EXPECTED_COUNTS, MANIFEST, TEST_CSV, private_test_beside, sha256

COURSE_ANCHORS = {
    "mean_shape_nme": 0.285, "mean_shape_mse": 0.079, "dlib_nme": 0.070,
    "how": "measured once on the course's 770 labelled test images (docs/grading.md)",
}
NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class TestSet:
    """Where a grade's test faces come from."""

    root: Path
    """A folder in the course layout whose ``test/`` holds the images (labels: ``dataset.labels_csv``)."""
    kind: str
    """``course`` or ``private``."""
    manifest: dict
    """A private set's manifest.json (empty for the course's set)."""

    def to_json(self) -> dict:
        """What results.json records under ``environment.test_set``."""
        if self.kind == "course":
            return {"kind": "course", "n_images": EXPECTED_COUNTS["labelled test rows"],
                    "csv_sha256": CSV_SHA256[TEST_CSV], "anchors": COURSE_ANCHORS}
        keys = ("mode", "sha256", "private_sha256", "n_images", "n_private", "margin", "anchors")
        return {"kind": "private", **{k: self.manifest.get(k) for k in keys}}


def locate(data_dir: Path) -> TestSet:
    """The private set when one is installed (``data/private-test/`` beside ``data_dir``, or in the
    container beside FKP_TEST_LABELS), else the course's test set in ``data_dir``."""
    root = (private_test_beside(data_dir) or Path(data_dir)).resolve()
    manifest = dataset.labels_csv(root, "test").parent / MANIFEST
    if manifest.is_file():
        return TestSet(root, "private", json.loads(manifest.read_text()))
    return TestSet(root, "course", {})


def manifest_sha256(csv_path: Path, images_dir: Path, names) -> str:
    """A stable hash of a test set: SHA-256 of the text ``sha256sum`` prints for the labels CSV, then
    for each labelled image in sorted order as ``test/<name>``; files the CSV does not name do not
    count. In the set's folder: ``sha256sum test_frames_keypoints.csv test/a.jpg test/b.jpg | sha256sum``."""
    lines = [f"{sha256(csv_path)}  {TEST_CSV}"]
    lines += [f"{sha256(Path(images_dir) / name)}  test/{name}" for name in sorted(names)]
    return hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest()


def mean_shape_anchors(train_keypoints, train_sizes, test_keypoints, test_sizes) -> dict:
    """The mean-training-shape anchor on a test set: the mean of the training labels in the canonical
    eval frame's normalised units, predicted for every test face; on the course's set this gives the
    documented 28.5 % NME and 0.079 MSE. Sizes are (N, 2) heights and widths; keypoints (N, 68, 2)."""
    train_frames = [dataset.canonical_frame(int(h), int(w)) for h, w in train_sizes]
    mean = np.mean([dataset.normalise(f.to_eval(k)) for f, k in zip(train_frames, train_keypoints)], axis=0)  # (68, 2)
    frames = [dataset.canonical_frame(int(h), int(w)) for h, w in test_sizes]
    pred = np.stack([f.to_original(dataset.denormalise(mean)) for f in frames])  # (N, 68, 2) original pixels
    true_units = np.stack([dataset.normalise(f.to_eval(k)) for f, k in zip(frames, test_keypoints)])
    return {"mean_shape_nme": float(metrics.nme_per_image(pred, np.asarray(test_keypoints)).mean()),
            "mean_shape_mse": metrics.mse_normalised(np.broadcast_to(mean, true_units.shape), true_units),
            "dlib_nme": None, "dlib": NOT_MEASURED + " (dlib is not installed with the grader)",
            "how": "mean training shape recomputed on this set by `python -m grader data --test-source`"}
