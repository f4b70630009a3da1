"""The classic layout's eval transform: the student's own data_load classes composed as their notebook 2
composes ``data_transform``, with the random crop made a deterministic centre crop of the same size."""
from __future__ import annotations

from fkp_probes_data import read_rgb
from fkp_runtime import progress, student_module


def centre_crop(size):
    """The course's RandomCrop with the window centred: same output size, keypoints shifted alike."""
    import numpy as np

    out_h, out_w = (size, size) if isinstance(size, int) else tuple(size)

    def crop(sample: dict) -> dict:
        image = sample["image"]
        h, w = image.shape[:2]
        top, left = max(0, (h - out_h) // 2), max(0, (w - out_w) // 2)
        keypoints = np.asarray(sample["keypoints"], np.float64) - np.array([left, top], np.float64)
        return {**sample, "image": image[top : top + out_h, left : left + out_w], "keypoints": keypoints}

    return crop


def build(steps: list[dict]) -> tuple[list, int]:
    """The transform steps, and the index of the first step that normalises (the geometric ones come first)."""
    module = student_module("data_load")
    built, first_normal = [], len(steps)
    for index, step in enumerate(steps):
        if step.get("central"):
            built.append(centre_crop(step["args"][0] if step["args"] else step["kwargs"]["output_size"]))
        else:
            built.append(getattr(module, step["name"])(*step["args"], **step["kwargs"]))
        if "normal" in step["name"].lower() and first_normal == len(steps):
            first_normal = index
    return built, first_normal


def as_array(value, dtype):
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().astype(dtype)
    return np.asarray(value, dtype)


def probe_composed_transform(args: dict) -> dict:
    """Each image through the composition with probe points (a grid, never labels) as its keypoints;
    returns the images, the points in the student's units, and in pixels of the crop (before Normalize)."""
    import numpy as np

    steps, first_normal = build(args["steps"])
    probe_points = np.load(args["probe_points"])  # (N, 68, 2) original pixels
    images, units, frame = [], [], []
    for index, path in enumerate(args["paths"]):
        sample = {"image": read_rgb(path), "keypoints": probe_points[index].astype(np.float32)}
        for position, step in enumerate(steps):
            if position == first_normal:
                frame.append(as_array(sample["keypoints"], np.float64).reshape(68, 2))
            sample = step(sample)
        if first_normal == len(steps):
            frame.append(as_array(sample["keypoints"], np.float64).reshape(68, 2))
        image = as_array(sample["image"], np.float32)
        if image.ndim == 2:
            image = image[None]
        if image.ndim != 3 or image.shape[0] != 1 or image.shape[1] != image.shape[2]:
            raise ValueError(f"the composed data_transform returned an image of shape {image.shape}; "
                             "expected (1, S, S)")
        images.append(image)
        units.append(as_array(sample["keypoints"], np.float64).reshape(68, 2))
        if (index + 1) % 50 == 0 or index + 1 == len(args["paths"]):
            progress(index + 1, len(args["paths"]))
    for name, array in (("composed_images", images), ("composed_units", units), ("composed_frame", frame)):
        np.save(f"io/{name}.npy", np.stack(array), allow_pickle=False)
    return {"images": "io/composed_images.npy", "units": "io/composed_units.npy", "frame": "io/composed_frame.npy"}
