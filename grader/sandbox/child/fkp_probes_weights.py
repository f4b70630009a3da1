"""Probes of the trained weights: load them into a fresh net, then predict on arrays the grader sends."""
from __future__ import annotations

from pathlib import Path

from fkp_runtime import STATE, as_output, device, new_net, progress


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
