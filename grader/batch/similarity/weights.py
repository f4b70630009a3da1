"""Weights fingerprints: a compact sketch of each floating-point tensor of a ``state_dict``, and the
relative distance between two sketches of files whose parameter shapes match.

Files are read in the trusted batch process with ``torch.load(weights_only=True)`` only (tensors and
plain containers, never arbitrary pickled objects), under a size cap; a file that does not load is
left out and the reason kept. A sketch keeps each tensor's exact norm and SHA-256, and a fixed sample of
its values (the same positions for every tensor of that size), so distances are estimated from the
sample for large tensors and exact for small ones; equal hashes are exactly zero.
"""
from __future__ import annotations

import base64
import hashlib
import math
import threading
import zipfile
from pathlib import Path

import numpy as np

STATE_DICT_KEYS = ("state_dict", "model_state_dict", "model", "net")


def sample_positions(numel: int, sample: int) -> np.ndarray:
    """The same positions for every tensor of ``numel`` values (seeded by the size)."""
    if numel <= sample:
        return np.arange(numel)
    return np.sort(np.random.default_rng(numel).choice(numel, size=sample, replace=False))


def state_dict_of(loaded) -> dict | None:
    """The mapping of names to tensors in what ``torch.load`` returned (also under a ``state_dict`` key)."""
    if not isinstance(loaded, dict):
        return None
    for key in STATE_DICT_KEYS:
        if isinstance(loaded.get(key), dict):
            return loaded[key]
    return loaded


def inflated_size_problem(path: Path, max_mb: float) -> str:
    """A torch archive is a zip whose members torch stores uncompressed: one that declares more bytes than
    the cap, or compresses its members, would inflate in this (trusted, unlimited) process. '' when fine."""
    if not zipfile.is_zipfile(path):
        return ""  # the legacy (non-zip) format: its size on disk is what loads
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    declared = sum(member.file_size for member in members)
    if declared > max_mb * (1 << 20) or any(m.compress_type != zipfile.ZIP_STORED for m in members):
        return f"its archive declares {declared >> 20} MB or compressed members (a zip bomb?); not loaded"
    return ""


def load_tensors(path: Path, max_mb: float) -> tuple[list[tuple[str, list[int], np.ndarray]], str]:
    """(name, shape, flat float32 values) of each floating-point tensor, and why nothing came back ('' when fine)."""
    size = path.stat().st_size
    if size > max_mb * (1 << 20):
        return [], f"{size >> 20} MB, more than the {max_mb:g} MB the comparison loads"
    if problem := inflated_size_problem(path, max_mb):
        return [], problem
    import torch  # only when a submission has weights: the batch needs torch for nothing else

    torch.set_num_threads(1)  # no thread pool in the batch process, which forks grading processes

    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - the student's file: any failure means "not compared"
        return [], f"does not load with torch.load(weights_only=True): {type(exc).__name__}"
    state = state_dict_of(loaded)
    if state is None:
        return [], f"holds a {type(loaded).__name__}, not a state_dict"
    tensors = [(str(name), list(value.shape), value.detach().to(torch.float32).reshape(-1).numpy())
               for name, value in state.items() if isinstance(value, torch.Tensor) and value.is_floating_point()]
    return tensors, "" if tensors else "no floating-point tensor in its state_dict"


def l2(values: np.ndarray) -> float:
    """The Euclidean norm by numpy's own summation: no BLAS call, which in this multi-threaded batch process
    (jobs fork grading processes while others sketch) once spun for half an hour in OpenBLAS."""
    return float(np.sqrt(np.square(values, dtype=np.float64).sum()))


SKETCHING = threading.Lock()  # torch.load and numpy, one job at a time: sketches take milliseconds


def sketch_file(path: Path, label: str, max_mb: float, sample: int) -> dict:
    """``{file, tensors: [{name, shape, numel, norm, sha256, sample}]}``, or ``{file, problem}``."""
    with SKETCHING:
        return sketch_tensors(path, label, max_mb, sample)


def sketch_tensors(path: Path, label: str, max_mb: float, sample: int) -> dict:
    tensors, problem = load_tensors(path, max_mb)
    if problem:
        return {"file": label, "problem": problem}
    sketched = []
    for name, shape, values in tensors:
        picked = values[sample_positions(values.size, sample)].astype("<f4")
        sketched.append({"name": name, "shape": shape, "numel": int(values.size), "sampled": values.size > sample,
                         "norm": l2(values),
                         "sha256": hashlib.sha256(values.astype("<f4").tobytes()).hexdigest(),
                         "sample": base64.b64encode(picked.tobytes()).decode()})
    return {"file": label, "tensors": sketched}


def signature(sketch: dict) -> tuple[tuple[int, ...], ...]:
    """What must be equal for two files to be compared: their tensors' shapes, in order (names may differ)."""
    return tuple(tuple(t["shape"]) for t in sketch.get("tensors", ()))


def values(tensor: dict) -> np.ndarray:
    """The sampled values, decoded once per pass (a class compares each sketch with many others)."""
    if "_values" not in tensor:
        tensor["_values"] = np.frombuffer(base64.b64decode(tensor["sample"]), dtype="<f4").astype(np.float64)
    return tensor["_values"]


def tensor_distance(a: dict, b: dict) -> tuple[float, float]:
    """(relative distance ||a - b|| / max(||a||, ||b||), estimated squared distance of the whole tensor)."""
    if a["sha256"] == b["sha256"]:
        return 0.0, 0.0
    x, y = values(a), values(b)
    diff, scale = l2(x - y), max(l2(x), l2(y))
    squared = diff ** 2 * a["numel"] / max(len(x), 1)  # the sample stands for the whole tensor
    return (diff / scale if scale else 1.0), squared


def compare(a: dict, b: dict) -> dict:
    """Two sketches of equal signature: the overall relative distance and each tensor's."""
    rows, squared = [], 0.0
    for ta, tb in zip(a["tensors"], b["tensors"]):
        distance, part = tensor_distance(ta, tb)
        squared += part
        rows.append({"a": ta["name"], "b": tb["name"], "shape": ta["shape"], "distance": round(distance, 6),
                     "identical": ta["sha256"] == tb["sha256"], "sampled": ta["sampled"]})
    scale = max(math.sqrt(sum(t["norm"] ** 2 for t in side["tensors"])) for side in (a, b))
    overall = math.sqrt(squared) / scale if scale else 0.0
    return {"kind": "weights", "a_file": a["file"], "b_file": b["file"], "distance": round(overall, 6),
            "identical_tensors": sum(r["identical"] for r in rows), "tensors": rows}
