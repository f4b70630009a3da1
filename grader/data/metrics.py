"""Keypoint error metrics (pure numpy; trusted code only, never run by students).

- NME: mean point-to-point error in original-image pixels divided by the outer-eye-corner
  distance (points 36 and 45), the 300-W "inter-ocular" normalisation; one value per image.
- MSE: mean squared error in normalised units of the eval frame, ``(pixel - 100) / 50``.
"""
from __future__ import annotations

import numpy as np

N_POINTS = 68
OUTER_EYE_CORNERS = (36, 45)
LANDMARK_GROUPS: dict[str, range] = {
    "jaw": range(0, 17),
    "brows": range(17, 27),
    "nose": range(27, 36),
    "eyes": range(36, 48),
    "mouth": range(48, 68),
}


def inter_ocular(true: np.ndarray) -> np.ndarray:
    """Outer-eye-corner distance per image; ``true`` is (N, 68, 2) pixels -> (N,)."""
    left, right = OUTER_EYE_CORNERS
    return np.linalg.norm(true[:, left] - true[:, right], axis=-1)


def point_errors(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Per-point error over inter-ocular distance: (N, 68, 2) x2 -> (N, 68)."""
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    if pred.shape != true.shape or pred.shape[1:] != (N_POINTS, 2):
        raise ValueError(f"expected two (N, 68, 2) arrays, got {pred.shape} and {true.shape}")
    return np.linalg.norm(pred - true, axis=-1) / inter_ocular(true)[:, None]


def nme_per_image(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """NME of each image (a fraction, 0.05 = 5 %): (N, 68, 2) pixels x2 -> (N,)."""
    return point_errors(pred, true).mean(axis=1)


def group_nme(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Mean NME of each landmark group (jaw, brows, nose, eyes, mouth) over all images."""
    errors = point_errors(pred, true)  # (N, 68)
    return {group: float(errors[:, list(idx)].mean()) for group, idx in LANDMARK_GROUPS.items()}


def mse_normalised(pred_norm: np.ndarray, true_norm: np.ndarray) -> float:
    """Mean squared error in normalised units; both (N, 136) or (N, 68, 2)."""
    pred_norm = np.asarray(pred_norm, np.float64).reshape(len(pred_norm), -1)
    true_norm = np.asarray(true_norm, np.float64).reshape(len(true_norm), -1)
    return float(np.mean((pred_norm - true_norm) ** 2))


def summarise(pred: np.ndarray, true: np.ndarray, pred_norm: np.ndarray, true_norm: np.ndarray) -> dict:
    """All headline metrics of one evaluation, as plain floats for results.json."""
    per_image = nme_per_image(pred, true)
    return {
        "nme": float(per_image.mean()),
        "nme_median": float(np.median(per_image)),
        "mse": mse_normalised(pred_norm, true_norm),
        "group_nme": group_nme(pred, true),
        "n_images": int(len(per_image)),
    }
