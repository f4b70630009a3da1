"""Dataset access for the grader: the CSV tables, the canonical eval transform and cached test tensors.

Everything is keyed by (split, name): upstream test names reuse training names with other pixels.
The canonical eval transform: rescale so the short side is 250, centre-crop 224, grayscale, /255.
``EvalFrame`` records that geometry so predictions map back to original-image pixels.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from grader.data.cache import cached_arrays, key_of
from grader.data.fetch import CSV_SHA256, MANIFEST, TEST_CSV, TRAIN_CSV

SHORT_SIDE = 250
CROP = 224
CSV_OF_SPLIT = {"training": TRAIN_CSV, "test": TEST_CSV}


def labels_csv(data_dir: Path, split: str) -> Path:
    """The labels CSV of a split. In the container the test labels sit outside the data folder
    (FKP_TEST_LABELS, readable by the grader only)."""
    if split == "test" and os.environ.get("FKP_TEST_LABELS"):
        return Path(os.environ["FKP_TEST_LABELS"])
    return Path(data_dir) / CSV_OF_SPLIT[split]


def samples_dir(data_dir: Path) -> Path:
    """The sample photos: FKP_SAMPLES_DIR, else ``data/samples`` beside the dataset."""
    return Path(os.environ.get("FKP_SAMPLES_DIR") or Path(data_dir).parent / "samples")


def default_cache_dir(data_dir: Path) -> Path:
    """Where preprocessed eval tensors are cached: FKP_CACHE_DIR, else ``data/cache``."""
    return Path(os.environ.get("FKP_CACHE_DIR") or Path(data_dir).parent / "cache")


@dataclass(frozen=True)
class KeypointsTable:
    """One split's labels: image names and keypoints in original pixels."""

    split: str
    names: list[str]
    keypoints: np.ndarray  # (N, 68, 2) float32, pixels of each original image

    def image_path(self, data_dir: Path, index: int) -> Path:
        return Path(data_dir) / self.split / self.names[index]


def read_table(data_dir: Path, split: str) -> KeypointsTable:
    frame = pd.read_csv(labels_csv(data_dir, split))
    keypoints = frame.iloc[:, 1:].to_numpy(np.float32).reshape(len(frame), 68, 2)
    return KeypointsTable(split, frame.iloc[:, 0].tolist(), keypoints)


def read_gray(path: Path) -> np.ndarray:
    """Any 1/3/4-channel image file -> (H, W) uint8 grayscale."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f"{path}: cannot be read as an image")
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3:
        image = image[:, :, 0]
    return image


@dataclass(frozen=True)
class EvalFrame:
    """Geometry from an original image to its 224x224 eval frame: eval = original * scale - offset."""

    scale_x: float
    scale_y: float
    offset_x: float
    offset_y: float

    def to_original(self, points: np.ndarray) -> np.ndarray:
        """Eval-frame pixels (..., 2) -> original-image pixels."""
        scale = np.array([self.scale_x, self.scale_y])
        offset = np.array([self.offset_x, self.offset_y])
        return (np.asarray(points, np.float64) + offset) / scale

    def to_eval(self, points: np.ndarray) -> np.ndarray:
        scale = np.array([self.scale_x, self.scale_y])
        offset = np.array([self.offset_x, self.offset_y])
        return np.asarray(points, np.float64) * scale - offset


def canonical_size(h: int, w: int) -> tuple[int, int]:
    """The (height, width) an (h, w) image is rescaled to: short side 250."""
    if h > w:
        new_h, new_w = SHORT_SIDE * h / w, SHORT_SIDE
    else:
        new_h, new_w = SHORT_SIDE, SHORT_SIDE * w / h
    return int(round(new_h)), int(round(new_w))


def canonical_frame(h: int, w: int) -> EvalFrame:
    """The EvalFrame of the canonical transform for an (h, w) image (no pixels needed)."""
    new_h, new_w = canonical_size(h, w)
    return EvalFrame(new_w / w, new_h / h, float((new_w - CROP) // 2), float((new_h - CROP) // 2))


def canonical_eval(gray: np.ndarray) -> tuple[np.ndarray, EvalFrame]:
    """(H, W) uint8 -> ((224, 224) float32 in [0, 1], its EvalFrame)."""
    h, w = gray.shape[:2]
    new_h, new_w = canonical_size(h, w)
    resized = cv2.resize(gray, (new_w, new_h), interpolation=cv2.INTER_AREA if new_w < w else cv2.INTER_LINEAR)
    frame = canonical_frame(h, w)
    top, left = int(frame.offset_y), int(frame.offset_x)
    crop = resized[top : top + CROP, left : left + CROP].astype(np.float32) / 255.0
    return crop, frame


def normalise(pixels: np.ndarray) -> np.ndarray:
    """Eval-frame pixels -> the course's normalised units."""
    return (np.asarray(pixels, np.float64) - 100.0) / 50.0


