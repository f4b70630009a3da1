"""Probes of the trained weights: load them into a fresh net exactly as ``load_state_dict`` would, then
predict on arrays the grader sends."""
from __future__ import annotations

import zipfile
from collections import OrderedDict
from pathlib import Path

from fkp_runtime import STATE, as_output, channels_last, device, memory_format, new_net, progress

WRAPPERS = ("state_dict", "model_state_dict", "model", "net", "model_state", "network")


def unwrap(loaded) -> tuple[object, str | None]:
    """A checkpoint dict's state_dict entry ({"epoch", "model_state_dict", ...}), else the object itself."""
    import torch

    if isinstance(loaded, dict) and not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        for key in WRAPPERS:
            inner = loaded.get(key)
            if isinstance(inner, dict) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                return inner, key
    return loaded, None


def strip_prefix(state: dict, prefix: str = "module.") -> tuple[dict, bool]:
    """DataParallel's ``module.`` prefix removed from every key, and from the ``_metadata`` that
    load_state_dict needs to upgrade old layers (BatchNorm saved before num_batches_tracked)."""
    if not state or not all(k.startswith(prefix) for k in state):
        return state, False
    stripped = OrderedDict((k[len(prefix):], v) for k, v in state.items())
    metadata = getattr(state, "_metadata", None)
    if metadata is not None:
        stripped._metadata = OrderedDict(
            ("" if k == prefix[:-1] else k[len(prefix):] if k.startswith(prefix) else k, v) for k, v in metadata.items())
    return stripped, True


def saved_on_cuda(path: str) -> bool:
    """Whether the file records CUDA storage locations (torch.load then needs map_location)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(b"cuda" in archive.read(name) for name in archive.namelist() if name.endswith("data.pkl"))
    except (zipfile.BadZipFile, OSError, KeyError):
        return False


def probe_load_weights(args: dict) -> dict:
    import torch

    loaded = torch.load(args["path"], map_location="cpu", weights_only=True)
    loaded, wrapped_in = unwrap(loaded)
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        return {"is_state_dict": False, "found": type(loaded).__name__}
    state, prefix_stripped = strip_prefix(loaded)
    net = new_net()
    expected = net.state_dict()
    mismatched = [{"key": k, "expected": list(expected[k].shape), "found": list(v.shape)}
                  for k, v in state.items() if k in expected and tuple(expected[k].shape) != tuple(v.shape)]
    facts = {"is_state_dict": True, "wrapped_in": wrapped_in, "prefix_stripped": prefix_stripped,
             "saved_on_cuda": saved_on_cuda(args["path"]), "n_tensors": len(state), "mismatched": mismatched,
             "missing": [], "unexpected": [], "filled_in": []}
    if mismatched:
        return facts
    # strict=False reports what strict loading would refuse, after each layer's own upgrade of old
    # files (BatchNorm adds num_batches_tracked): exactly what the student's load_state_dict accepts.
    result = net.load_state_dict(state, strict=False)
    facts.update(missing=sorted(result.missing_keys), unexpected=sorted(result.unexpected_keys),
                 filled_in=sorted(set(expected) - set(state) - set(result.missing_keys)))
    if not (facts["missing"] or facts["unexpected"]):
        STATE["trained"] = net.eval()
        STATE.pop("trained_layout", None)  # chosen by the first predict: loading never runs the student's forward
    return facts


def probe_predict(args: dict) -> dict:
    import numpy as np
    import torch

    net = STATE.get("trained")
    if net is None:
        raise RuntimeError("grader error: predict called before the weights were loaded")
    if "trained_layout" not in STATE:
        STATE["trained_layout"] = memory_format(channels_last(net))
    images = np.load(args["images"], mmap_mode="r")  # (N, 1, S, S)
    outputs, batch = [], int(args.get("batch_size", 32))
    with torch.inference_mode():
        for start in range(0, len(images), batch):
            x = torch.from_numpy(np.ascontiguousarray(images[start : start + batch])).to(device())
            x = x.contiguous(memory_format=STATE["trained_layout"])
            y = as_output(net(x), len(x))
            outputs.append(y.float().reshape(len(x), -1).cpu().numpy() if y.shape[0] == len(x) else y.float().cpu().numpy())
            progress(min(start + batch, len(images)), len(images))
    shapes = {tuple(o.shape[1:]) for o in outputs}
    if len(shapes) != 1:
        raise ValueError(f"outputs of different shapes across batches: {sorted(shapes)}")
    result = np.concatenate(outputs).astype(np.float32)
    out = Path("io") / f"{args['output']}.npy"
    np.save(out, result, allow_pickle=False)
    fast = STATE["trained_layout"] is torch.channels_last
    return {"outputs": str(out), "shape": list(result.shape), "channels_last": fast}
