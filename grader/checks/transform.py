"""The student's ``data_transform``, run in the sandbox on real samples of every kind."""
from __future__ import annotations

import cv2
import numpy as np

from grader.checks.base import Context, Outcome, check, failed, probe_failure
from grader.data import dataset

SAMPLE_INDEX = 7  # a training image; its labels are training labels, safe to hand to student code


def sample_cases(data_dir) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """RGB, RGBA, gray, smaller than 224 and non-square versions of one real training sample."""
    table = dataset.read_table(data_dir, "training")
    bgr = cv2.imread(str(table.image_path(data_dir, SAMPLE_INDEX)))
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    keypoints = table.keypoints[SAMPLE_INDEX]
    h, w = rgb.shape[:2]
    small, tall = (97, 90), (w, int(h * 1.6))
    return {
        "rgb": (rgb, keypoints),
        "rgba": (np.dstack([rgb, np.full((h, w), 255, np.uint8)]), keypoints),
        "gray": (cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), keypoints),
        "small_97x90": (cv2.resize(rgb, small), keypoints * np.float32([small[0] / w, small[1] / h])),
        "non_square_tall": (cv2.resize(rgb, tall), keypoints * np.float32([1, tall[1] / h])),
    }


def case_problem(result: dict, keypoint_abs_max: float) -> str | None:
    """What is wrong with one transformed sample, or None."""
    if result.get("kind") != "dict":
        return f"returned a {result.get('kind')} (keys {result.get('keys')}), expected a dict with 'image' and 'keypoints'"
    image, keypoints = result["image"], result["keypoints"]
    if image["type"] != "tensor" or tuple(image["shape"]) != (1, 224, 224):
        return f"image is a {image['type']} of shape {tuple(image['shape'])}, expected a 1x224x224 tensor"
    if not image["dtype"].startswith("float"):
        return f"image dtype is {image['dtype']}, expected float (divide by 255 in Normalize)"
    if not image["finite"] or image["min"] < -1e-6 or image["max"] > 1 + 1e-6:
        return f"image values span [{image['min']:.3g}, {image['max']:.3g}], expected [0, 1]"
    if tuple(keypoints["shape"]) not in ((68, 2), (136,)):
        return f"keypoints have shape {tuple(keypoints['shape'])}, expected (68, 2)"
    if not keypoints["finite"] or max(abs(keypoints["min"]), abs(keypoints["max"])) > keypoint_abs_max:
        return (f"keypoints span [{keypoints['min']:.3g}, {keypoints['max']:.3g}]: not normalised "
                "((pixel - 100) / 50 keeps them near [-1, 1])")
    return None


@check("transform.data_transform", "data_transform yields 1x224x224 in [0, 1] and (68, 2) keypoints")
def data_transform(ctx: Context, cfg) -> Outcome:
    where = ctx.submission.relative(ctx.submission.student_dir / "transforms.py")
    if not (ctx.submission.student_dir / "transforms.py").is_file():
        return failed(f"{where} is missing.", "Create transforms.py defining data_transform (see the starter).",
                      status="skipped" if ctx.submission.layout == "classic" else None)
    cases = []
    for name, (image, keypoints) in sample_cases(ctx.data_dir).items():
        cases.append({"name": name, "image": ctx.sandbox.put_array(f"case_{name}_image", image),
                      "keypoints": ctx.sandbox.put_array(f"case_{name}_keypoints", keypoints)})
    result = ctx.sandbox.call("data_transform", {"cases": cases, "seed": ctx.seed}, timeout=ctx.timeout(cfg))
    if not result.ok:
        return probe_failure(result, f"Importing {where}")
    if result.value.get("is_none"):
        return failed(f"{where}: data_transform is {'None' if result.value.get('defined') else 'not defined'}.",
                      "Set data_transform = transforms.Compose([Rescale(250), RandomCrop(224), Normalize(), "
                      "ToTensor()]) (or your own steps with the same output).")
    problems, report = {}, {}
    for case in result.value["cases"]:
        if "error" in case:
            err = case["error"]
            problems[case["name"]] = f"raised {err['type']}: {err['message']} ({err.get('file')}, line {err.get('line')})"
        else:
            problem = case_problem(case["result"], float(cfg["keypoint_abs_max"]))
            if problem:
                problems[case["name"]] = problem
        report[case["name"]] = problems.get(case["name"], "ok")
    n = len(result.value["cases"])
    details = {"cases": report, "raw": result.value["cases"]}
    if not problems:
        return Outcome(1.0, f"data_transform handles all {n} kinds of image (RGB, RGBA, gray, small, non-square).",
                       details=details)
    listing = "; ".join(f"{k}: {v}" for k, v in problems.items())
    return Outcome((n - len(problems)) / n, f"{where}: data_transform fails on {len(problems)} of {n} samples: {listing}.",
                   "Every sample must come out as a 1x224x224 float tensor in [0, 1] with (68, 2) keypoints in "
                   "(pixel - 100) / 50 units. Normalize must turn RGB/RGBA into gray; RandomCrop needs an image at "
                   "least 224 on each side, so Rescale first.", details=details)
