"""Evaluate the reference weights on the 770 labelled test images, the way the grader does.

Submission path: the submission's ``eval_transform`` on each original test image; its geometry
(original -> 224 frame) is fitted from probe points sent through the same transform, so
predictions map back to original pixels. Canonical path: ``grader.data.load_eval_set``.
Both are scored with ``grader.metrics`` (NME in original pixels / outer-eye-corner distance).

    python tests/submissions/reference/evaluate.py --data-dir data/facial-keypoints
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE / "student"))
sys.path.insert(1, str(REPO))
sys.path.insert(2, str(REPO / "student"))  # the course's data_load.py, which the grader supplies too

import numpy as np  # noqa: E402
import torch  # noqa: E402
from data_load import read_image_rgb  # noqa: E402
from models import Net  # noqa: E402
from transforms import eval_transform  # noqa: E402

from grader.data.dataset import denormalise, load_eval_set, read_table  # noqa: E402
from grader.data.metrics import summarise  # noqa: E402

WEIGHTS = HERE / "student" / "saved_models" / "keypoints_model.pt"


def load_net(weights: Path = WEIGHTS) -> Net:
    net = Net()
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return net.eval()


@torch.inference_mode()
def predict(net: torch.nn.Module, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """(N, 1, 224, 224) float32 -> raw outputs (N, 136)."""
    chunks = [net(torch.from_numpy(np.ascontiguousarray(images[i : i + batch_size]))) for i in range(0, len(images), batch_size)]
    return torch.cat(chunks).numpy()


def probe_points(h: int, w: int) -> np.ndarray:
    """68 points spread over an (h, w) image (a 17 x 4 grid), to measure a transform's geometry."""
    xs, ys = np.meshgrid(np.linspace(0, w, 17), np.linspace(0, h, 4))
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)  # (68, 2)


def fit_affine(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares (3, 2) matrix A with [x, y, 1] @ A = target; both (68, 2)."""
    design = np.hstack([source, np.ones((len(source), 1))])  # (68, 3)
    return np.linalg.lstsq(design, target, rcond=None)[0]


def to_original(points: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Invert ``fit_affine``'s map: 224-frame pixels (68, 2) -> original pixels (68, 2)."""
    linear, offset = affine[:2], affine[2]
    return (points - offset) @ np.linalg.inv(linear)


def submission_inputs(data_dir: Path) -> tuple:
    """eval_transform applied to every labelled test image: images, frame maps, true normalised."""
    table = read_table(data_dir, "test")
    images, affines, true_norm = [], [], []
    for index, true in enumerate(table.keypoints):
        image = read_image_rgb(table.image_path(data_dir, index))
        labelled = eval_transform({"image": image, "keypoints": true})
        probe = probe_points(*image.shape[:2])
        framed = denormalise(eval_transform({"image": image, "keypoints": probe})["keypoints"].numpy())
        images.append(labelled["image"].numpy())
        affines.append(fit_affine(probe, framed))
        true_norm.append(labelled["keypoints"].numpy())
    return table, np.stack(images), affines, np.stack(true_norm)  # (N, 1, 224, 224), [(3, 2)], (N, 68, 2)


def evaluate_net(net: torch.nn.Module, data_dir: Path) -> dict:
    """Metrics of ``net`` on the labelled test images through the submission's eval_transform."""
    table, images, affines, true_norm = submission_inputs(Path(data_dir))
    outputs = predict(net, images)  # (N, 136)
    framed = denormalise(outputs.reshape(len(outputs), 68, 2))  # (N, 68, 2) 224-frame pixels
    pred = np.stack([to_original(p, a) for p, a in zip(framed, affines)])  # (N, 68, 2) original pixels
    return summarise(pred, table.keypoints, outputs, true_norm)


def evaluate_canonical(net: torch.nn.Module, data_dir: Path) -> tuple:
    """Metrics through the grader's canonical eval set, and the inference time of all images."""
    eval_set = load_eval_set(Path(data_dir), "test")
    start = time.perf_counter()
    outputs = predict(net, eval_set.images)
    seconds = time.perf_counter() - start
    pred = eval_set.predictions_to_original(outputs)
    return summarise(pred, eval_set.table.keypoints, outputs, eval_set.true_normalised()), seconds


def describe(name: str, metrics: dict) -> str:
    groups = " ".join(f"{g} {100 * v:.2f}" for g, v in metrics["group_nme"].items())
    return (
        f"{name}: NME {100 * metrics['nme']:.2f} % (median {100 * metrics['nme_median']:.2f} %), "
        f"MSE {metrics['mse']:.5f}, n={metrics['n_images']}; per group NME %: {groups}"
    )


def main(*, data_dir: Path, weights: Path = WEIGHTS, threads: int = 2, json_out: Path | None = None) -> dict:
    torch.set_num_threads(threads)
    net = load_net(weights)
    start = time.perf_counter()
    submission = evaluate_net(net, data_dir)
    submission_seconds = time.perf_counter() - start
    canonical, inference_seconds = evaluate_canonical(net, data_dir)
    print(describe("eval_transform", submission))
    print(describe("canonical     ", canonical))
    print(f"NME difference {100 * abs(submission['nme'] - canonical['nme']):.3f} points")
    print(f"inference on {canonical['n_images']} images: {inference_seconds:.2f} s (net only); "
          f"{submission_seconds:.2f} s with reading and eval_transform")
    params = sum(p.numel() for p in net.parameters())
    print(f"parameters {params:,}; weights {Path(weights).stat().st_size / 1e6:.2f} MB")
    result = {"submission": submission, "canonical": canonical, "inference_seconds": inference_seconds,
              "parameters": params, "weights_bytes": Path(weights).stat().st_size}
    if json_out:
        Path(json_out).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/facial-keypoints"))
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json-out", type=Path, default=None)
    main(**vars(parser.parse_args()))
