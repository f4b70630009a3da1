"""Probes of the student's data pipeline: data_transform on real samples, the brief training run, eval_transform."""
from __future__ import annotations

from pathlib import Path

from fkp_runtime import (as_output, channels_last, device, memory_format, new_net, progress, seed_everything,
                         student_error, student_module)


def describe_sample(sample) -> dict:
    import numpy as np
    import torch

    if not isinstance(sample, dict) or "image" not in sample or "keypoints" not in sample:
        return {"kind": type(sample).__name__, "keys": sorted(sample) if isinstance(sample, dict) else None}
    image, keypoints = sample["image"], sample["keypoints"]
    described = {"kind": "dict"}
    for key, value in (("image", image), ("keypoints", keypoints)):
        is_tensor = isinstance(value, torch.Tensor)
        array = value.detach().cpu().float().numpy() if is_tensor else np.asarray(value, dtype=np.float64)
        described[key] = {"type": "tensor" if is_tensor else type(value).__name__, "shape": list(array.shape),
                          "dtype": str(value.dtype).replace("torch.", ""),
                          "min": float(np.nanmin(array)) if array.size else None,
                          "max": float(np.nanmax(array)) if array.size else None,
                          "finite": bool(np.isfinite(array).all())}
    return described


def probe_data_transform(args: dict) -> dict:
    import numpy as np

    module = student_module("transforms")
    name = args.get("name", "data_transform")
    if not hasattr(module, name) or getattr(module, name) is None:
        return {"defined": hasattr(module, name), "is_none": True}
    transform = getattr(module, name)
    cases = []
    for case in args["cases"]:
        seed_everything(args.get("seed", 0))
        sample = {"image": np.load(case["image"]), "keypoints": np.load(case["keypoints"])}
        try:
            cases.append({"name": case["name"], "result": describe_sample(transform(sample))})
        except Exception as exc:  # one bad case must not hide the others
            cases.append({"name": case["name"], "error": student_error(exc)})
    return {"defined": True, "is_none": False, "cases": cases}


def probe_train_brief(args: dict) -> dict:
    import numpy as np
    import torch

    seed_everything(args["seed"])
    images = torch.from_numpy(np.load(args["images"]))  # (N, 1, 224, 224)
    targets = torch.from_numpy(np.load(args["keypoints"])).reshape(len(images), -1)  # (N, 136)
    net = new_net()
    fast = channels_last(net)
    layout = memory_format(fast)
    held_x = torch.from_numpy(np.load(args["heldout_images"])).to(device()).contiguous(memory_format=layout)
    held_y = torch.from_numpy(np.load(args["heldout_keypoints"])).reshape(len(held_x), -1).to(device())
    optimizer = torch.optim.Adam(net.parameters(), lr=args["lr"])
    criterion = torch.nn.MSELoss()

    def heldout_loss() -> float:
        net.eval()
        # no_grad, not inference_mode: lazy layers (nn.LazyLinear) made here must stay trainable
        with torch.no_grad():
            loss = float(criterion(as_output(net(held_x), len(held_x)).float(), held_y))
        net.train()
        return loss

    before, losses = heldout_loss(), []
    order = torch.Generator().manual_seed(args["seed"])
    steps, batch = args["steps"], args["batch_size"]
    for step in range(steps):
        index = torch.randint(0, len(images), (batch,), generator=order)
        x, y = images[index].to(device()).contiguous(memory_format=layout), targets[index].to(device())
        optimizer.zero_grad()
        loss = criterion(as_output(net(x), batch).float(), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
        progress(step + 1, steps)
    return {"losses": losses, "heldout_before": before, "heldout_after": heldout_loss(), "channels_last": fast}



def read_rgb(path: str):
    import cv2
    import numpy as np

    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(path)
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, 2::-1])


def probe_eval_transform(args: dict) -> dict:
    import numpy as np
    import torch

    transform = getattr(student_module("transforms"), "eval_transform", None)
    if transform is None:
        return {"defined": False}
    if not args.get("paths"):  # the grader asks first, before it reads any test image
        return {"defined": True}
    probe_points = np.load(args["probe_points"])  # (N, 68, 2) original pixels: a grid, not labels
    images, points = [], []
    for index, path in enumerate(args["paths"]):
        out = transform({"image": read_rgb(path), "keypoints": probe_points[index].copy()})
        image, keypoints = out["image"], out["keypoints"]
        image = image.detach().cpu().float().numpy() if isinstance(image, torch.Tensor) else np.asarray(image, np.float32)
        keypoints = keypoints.detach().cpu().numpy() if isinstance(keypoints, torch.Tensor) else np.asarray(keypoints)
        if image.shape != (1, 224, 224):
            raise ValueError(f"eval_transform returned an image of shape {image.shape} for {Path(path).name}; "
                             "expected (1, 224, 224)")
        images.append(image.astype(np.float32))
        points.append(np.asarray(keypoints, np.float64).reshape(68, 2))
        if (index + 1) % 50 == 0 or index + 1 == len(args["paths"]):
            progress(index + 1, len(args["paths"]))
    np.save("io/eval_images.npy", np.stack(images), allow_pickle=False)
    np.save("io/eval_points.npy", np.stack(points), allow_pickle=False)
    return {"defined": True, "images": "io/eval_images.npy", "points": "io/eval_points.npy"}
