"""The course's working layout around a notebook, for notebooks that read relative paths.

Classic notebooks open ``data/training_frames_keypoints.csv``, ``data/training/``,
``data/test_frames_keypoints.csv``, ``images/obamas.jpg`` and
``detector_architectures/haarcascade_frontalface_default.xml`` from their own folder. The grader
lays those out in the run's scratch folder: the training set (less a held-out slice), a stand-in
*test* set made of that held-out slice of training faces (names, labels and images), the sample
photos and overlays, and OpenCV's cascades. The hidden test labels never enter the kernel.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from grader.data import dataset
from grader.data.fetch import TEST_CSV, TRAIN_CSV

STAND_IN_FACES = 100
CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_eye.xml", "haarcascade_smile.xml",
            "haarcascade_frontalface_alt.xml", "haarcascade_frontalface_alt2.xml")
WORKSPACE_UTILS = '''"""Stand-in for the course workspace's workspace_utils.py (supplied by the grader)."""
from contextlib import contextmanager


@contextmanager
def active_session(delay=None, interval=None):
    yield


def keep_awake(iterable, delay=None, interval=None):
    yield from iterable
'''


def held_out(data_dir: Path, seed: int, count: int = STAND_IN_FACES) -> np.ndarray:
    """Row indices of the training faces that stand in for the test set (seeded)."""
    rows = len(pd.read_csv(dataset.labels_csv(data_dir, "training"), usecols=[0]))
    return np.sort(np.random.default_rng(seed).permutation(rows)[:count])


def link(target: Path, link_path: Path) -> None:
    """A symlink to the grader's read-only data (never followed when the folder is handed over)."""
    link_path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(Path(target).resolve(), link_path)


def lay_out(cwd: Path, data_dir: Path, seed: int) -> None:
    """Create ``data/``, ``images/`` and ``detector_architectures/`` in ``cwd`` where the submission has none."""
    data = cwd / "data"
    if not data.exists():
        frame = pd.read_csv(dataset.labels_csv(data_dir, "training"))
        picks = held_out(data_dir, seed)
        data.mkdir()
        frame.drop(index=picks).to_csv(data / TRAIN_CSV, index=False)
        frame.iloc[picks].to_csv(data / TEST_CSV, index=False)
        link(Path(data_dir) / "training", data / "training")
        for name in frame.iloc[picks, 0]:
            link(Path(data_dir) / "training" / name, data / "test" / name)
    images = cwd / "images"
    samples = dataset.samples_dir(data_dir)
    if samples.is_dir():
        images.mkdir(exist_ok=True)
        for photo in sorted(samples.iterdir()):
            if photo.is_file() and not (images / photo.name).exists():
                shutil.copy2(photo, images / photo.name)
    cascades = cwd / "detector_architectures"
    if not cascades.exists():
        import cv2

        cascades.mkdir()
        for name in CASCADES:  # copies: the grader's own detection reads the originals
            shutil.copy2(Path(cv2.data.haarcascades) / name, cascades / name)


def supply_workspace_utils(cwd: Path, sources: list[str]) -> bool:
    """Write the stand-in workspace_utils.py when the notebook imports it and the submission lacks it."""
    if (cwd / "workspace_utils.py").exists() or not any("workspace_utils" in s for s in sources):
        return False
    (cwd / "workspace_utils.py").write_text(WORKSPACE_UTILS)
    return True
