"""Probes of the network itself: import, construction, output shapes, batch independence, gradients."""
from __future__ import annotations

import os

import numpy as np

from fkp_runtime import STUDENT_DIR, as_output, model_spec, new_net, random_faces, student_module


def probe_import_model(args: dict) -> dict:
    import torch

    spec = model_spec()
    module = student_module(spec["module"])
    cls = getattr(module, spec["class"], None)
    modules = sorted(name for name, value in vars(module).items() if isinstance(value, type)
                     and issubclass(value, torch.nn.Module) and value.__module__ == module.__name__)
    return {"has_net": cls is not None, "file": os.path.relpath(module.__file__, STUDENT_DIR.parent),
            "has_forward": isinstance(cls, type) and getattr(cls, "forward", None) is not torch.nn.Module.forward,
            "module_classes": modules}


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
            if y.is_floating_point():  # the grader reads shape and finiteness off the array, not off this answer
                np.save(f"io/forward_b{int(batch)}.npy", y.detach().float().cpu().numpy(), allow_pickle=False)
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