def denormalise(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, np.float64) * 50.0 + 100.0


@dataclass(frozen=True)
class EvalSet:
    """A split preprocessed with the canonical eval transform."""

    table: KeypointsTable
    images: np.ndarray  # (N, 1, 224, 224) float32 in [0, 1]
    frames: list[EvalFrame]

    def true_normalised(self) -> np.ndarray:
        """Labels in normalised units of each eval frame: (N, 68, 2)."""
        return np.stack([normalise(f.to_eval(k)) for f, k in zip(self.frames, self.table.keypoints)])

    def predictions_to_original(self, outputs: np.ndarray) -> np.ndarray:
        """Raw network outputs (N, 136), normalised eval-frame units -> (N, 68, 2) original pixels."""
        points = denormalise(np.asarray(outputs).reshape(len(outputs), 68, 2))
        return np.stack([f.to_original(p) for f, p in zip(self.frames, points)])


def content_hash(data_dir: Path, split: str) -> str:
    """What a split's cached arrays are made of: the SHA-256 of a private test set's manifest (the
    ``manifest.json`` beside its labels, written by ``python -m grader data --test-source``), else the
    course's pinned CSV checksum. Cache keys use it, so a changed private set never reuses old arrays."""
    manifest = labels_csv(data_dir, split).parent / MANIFEST
    if split == "test" and manifest.is_file():
        return json.loads(manifest.read_text())["sha256"]
    return CSV_SHA256[CSV_OF_SPLIT[split]]


def cache_key(data_dir: Path, split: str) -> str:
    return key_of(split, content_hash(data_dir, split), SHORT_SIDE, CROP, "v1")


def load_eval_set(data_dir: Path, split: str = "test", cache_dir: Path | None = None) -> EvalSet:
    """Preprocess a split (cached under ``cache_dir``, default ``default_cache_dir``)."""
    data_dir = Path(data_dir)
    table = read_table(data_dir, split)

    def build() -> dict:
        crops, geometry = [], []
        for index in range(len(table.names)):
            crop, frame = canonical_eval(read_gray(table.image_path(data_dir, index)))
            crops.append(crop)
            geometry.append([frame.scale_x, frame.scale_y, frame.offset_x, frame.offset_y])
        return {"images": np.stack(crops)[:, None], "frames": np.array(geometry, np.float64)}

    arrays = cached_arrays(Path(cache_dir) if cache_dir else default_cache_dir(data_dir), f"eval-{split}",
                           cache_key(data_dir, split), build)
    return EvalSet(table, arrays["images"], [EvalFrame(*row) for row in arrays["frames"]])


def image_sizes(data_dir: Path, split: str) -> np.ndarray:
    """(N, 2) height and width of each image of a split, in CSV order (cached: reading them means
    decoding every image, and each grade that maps a student's transform back needs them)."""
    table = read_table(data_dir, split)

    def build() -> dict:
        shapes = [cv2.imread(str(table.image_path(data_dir, i)), cv2.IMREAD_UNCHANGED).shape[:2]
                  for i in range(len(table.names))]
        return {"sizes": np.array(shapes, np.int64)}

    return cached_arrays(default_cache_dir(data_dir), f"sizes-{split}",
                         key_of(split, content_hash(data_dir, split), "v1"), build)["sizes"]


