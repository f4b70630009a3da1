"""A short, seeded training run of a fresh Net(): does the network learn at all?"""
from __future__ import annotations

import cv2
import numpy as np

from grader.checks.base import Context, Outcome, check, failed, passed, probe_failure
from grader.data import dataset
from grader.report.figures import loss_curve


@check("training.brief", "A fresh Net() learns in a short training run", requires=("model.gradients",),
       unit="training")
def brief_training(ctx: Context, cfg) -> Outcome:
    sandbox = ctx.unit_sandbox()
    n_train, n_held = int(cfg["train_images"]), int(cfg["heldout_images"])
    order = np.random.default_rng(ctx.seed).permutation(3462)
    train_x, train_y = dataset.eval_subset(ctx.data_dir, "training", order[:n_train])
    held_x, held_y = dataset.eval_subset(ctx.data_dir, "training", order[n_train : n_train + n_held])
    size = ctx.submission.input_size
    if size != train_x.shape[-1]:  # the student's own input size; the targets keep their units
        train_x, held_x = (np.stack([cv2.resize(x[0], (size, size))[None] for x in xs]) for xs in (train_x, held_x))
    args = {
        "images": sandbox.put_array("brief_train_images", train_x),
        "keypoints": sandbox.put_array("brief_train_keypoints", train_y),
        "heldout_images": sandbox.put_array("brief_heldout_images", held_x),
        "heldout_keypoints": sandbox.put_array("brief_heldout_keypoints", held_y),
        "steps": int(cfg["steps"]), "batch_size": int(cfg["batch_size"]), "lr": float(cfg["learning_rate"]),
        "seed": ctx.seed,
    }
    result = sandbox.call("train_brief", args, timeout=ctx.timeout(cfg), on_progress=ctx.progress)
    if not result.ok:
        return probe_failure(result, f"Training a fresh {ctx.submission.model.call} for {cfg['steps']} steps")
    losses = [float(x) for x in result.value["losses"]]
    before, after = float(result.value["heldout_before"]), float(result.value["heldout_after"])
    artifact = ctx.artifact("loss_curve.png")
    loss_curve(losses, before, after, artifact)
    details = {"losses": losses, "heldout_before": before, "heldout_after": after,
               "steps": int(cfg["steps"]), "batch_size": int(cfg["batch_size"]), "optimizer": "Adam",
               "learning_rate": float(cfg["learning_rate"]), "loss": "MSE on normalised keypoints",
               "channels_last": bool(result.value.get("channels_last"))}
    artifacts = [ctx.ref(artifact)]
    if not all(np.isfinite([before, after, *losses])):
        return failed("The training loss became NaN or infinite.",
                      "Look for divisions by zero or exploding activations; BatchNorm and a smaller learning rate help.",
                      details=details, artifacts=artifacts)
    drop = (before - after) / before if before > 0 else 0.0
    details["drop"] = drop
    wanted = float(cfg["min_drop"])
    if drop >= wanted:
        return passed(f"Held-out MSE fell from {before:.4f} to {after:.4f} ({drop:.0%}) in {cfg['steps']} Adam steps.",
                      details=details, artifacts=artifacts)
    return Outcome(max(0.0, drop / wanted) * 0.5,
                   f"Held-out MSE went from {before:.4f} to {after:.4f} ({drop:+.0%}) in {cfg['steps']} Adam steps "
                   f"(lr {cfg['learning_rate']}); at least a {wanted:.0%} drop was expected.",
                   "A network that barely learns in a few steps is usually too deep without BatchNorm, ends in an "
                   "activation that clips the output (ReLU/sigmoid on the last layer), or has a huge Linear layer. "
                   "Keep the last layer linear.", details=details, artifacts=artifacts)
