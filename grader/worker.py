"""The sandboxed child: imports the student's code once and serves the grader's probes in turn.

Standalone on purpose (stdlib, numpy, torch, cv2 only; no ``grader`` imports): the sandbox copies
this file next to a copy of the student's folder and runs it as an unprivileged process.
Requests arrive as JSON lines on stdin; answers go out as JSON lines on ``--answers-fd``:
``{"id", "progress": [done, total]}`` while working, then ``{"id", "status", "value"|"error"}``.
Everything this process says is a measurement the grader validates, never a verdict.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import sys
import traceback
from pathlib import Path

STUDENT_DIR = Path("student").resolve()
STATE: dict = {}
ANSWERS = None
CURRENT_ID = 0


def send(message: dict) -> None:
    ANSWERS.write((json.dumps(message, default=float) + "\n").encode())
    ANSWERS.flush()


def progress(done: int, total: int) -> None:
    send({"id": CURRENT_ID, "progress": [done, total]})


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def device():
    import torch

    wanted = os.environ.get("FKP_DEVICE", "cpu")
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(wanted)


def student_error(exc: BaseException) -> dict:
    """The exception with its traceback trimmed to the student's own frames."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if str(STUDENT_DIR) in os.path.abspath(f.filename)]
    where = own[-1] if own else None
    if isinstance(exc, SyntaxError) and exc.filename and str(STUDENT_DIR) in os.path.abspath(exc.filename):
        where = traceback.FrameSummary(exc.filename, exc.lineno or 0, "<module>", line=(exc.text or "").strip())
    lines = traceback.format_list(own) if own else []
    lines += traceback.format_exception_only(type(exc), exc)
    text = "".join(lines).replace(str(STUDENT_DIR) + os.sep, "student/")
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "traceback": text[-6000:],
        "file": os.path.relpath(where.filename, STUDENT_DIR.parent) if where else None,
        "line": where.lineno if where else None,
        "code": (where.line or "").strip() if where else None,
    }


# -- the student's modules --------------------------------------------------------------------
def student_module(name: str):
    if str(STUDENT_DIR) not in sys.path:
        sys.path.insert(0, str(STUDENT_DIR))
    return importlib.import_module(name)


def new_net():
    import torch

    net = student_module("models").Net()
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"Net() returned a {type(net).__name__}, not a torch.nn.Module")
    return net.to(device())


def random_faces(batch: int, seed: int):
    import torch

    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 1, 224, 224, generator=generator).to(device())


def as_output(y, batch: int):
    import torch

    if isinstance(y, (tuple, list)) and y and isinstance(y[0], torch.Tensor):
        y = y[0]
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"forward() returned a {type(y).__name__}, not a torch.Tensor")
    return y


# -- probes -----------------------------------------------------------------------------------
def probe_import_model(args: dict) -> dict:
    module = student_module("models")
    return {"has_net": hasattr(module, "Net"), "file": os.path.relpath(module.__file__, STUDENT_DIR.parent)}


def probe_construct(args: dict) -> dict:
    import torch

    net = new_net()
    params = list(net.parameters())
    return {
        "n_conv2d": sum(isinstance(m, torch.nn.Conv2d) for m in net.modules()),
        "n_params": int(sum(p.numel() for p in params)),
        "n_trainable": int(sum(p.numel() for p in params if p.requires_grad)),
        "size_mb": float(sum(p.numel() * p.element_size() for p in params) / 2**20),
        "summary": repr(net)[:4000],
    }


def probe_forward_shapes(args: dict) -> dict:
    import torch

    net = new_net().eval()
    runs = []
    with torch.inference_mode():
        for batch in args.get("batches", [1, 4]):
            y = as_output(net(random_faces(batch, 1)), batch)
            runs.append({"batch": batch, "shape": list(y.shape), "dtype": str(y.dtype).replace("torch.", ""),
                         "finite": bool(torch.isfinite(y).all()) if y.is_floating_point() else True})
    return {"runs": runs}


def probe_batch_independence(args: dict) -> dict:
    import torch

    net = new_net().eval()
    x = random_faces(4, 2)
    with torch.inference_mode():
        together = as_output(net(x), 4).float()
        alone = torch.cat([as_output(net(x[i : i + 1]), 1).float() for i in range(4)])
    if together.shape != alone.shape:
        return {"max_abs_diff": None, "shapes": [list(together.shape), list(alone.shape)]}
    return {"max_abs_diff": float((together - alone).abs().max()), "scale": float(together.abs().mean())}


