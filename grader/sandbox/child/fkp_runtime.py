"""The child's runtime, shared by its probe modules: the answer channel, seeding, the device, the
student's modules and errors trimmed to the student's own frames.

Standalone (stdlib, numpy, torch only; no ``grader`` imports): copied next to ``worker.py``.
"""
from __future__ import annotations

import importlib
import json
import os
import random
import sys
import traceback
from pathlib import Path

STUDENT_DIR = Path("student").resolve()
STATE: dict = {}  # values kept between probes (the trained net)
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


def model_spec() -> dict:
    """Which class to build, as the grader found it in the student's code (FKP_MODEL, JSON):
    {module, class, args, kwargs}; the contract's ``models.Net()`` by default."""
    spec = json.loads(os.environ.get("FKP_MODEL") or "{}")
    return {"module": spec.get("module") or "models", "class": spec.get("class") or "Net",
            "args": list(spec.get("args") or []), "kwargs": dict(spec.get("kwargs") or {})}


def input_size() -> int:
    """The side of the square image the student's net takes (FKP_INPUT_SIZE; 224 by the contract)."""
    return int(os.environ.get("FKP_INPUT_SIZE") or 224)


def new_net():
    import torch

    spec = model_spec()
    net = getattr(student_module(spec["module"]), spec["class"])(*spec["args"], **spec["kwargs"])
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"{spec['class']}() returned a {type(net).__name__}, not a torch.nn.Module")
    return net.to(device())


def random_faces(batch: int, seed: int):
    import torch

    generator = torch.Generator().manual_seed(seed)
    size = input_size()
    return torch.rand(batch, 1, size, size, generator=generator).to(device())


def channels_last(net) -> bool:
    """Put ``net`` in channels-last memory when it answers the same there: oneDNN's convolutions run
    1.3x to 1.9x faster in it on a CPU (bench/compute.py). A forward that cannot take it (a ``.view``
    of a convolution's output raises) or answers otherwise leaves the net as it was. The choice
    rests on the net and two seeded random faces alone, so a grade makes it the same way every time."""
    import numpy as np
    import torch

    parameters = list(net.parameters())
    if any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in parameters):
        return False  # lazy layers (nn.LazyConv2d): their shapes exist only after a first forward
    if not any(p.dim() == 4 for p in parameters):
        return False  # no convolution: nothing to gain
    sample, was_training = random_faces(2, seed=0), net.training
    numpy_state, python_state = np.random.get_state(), random.getstate()
    net.eval()
    try:
        # no_grad, not inference_mode: the parameters converted here must stay usable for training
        with torch.random.fork_rng(devices=[]), torch.no_grad():  # the training's random numbers stay as they were
            plain = as_output(net(sample), 2).float()
            net.to(memory_format=torch.channels_last)
            fast = as_output(net(sample.contiguous(memory_format=torch.channels_last)), 2).float()
        if fast.shape == plain.shape and torch.allclose(fast, plain, rtol=1e-3, atol=1e-4):
            return True
    except Exception:  # noqa: BLE001 - the student's forward fails in plain memory too, where it is reported
        pass
    finally:
        net.train(was_training)
        np.random.set_state(numpy_state)
        random.setstate(python_state)
    net.to(memory_format=torch.contiguous_format)
    return False


def memory_format(fast: bool):
    import torch

    return torch.channels_last if fast else torch.contiguous_format


def as_output(y, batch: int):
    import torch

    if isinstance(y, (tuple, list)) and y and isinstance(y[0], torch.Tensor):
        y = y[0]
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"forward() returned a {type(y).__name__}, not a torch.Tensor")
    if type(y) is not torch.Tensor:  # a subclass may override shape, __eq__ or numpy(): measure the plain tensor
        with torch._C.DisableTorchFunctionSubclass():
            y = torch.Tensor.as_subclass(y, torch.Tensor)
    return y
