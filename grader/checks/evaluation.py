"""The student's trained weights on the hidden labelled test set: NME, MSE, per-group errors.

The child only ever sees test *images*; labels stay in this process. How the images are
preprocessed (the student's eval_transform, their notebook's composed transform, or the grader's
canonical one) and mapped back to original pixels is ``eval_input``'s business.
"""
from __future__ import annotations

import numpy as np

from grader.checks.base import Context, Outcome, check, failed, probe_failure
from grader.checks.eval_input import eval_input
from grader.data import dataset, metrics
from grader.report import figures
from grader.rubric import linear_fraction


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


def faces(ctx: Context, n: int) -> str:
    """Which faces were scored, for the message: the course's hidden ones or the instructor's own."""
    if ctx.test_set is None or ctx.test_set.kind == "course":
        return f"{n} hidden test faces"
    record = ctx.test_set.to_json()
    anchor = record["anchors"]["mean_shape_nme"]
    kept = "alone" if record["mode"] == "replace" else "added to the course's"
    return (f"{n} hidden test faces of the instructor's private test set ({record['n_private']} private faces {kept}, "
            f"SHA-256 {record['sha256'][:12]}; the mean training shape scores {100 * anchor:.1f} % on it)")


@check("evaluation.test_set", "Trained weights on the hidden test labels", requires=("weights.load", "model.output_shape"))
def test_set(ctx: Context, cfg) -> Outcome:
    table = dataset.read_table(ctx.test_dir, "test")
    seen = eval_input(ctx, table, cfg)
    if isinstance(seen, Outcome):
        return seen
    images, matrices = seen.images, seen.matrices
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
    pred_eval = seen.to_pixels(outputs.reshape(n, 68, 2))  # (N, 68, 2) eval-frame pixels
    true_eval = np.stack([dataset.apply_affine(m, k) for m, k in zip(matrices, table.keypoints)])
    pred_orig = np.stack([dataset.apply_affine(dataset.invert_affine(m), p) for m, p in zip(matrices, pred_eval)])
    summary = metrics.summarise(pred_orig, table.keypoints, seen.to_units(pred_eval), seen.to_units(true_eval))
    per_image = metrics.nme_per_image(pred_orig, table.keypoints)
    worst = [{"name": table.names[i], "nme": float(per_image[i])} for i in np.argsort(per_image)[::-1][:10]]
    ctx.metrics.update(nme=summary["nme"], nme_median=summary["nme_median"], mse=summary["mse"],
                       group_nme=summary["group_nme"], n_test_images=n)
    group_path = ctx.artifact("group_nme.png")
    figures.group_bars(summary["group_nme"], group_path)
    artifacts = pictures(ctx, images, pred_eval, true_eval, per_image, table.names) + [ctx.ref(group_path)]
    fraction = linear_fraction(summary["nme"], float(cfg["zero_nme"]), float(cfg["full_nme"]))
    details = {**summary, "worst_images": worst, "preprocessing": seen.description,
               "input_size": int(images.shape[-1]), "normalisation": seen.normalisation,
               "channels_last": bool(result.value.get("channels_last")),
               "zero_nme": float(cfg["zero_nme"]), "full_nme": float(cfg["full_nme"]),
               "test_set": ctx.test_set.to_json() if ctx.test_set else {"kind": "course"}}
    message = (f"NME {100 * summary['nme']:.2f} % (median {100 * summary['nme_median']:.2f} %), MSE {summary['mse']:.4f} "
               f"on {faces(ctx, n)}; full marks at {100 * float(cfg['full_nme']):.0f} %, none at "
               f"{100 * float(cfg['zero_nme']):.0f} % (the mean face).")
    if ctx.submission.transform is not None:  # the classic layout: say how the faces were prepared
        message += f" Faces prepared with {seen.description}."
    hint = "" if fraction == 1 else ("Train longer, augment (small rotations, scale, flips with left/right points "
                                     "swapped), add BatchNorm, and use a deterministic eval_transform that matches "
                                     "how you trained. The worst faces below show where the net struggles.")
    return Outcome(fraction, message, hint, details=details, artifacts=artifacts)