def probe_gradients(args: dict) -> dict:
    net = new_net().train()
    y = as_output(net(random_faces(2, 3)), 2)
    y.float().pow(2).mean().backward()
    missing = [name for name, p in net.named_parameters()
               if p.requires_grad and (p.grad is None or not bool(p.grad.abs().sum() > 0))]
    trainable = [name for name, p in net.named_parameters() if p.requires_grad]
    return {"without_gradient": missing, "n_trainable_tensors": len(trainable)}


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
    held_x = torch.from_numpy(np.load(args["heldout_images"])).to(device())
    held_y = torch.from_numpy(np.load(args["heldout_keypoints"])).reshape(len(held_x), -1).to(device())
    net = new_net()
    optimizer = torch.optim.Adam(net.parameters(), lr=args["lr"])
    criterion = torch.nn.MSELoss()

    def heldout_loss() -> float:
        net.eval()
        with torch.inference_mode():
            loss = float(criterion(as_output(net(held_x), len(held_x)).float(), held_y))
        net.train()
        return loss

    before, losses = heldout_loss(), []
    order = torch.Generator().manual_seed(args["seed"])
    steps, batch = args["steps"], args["batch_size"]
    for step in range(steps):
        index = torch.randint(0, len(images), (batch,), generator=order)
        x, y = images[index].to(device()), targets[index].to(device())
        optimizer.zero_grad()
        loss = criterion(as_output(net(x), batch).float(), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
        progress(step + 1, steps)
    return {"losses": losses, "heldout_before": before, "heldout_after": heldout_loss()}


def probe_load_weights(args: dict) -> dict:
    import torch

    loaded = torch.load(args["path"], map_location="cpu", weights_only=True)
    wrapped_in = None
    if isinstance(loaded, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(loaded.get(key), dict):
                loaded, wrapped_in = loaded[key], key
                break
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        return {"is_state_dict": False, "found": type(loaded).__name__}
    net = new_net()
    expected = net.state_dict()
    state = {k.removeprefix("module."): v for k, v in loaded.items()}
    mismatched = [{"key": k, "expected": list(expected[k].shape), "found": list(v.shape)}
                  for k, v in state.items() if k in expected and tuple(expected[k].shape) != tuple(v.shape)]
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if not (missing or unexpected or mismatched):
        net.load_state_dict(state)
        STATE["trained"] = net.eval()
    return {"is_state_dict": True, "wrapped_in": wrapped_in, "n_tensors": len(state), "missing": missing,
            "unexpected": unexpected, "mismatched": mismatched}


def probe_predict(args: dict) -> dict:
    import numpy as np
    import torch

    net = STATE.get("trained")
    if net is None:
        raise RuntimeError("grader error: predict called before the weights were loaded")
    images = np.load(args["images"], mmap_mode="r")  # (N, 1, 224, 224)
    outputs, batch = [], int(args.get("batch_size", 32))
    with torch.inference_mode():
        for start in range(0, len(images), batch):
            x = torch.from_numpy(np.ascontiguousarray(images[start : start + batch])).to(device())
            y = as_output(net(x), len(x))
            outputs.append(y.float().reshape(len(x), -1).cpu().numpy() if y.shape[0] == len(x) else y.float().cpu().numpy())
            progress(min(start + batch, len(images)), len(images))
    shapes = {tuple(o.shape[1:]) for o in outputs}
    if len(shapes) != 1:
        raise ValueError(f"outputs of different shapes across batches: {sorted(shapes)}")
    result = np.concatenate(outputs).astype(np.float32)
    out = Path("io") / f"{args['output']}.npy"
    np.save(out, result, allow_pickle=False)
    return {"outputs": str(out), "shape": list(result.shape)}


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


PROBES = {name.removeprefix("probe_"): fn for name, fn in globals().items() if name.startswith("probe_")}


def serve() -> None:
    global CURRENT_ID
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    seed = int(os.environ.get("FKP_SEED", "0"))
    for line in sys.stdin:
        request = json.loads(line)
        CURRENT_ID = request["id"]
        seed_everything(seed)
        try:
            value = PROBES[request["probe"]](request.get("args", {}))
            send({"id": CURRENT_ID, "status": "ok", "value": value})
        except BaseException as exc:  # student code may raise anything, SystemExit included
            send({"id": CURRENT_ID, "status": "error", "error": student_error(exc)})


def main() -> None:
    global ANSWERS
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers-fd", type=int, required=True)
    ANSWERS = os.fdopen(parser.parse_args().answers_fd, "wb", buffering=0)
    serve()


if __name__ == "__main__":
    main()
