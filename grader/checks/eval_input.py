"""How the student's net sees a test face: the preprocessed images, each image's geometry (original
pixels -> pixels of the net's input frame) and the keypoint units the net answers in.

Three ways, in order: the submission's ``eval_transform`` (transforms.py); in the classic layout, the
transform their notebook 2 composes from their own data_load classes (crop made central); else the
grader's canonical transform. The child only ever sees test *images* and a grid of probe points,
from which the geometry is recovered by an affine fit; labels stay in this process.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from grader.checks.base import Context, Outcome, failed, probe_failure
from grader.data import dataset

MAX_RESIDUAL_PX = 0.75
CANONICAL = "canonical (short side 250, centre crop 224, gray, /255)"


@dataclass
class EvalInput:
    """The test set as the student's net takes it."""

    images: np.ndarray
    """(N, 1, S, S) float32."""
    matrices: np.ndarray
    """(N, 2, 3) affine maps, original-image pixels -> input-frame pixels."""
    to_pixels: Callable[[np.ndarray], np.ndarray]
    """The net's keypoint units -> input-frame pixels (the course's: value * 50 + 100)."""
    to_units: Callable[[np.ndarray], np.ndarray]
    description: str
    normalisation: dict


COURSE_UNITS = {"mean": 100.0, "std": 50.0, "source": "the course's (pixel - 100) / 50"}


def canonical(ctx: Context) -> EvalInput:
    eval_set = dataset.load_eval_set(ctx.test_dir, "test")
    matrices = np.stack([dataset.frame_matrix(f) for f in eval_set.frames])
    return EvalInput(eval_set.images, matrices, dataset.denormalise, dataset.normalise, CANONICAL, COURSE_UNITS)


def probe_inputs(ctx: Context, table) -> tuple[list[str], np.ndarray, dict]:
    """Test image paths, their probe grids (N, 68, 2) and the args that hand both to the child."""
    paths = [str((ctx.test_dir / "test" / name).resolve()) for name in table.names]
    sizes = dataset.image_sizes(ctx.test_dir, "test")
    grid = np.stack([dataset.probe_grid(int(h), int(w)) for h, w in sizes])  # (N, 68, 2)
    return paths, grid, {"paths": paths, "probe_points": ctx.sandbox.put_array("probe_points", grid)}


def fit_all(grid: np.ndarray, moved: np.ndarray) -> tuple[np.ndarray, float]:
    matrices, worst = [], 0.0
    for source, target in zip(grid, moved):
        matrix, residual = dataset.fit_affine(source, target)
        matrices.append(matrix)
        worst = max(worst, residual)
    return np.stack(matrices), worst


def not_geometric(worst: float, what: str) -> Outcome:
    return failed(f"{what} moves keypoints in a way that is not a resize/crop/flip of the image "
                  f"(residual {worst:.1f} px), so predictions cannot be mapped back to the photo.",
                  "Use only geometric steps that move keypoints with the image (Rescale, CenterCrop) and "
                  "normalise keypoints with (p - 100) / 50; no random steps.")


def from_eval_transform(ctx: Context, table, cfg) -> EvalInput | Outcome | None:
    """Images and geometry from the student's eval_transform; None when transforms.py defines none."""
    if not (ctx.submission.student_dir / "transforms.py").is_file():
        return None
    asked = ctx.sandbox.call("eval_transform", {"paths": []}, timeout=ctx.timeout(cfg))
    if not asked.ok:
        return probe_failure(asked, "Importing transforms.py to look for eval_transform")
    if not asked.value.get("defined"):
        return None  # the canonical transform: no test image needs reading here
    paths, grid, args = probe_inputs(ctx, table)
    result = ctx.sandbox.call("eval_transform", args, timeout=ctx.timeout(cfg), on_progress=ctx.progress)
    if not result.ok:
        return probe_failure(result, "Running eval_transform from transforms.py on the test images")
    if not result.value.get("defined"):
        return None
    images = ctx.sandbox.get_array(result.value["images"]).astype(np.float32)
    moved = dataset.denormalise(ctx.sandbox.get_array(result.value["points"]))  # (N, 68, 2) eval-frame pixels
    if images.shape != (len(paths), 1, 224, 224) or moved.shape != (len(paths), 68, 2) or not np.isfinite(moved).all():
        return failed(f"eval_transform returned images {images.shape} and keypoints {moved.shape}.",
                      "eval_transform must return 1x224x224 images and (68, 2) keypoints, like data_transform.")
    matrices, worst = fit_all(grid, moved)
    if worst > MAX_RESIDUAL_PX:
        return not_geometric(worst, "eval_transform")
    return EvalInput(images, matrices, dataset.denormalise, dataset.normalise, "the submission's eval_transform",
                     COURSE_UNITS)


