"""An independent test-set NME for a classic-layout fixture (tests/submissions/classic/<name>/).

Nothing here comes from ``grader``: the fixture's own ``data_load.py`` (Rescale, Normalize, ToTensor)
and model class are imported, the eval transform is Rescale(rescale) + a centre crop + Normalize +
ToTensor as ``expected.json`` says, and the predictions are mapped back to original-image pixels by
inverting the keypoint scaling, the crop and the rescale. NME: per image, the mean Euclidean error
over the 68 points divided by the distance between points 36 and 45 of the true labels; then the
mean over the 770 labelled test images.

    .venv/bin/python tests/classic_nme.py template_faithful [--data-dir data/facial-keypoints]
"""
from __future__ import annotations

import argparse
import ast
import collections
import contextlib
import importlib
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "submissions" / "classic"
DATA = ROOT / "data" / "facial-keypoints"
BATCH = 64


@contextlib.contextmanager
def _on_path(folder: Path):
    """The fixture's folder first on sys.path while its modules are imported; afterwards the path and
    the modules (all named like every other fixture's: models, data_load, ...) are gone again."""
    names = {p.stem for p in folder.glob("*.py")}
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    sys.path.insert(0, str(folder))
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # leave no __pycache__ in the fixture
    try:
        yield
    finally:
        sys.dont_write_bytecode = dont_write
        sys.path.remove(str(folder))
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def _class_from_notebook(path: Path, class_name: str):
    """A network class defined in a notebook cell: run the import lines of the notebook's code cells and
    the cell that defines the class (not the rest: it trains)."""
    cells = [cell for cell in json.loads(path.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "code"]
    namespace: dict = {"__name__": "__notebook__"}
    for cell in cells:
        source = "".join(cell["source"])
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        defines = any(isinstance(node, ast.ClassDef) and node.name == class_name for node in tree.body)
        if defines:
            exec(compile(code, str(path), "exec"), namespace)  # noqa: S102 - our own fixture's cell
            return namespace[class_name]
        imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        if imports:
            exec(compile(ast.Module(body=imports, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
    raise LookupError(f"{path}: no cell defines class {class_name}")


def _state_dict(obj):
    """A checkpoint dict -> its state_dict; a 'module.' (DataParallel) prefix stripped."""
    if isinstance(obj, dict):
        for key in ("model_state_dict", "state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if isinstance(obj, dict) and obj and all(k.startswith("module.") for k in obj):
        obj = collections.OrderedDict((k[len("module."):], v) for k, v in obj.items())
    return obj


def _read_rgb(path: Path) -> np.ndarray:
    """1-, 3- or 4-channel image file -> (H, W, 3) uint8 RGB, as the course's dataset class gives it."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(path)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    return cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2RGB)


def load_fixture(folder: Path, expected: dict):
    """(the fixture's data_load module, its network with the weights loaded, in eval mode)."""
    spec = expected["model"]
    with _on_path(folder):
        data_load = importlib.import_module("data_load")
        if spec["module"].endswith(".ipynb"):
            cls = _class_from_notebook(folder / spec["module"], spec["class"])
        else:
            cls = getattr(importlib.import_module(spec["module"]), spec["class"])
        net = cls(*spec["args"], **spec["kwargs"])
    weights = folder / expected["roles"]["weights"]
    net.load_state_dict(_state_dict(torch.load(weights, map_location="cpu", weights_only=True)))
    return data_load, net.eval()


def classic_nme(folder: Path | str, data_dir: Path | str = DATA, expected: dict | None = None):
    """(mean NME, per-image NME array of the 770 labelled test images) of a classic fixture."""
    folder, data_dir = Path(folder), Path(data_dir)
    if expected is None:
        expected = json.loads((folder / "expected.json").read_text())
    data_load, net = load_fixture(folder, expected)
    rescale, crop = expected["eval_transform"]["rescale"], expected["eval_transform"]["crop"]
    mean, std = expected["keypoints"]["mean"], expected["keypoints"]["std"]
    rescale_t, normalize, to_tensor = data_load.Rescale(rescale), data_load.Normalize(), data_load.ToTensor()

    table = pd.read_csv(data_dir / "test_frames_keypoints.csv")
    names = table.iloc[:, 0].tolist()
    truth = table.iloc[:, 1:].to_numpy(np.float64).reshape(len(table), 68, 2)

    predictions = np.empty_like(truth)
    for start in range(0, len(names), BATCH):
        images, frames = [], []
        for index in range(start, min(start + BATCH, len(names))):
            image = _read_rgb(data_dir / "test" / names[index])
            h, w = image.shape[:2]
            sample = rescale_t({"image": image, "keypoints": truth[index].copy()})
            new_h, new_w = sample["image"].shape[:2]
            scale = np.array([new_w / w, new_h / h])
            top, left = (new_h - crop) // 2, (new_w - crop) // 2
            offset = np.array([left, top], dtype=np.float64)
            sample = {"image": sample["image"][top:top + crop, left:left + crop],
                      "keypoints": np.asarray(sample["keypoints"], np.float64) - offset}
            sample = to_tensor(normalize(sample))
            # expected.json's scaling must be the fixture's: its Normalize on the true points agrees
            normalised = (truth[index] * scale - offset - mean) / std
            assert np.allclose(sample["keypoints"].numpy(), normalised, atol=1e-4), names[index]
            images.append(sample["image"].float())
            frames.append((scale, offset))
        with torch.inference_mode():
            output = net(torch.stack(images)).double().numpy().reshape(len(images), 68, 2)
        for i, (scale, offset) in enumerate(frames):
            predictions[start + i] = (output[i] * std + mean + offset) / scale

    errors = np.linalg.norm(predictions - truth, axis=2).mean(axis=1)
    interocular = np.linalg.norm(truth[:, 36] - truth[:, 45], axis=1)
    per_image = errors / interocular
    return float(per_image.mean()), per_image


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixture", help="a folder name under tests/submissions/classic/ (or a path)")
    parser.add_argument("--data-dir", type=Path, default=DATA)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    folder = Path(args.fixture) if Path(args.fixture).is_dir() else FIXTURES / args.fixture
    started = time.perf_counter()
    nme, per_image = classic_nme(folder, args.data_dir)
    print(f"{folder.name}: NME {100 * nme:.2f} % (median {100 * np.median(per_image):.2f} %, "
          f"{len(per_image)} images, {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