def eval_subset(data_dir: Path, split: str, indices) -> tuple[np.ndarray, np.ndarray]:
    """Canonically preprocessed images (n, 1, 224, 224) and normalised labels (n, 68, 2) of some rows
    (cached: the brief training takes the same seeded rows in every grade)."""
    indices = np.asarray(indices, np.int64)
    table = read_table(data_dir, split)

    def build() -> dict:
        images, labels = [], []
        for index in indices:
            crop, frame = canonical_eval(read_gray(table.image_path(data_dir, int(index))))
            images.append(crop[None])
            labels.append(normalise(frame.to_eval(table.keypoints[int(index)])))
        return {"images": np.stack(images).astype(np.float32), "labels": np.stack(labels).astype(np.float32)}

    key = key_of(split, content_hash(data_dir, split), SHORT_SIDE, CROP, indices, "v1")
    arrays = cached_arrays(default_cache_dir(data_dir), f"subset-{split}", key, build)
    return arrays["images"], arrays["labels"]


def frame_matrix(frame: EvalFrame) -> np.ndarray:
    """The (2, 3) affine map original pixels -> eval-frame pixels of a canonical frame."""
    return np.array([[frame.scale_x, 0.0, -frame.offset_x], [0.0, frame.scale_y, -frame.offset_y]])


# The affine helpers below feed the NME, so they avoid BLAS and LAPACK (matmul, inv, lstsq): those
# pick kernels by CPU (OpenBLAS: Haswell, SkylakeX, ... or OPENBLAS_CORETYPE), which round the last
# bits differently, and a grade must give the same numbers on every machine and in the container.
# Element-wise numpy and correctly rounded sums (math.fsum) give the same bits everywhere.


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(2, 3) affine applied to (..., 2) points."""
    m = np.asarray(matrix, np.float64)
    points = np.asarray(points, np.float64)
    x, y = points[..., 0], points[..., 1]
    return np.stack([m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]], axis=-1)


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    (a, b, c), (d, e, f) = np.asarray(matrix, np.float64).tolist()
    det = a * e - b * d
    if det == 0.0:
        raise np.linalg.LinAlgError("the affine map is singular")
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    return np.array([[ia, ib, -(ia * c + ib * f)], [id_, ie, -(id_ * c + ie * f)]])


def fit_affine(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares (2, 3) affine taking source (K, 2) to target (K, 2), and its worst residual in pixels.

    Normal equations on centred coordinates (well conditioned for a spread-out probe grid), every
    sum by ``math.fsum``: the same matrix, to the bit, on any CPU."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    n = len(source)
    mean_x, mean_y = math.fsum(source[:, 0].tolist()) / n, math.fsum(source[:, 1].tolist()) / n
    u, v = source[:, 0] - mean_x, source[:, 1] - mean_y
    suu, suv, svv = (math.fsum(p.tolist()) for p in (u * u, u * v, v * v))
    det = suu * svv - suv * suv
    if not det > 0.0:
        raise np.linalg.LinAlgError("the source points are collinear: no unique affine map")
    rows = []
    for column in (0, 1):
        mean_t = math.fsum(target[:, column].tolist()) / n
        w = target[:, column] - mean_t
        suw, svw = math.fsum((u * w).tolist()), math.fsum((v * w).tolist())
        a, b = (svv * suw - suv * svw) / det, (suu * svw - suv * suw) / det
        rows.append([a, b, mean_t - a * mean_x - b * mean_y])
    matrix = np.array(rows)
    return matrix, float(np.abs(apply_affine(matrix, source) - target).max())


def probe_grid(height: int, width: int) -> np.ndarray:
    """68 points spread over an image (17 x 4 grid): what the student's eval_transform sees instead of labels."""
    xs = np.linspace(0.15 * width, 0.85 * width, 17)
    ys = np.linspace(0.2 * height, 0.8 * height, 4)
    return np.array([[x, y] for y in ys for x in xs], np.float32)
