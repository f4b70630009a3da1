"""Pictures for the report (trusted side, matplotlib Agg): loss curve, keypoints on faces, group errors."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from grader.data.metrics import LANDMARK_GROUPS  # noqa: E402

PRED_COLOUR, TRUE_COLOUR = "#ff3b30", "#34c759"


def _save(fig, path: Path) -> None:
    fig.savefig(path, dpi=80, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


def loss_curve(losses: list[float], before: float, after: float, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5.5, 3))
    ax.plot(np.arange(1, len(losses) + 1), losses, label="training batch MSE")
    ax.axhline(before, color="grey", linestyle=":", label=f"held-out before {before:.4f}")
    ax.axhline(after, color="black", linestyle="--", label=f"held-out after {after:.4f}")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("MSE (normalised units)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    _save(fig, path)


def keypoint_panel(faces: list[np.ndarray], preds: list[np.ndarray], trues: list[np.ndarray | None],
                   titles: list[str], path: Path) -> None:
    """Faces (H, W) gray with predicted (red) and true (green) points (68, 2) in the face's pixels."""
    fig, axes = plt.subplots(1, len(faces), figsize=(2.6 * len(faces), 2.9), squeeze=False)
    for ax, face, pred, true, title in zip(axes[0], faces, preds, trues, titles):
        ax.imshow(face, cmap="gray")
        if true is not None:
            ax.scatter(true[:, 0], true[:, 1], s=6, c=TRUE_COLOUR, label="true")
        ax.scatter(pred[:, 0], pred[:, 1], s=6, c=PRED_COLOUR, marker="x", label="predicted")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    axes[0][0].legend(fontsize=7, loc="lower left")
    _save(fig, path)


def group_bars(group_nme: dict[str, float], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 2.6))
    names = list(LANDMARK_GROUPS)
    values = [100 * group_nme[n] for n in names]
    ax.bar(names, values, color="#0a84ff")
    for x, v in enumerate(values):
        ax.text(x, v, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("NME (%)")
    _save(fig, path)


def detections(image_rgb: np.ndarray, boxes: list, points: list[np.ndarray], path: Path,
               truths: list[np.ndarray] | None = None) -> None:
    """A photo with Haar boxes and the net's keypoints on every face."""
    height, width = image_rgb.shape[:2]
    fig_width = 7 if height / width > 0.5 else 12  # wide collages get the page's full width
    fig, ax = plt.subplots(figsize=(fig_width, fig_width * height / width))
    ax.imshow(image_rgb)
    for (x, y, w, h), pts in zip(boxes, points):
        ax.add_patch(plt.Rectangle((x, y), w, h, fill=False, edgecolor="#ffd60a", linewidth=1.5))
        ax.scatter(pts[:, 0], pts[:, 1], s=4, c=PRED_COLOUR)
    for true in truths or []:
        ax.scatter(true[:, 0], true[:, 1], s=4, c=TRUE_COLOUR)
    ax.axis("off")
    _save(fig, path)
