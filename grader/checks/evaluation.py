"""The student's trained weights on the hidden labelled test set: NME, MSE, per-group errors.

The child only ever sees test *images*; labels stay in this process. With an ``eval_transform``
in transforms.py, the child preprocesses the images and also moves a grid of probe points
(not labels) through it, from which the grader recovers each image's geometry.
"""
from __future__ import annotations

import cv2
import numpy as np

from grader.checks.base import Context, Outcome, check, failed, probe_failure
from grader.data import dataset, metrics
from grader.report import figures
from grader.rubric import linear_fraction

MAX_RESIDUAL_PX = 0.75


def student_preprocessing(ctx: Context, table, cfg) -> tuple[np.ndarray, np.ndarray] | Outcome | None:
    """Images and (N, 2, 3) geometry from the student's eval_transform; None when it defines none."""
    asked = ctx.sandbox.call("eval_transform", {"paths": []}, timeout=ctx.timeout(cfg))
    if not asked.ok:
        return probe_failure(asked, "Importing transforms.py to look for eval_transform")
    if not asked.value.get("defined"):
        return None  # the canonical transform: no test image needs reading here
    paths = [str((ctx.data_dir / "test" / name).resolve()) for name in table.names]
    sizes = [cv2.imread(p, cv2.IMREAD_UNCHANGED).shape[:2] for p in paths]
    grid = np.stack([dataset.probe_grid(h, w) for h, w in sizes])  # (N, 68, 2)
    args = {"paths": paths, "probe_points": ctx.sandbox.put_array("probe_points", grid)}
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
    matrices, worst = [], 0.0
    for source, target in zip(grid, moved):
        matrix, residual = dataset.fit_affine(source, target)
        matrices.append(matrix)
        worst = max(worst, residual)
    if worst > MAX_RESIDUAL_PX:
        return failed(f"eval_transform moves keypoints in a way that is not a resize/crop/flip of the image "
                      f"(residual {worst:.1f} px), so predictions cannot be mapped back to the photo.",
                      "Use only geometric steps that move keypoints with the image (Rescale, CenterCrop) and "
                      "normalise keypoints with (p - 100) / 50; no random steps.")
    return images, np.stack(matrices)


def pictures(ctx: Context, images, pred_eval, true_eval, per_image, names) -> list[str]:
    order = np.argsort(per_image)
    picks = {"best": order[0], "median": order[len(order) // 2], "worst": order[-1]}
    path = ctx.artifact("test_faces.png")
    figures.keypoint_panel([images[i, 0] for i in picks.values()], [pred_eval[i] for i in picks.values()],
                           [true_eval[i] for i in picks.values()],
                           [f"{k}: {names[i]}\nNME {100 * per_image[i]:.1f} %" for k, i in picks.items()], path)
    worst_path = ctx.artifact("worst_faces.png")
    worst = order[::-1][:4]
    figures.keypoint_panel([images[i, 0] for i in worst], [pred_eval[i] for i in worst], [true_eval[i] for i in worst],
                           [f"{names[i]}\nNME {100 * per_image[i]:.1f} %" for i in worst], worst_path)
    return [ctx.ref(path), ctx.ref(worst_path)]


@check("evaluation.test_set", "Trained weights on the hidden test labels", requires=("weights.load", "model.output_shape"))
def test_set(ctx: Context, cfg) -> Outcome:
    table = dataset.read_table(ctx.data_dir, "test")
    custom = student_preprocessing(ctx, table, cfg)
    if isinstance(custom, Outcome):
        return custom
    if custom is None:
        eval_set = dataset.load_eval_set(ctx.data_dir, "test")
        images = eval_set.images
        matrices = np.stack([dataset.frame_matrix(f) for f in eval_set.frames])
        preprocessing = "canonical (short side 250, centre crop 224, gray, /255)"
    else:
        images, matrices = custom
        preprocessing = "the submission's eval_transform"
    result = ctx.sandbox.call("predict", {"images": ctx.sandbox.put_array("test_images", images), "output": "test_out"},
                              timeout=ctx.timeout(cfg), on_progress=ctx.progress)
    if not result.ok:
        return probe_failure(result, "Running the trained net on the test images")
    outputs = ctx.sandbox.get_array(result.value["outputs"])
    n = len(table.names)
    if outputs.shape != (n, 136):
        return failed(f"The trained net returned outputs of shape {outputs.shape} for {n} test images; expected ({n}, 136).",
                      "See model.output_shape.")
    if not np.isfinite(outputs).all():
        bad = int((~np.isfinite(outputs).all(axis=1)).sum())
        return failed(f"The trained net's outputs contain NaN or infinite values for {bad} of {n} test images.",
                      "Training diverged (NaN weights?). Retrain with a smaller learning rate and check the loss.")
    pred_eval = dataset.denormalise(outputs.reshape(n, 68, 2))  # (N, 68, 2) eval-frame pixels
    true_eval = np.stack([dataset.apply_affine(m, k) for m, k in zip(matrices, table.keypoints)])
    pred_orig = np.stack([dataset.apply_affine(dataset.invert_affine(m), p) for m, p in zip(matrices, pred_eval)])
    summary = metrics.summarise(pred_orig, table.keypoints, dataset.normalise(pred_eval), dataset.normalise(true_eval))
    per_image = metrics.nme_per_image(pred_orig, table.keypoints)
    worst = [{"name": table.names[i], "nme": float(per_image[i])} for i in np.argsort(per_image)[::-1][:10]]
    ctx.metrics.update(nme=summary["nme"], nme_median=summary["nme_median"], mse=summary["mse"],
                       group_nme=summary["group_nme"], n_test_images=n)
    group_path = ctx.artifact("group_nme.png")
    figures.group_bars(summary["group_nme"], group_path)
    artifacts = pictures(ctx, images, pred_eval, true_eval, per_image, table.names) + [ctx.ref(group_path)]
    fraction = linear_fraction(summary["nme"], float(cfg["zero_nme"]), float(cfg["full_nme"]))
    details = {**summary, "worst_images": worst, "preprocessing": preprocessing,
               "zero_nme": float(cfg["zero_nme"]), "full_nme": float(cfg["full_nme"])}
    message = (f"NME {100 * summary['nme']:.2f} % (median {100 * summary['nme_median']:.2f} %), MSE {summary['mse']:.4f} "
               f"on {n} hidden test faces; full marks at {100 * float(cfg['full_nme']):.0f} %, none at "
               f"{100 * float(cfg['zero_nme']):.0f} % (the mean face).")
    hint = "" if fraction == 1 else ("Train longer, augment (small rotations, scale, flips with left/right points "
                                     "swapped), add BatchNorm, and use a deterministic eval_transform that matches "
                                     "how you trained. The worst faces below show where the net struggles.")
    return Outcome(fraction, message, hint, details=details, artifacts=artifacts)