def line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept with correctly rounded sums (the same bits on every CPU)."""
    mean_x, mean_y = math.fsum(x.tolist()) / len(x), math.fsum(y.tolist()) / len(y)
    slope = math.fsum(((x - mean_x) * (y - mean_y)).tolist()) / math.fsum(((x - mean_x) ** 2).tolist())
    return slope, mean_y - slope * mean_x


def units_map(frame: np.ndarray, units: np.ndarray) -> tuple[np.ndarray, dict]:
    """The student's keypoint normalisation, pixels -> units, fitted per axis over the probe points of
    every image: value = (pixel - mean) / std."""
    pixels, values = frame.reshape(-1, 2), units.reshape(-1, 2)
    coefficients = [line_fit(pixels[:, axis], values[:, axis]) for axis in (0, 1)]  # (slope, intercept)
    std = [1.0 / c[0] for c in coefficients]
    mean = [-c[1] / c[0] for c in coefficients]
    return np.array(coefficients), {"mean": [round(m, 4) for m in mean], "std": [round(s, 4) for s in std],
                                    "source": "fitted from the student's Normalize"}


def from_composed(ctx: Context, table, cfg) -> EvalInput | Outcome | None:
    """The classic layout: notebook 2's data_transform built from the student's data_load classes."""
    spec = ctx.submission.transform
    if spec is None or not spec.steps:
        return None
    paths, grid, args = probe_inputs(ctx, table)
    result = ctx.sandbox.call("composed_transform", {**args, "steps": list(spec.steps)}, timeout=ctx.timeout(cfg),
                              on_progress=ctx.progress)
    if not result.ok:
        return probe_failure(result, f"Running data_transform as composed in {spec.where} (crop made central) "
                                     "on the test images")
    images = ctx.sandbox.get_array(result.value["images"]).astype(np.float32)
    units, frame = (ctx.sandbox.get_array(result.value[k]).astype(np.float64) for k in ("units", "frame"))
    n = len(paths)
    if images.shape[:2] != (n, 1) or units.shape != (n, 68, 2) or frame.shape != (n, 68, 2) \
            or not (np.isfinite(units).all() and np.isfinite(frame).all()):
        return failed(f"data_transform from {spec.where} returned images {images.shape} and keypoints {units.shape}.",
                      "Compose Rescale, a crop, Normalize and ToTensor from data_load.py as the course does.")
    matrices, worst = fit_all(grid, frame)
    if worst > MAX_RESIDUAL_PX:
        return not_geometric(worst, f"data_transform from {spec.where}")
    coefficients, normalisation = units_map(frame, units)
    slope, intercept = coefficients[:, 0], coefficients[:, 1]
    return EvalInput(images, matrices, lambda u: (np.asarray(u, np.float64) - intercept) / slope,
                     lambda p: np.asarray(p, np.float64) * slope + intercept,
                     f"the submission's own data_transform: {spec.describe()}", normalisation)


def eval_input(ctx: Context, table, cfg) -> EvalInput | Outcome:
    """The first of the three ways that applies; remembered in ``ctx.state`` for the Haar check."""
    for way in (from_eval_transform, from_composed):
        found = way(ctx, table, cfg)
        if found is not None:
            if isinstance(found, EvalInput):
                ctx.state["eval_input"] = found
            return found
    found = canonical(ctx)
    if ctx.submission.transform is not None and ctx.submission.transform.problem:
        found.description += f"; no transform of the submission's could be built: {ctx.submission.transform.problem}"
    ctx.state["eval_input"] = found
    return found
