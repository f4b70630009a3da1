"""Checks of the network itself: it imports, builds, maps N x 1 x 224 x 224 to N x 136, and learns."""
from __future__ import annotations

import numpy as np

from grader.checks.base import Context, Outcome, check, failed, passed, probe_failure

CONTRACT = "The network must map an N x 1 x 224 x 224 grayscale batch to N x 136 values (68 points x 2)."
NO_FORWARD = 'missing the required "forward" function'


def missing_module(ctx: Context) -> Outcome:
    sub, model = ctx.submission, ctx.submission.model
    if model.in_notebook:
        return failed(f"{sub.relative(sub.models_py)} does not hold the network: class {model.cls} is defined in "
                      f"{model.in_notebook}.",
                      f"Move class {model.cls} (with its imports) into models.py next to your notebooks and import it "
                      f"there with `from models import {model.cls}`; the grader imports the network from models.py.")
    return failed(f"No {sub.relative(sub.models_py)}: the submission has no module with the network.",
                  "Put your network class in models.py (`class Net(nn.Module)` with __init__ and forward).")


def no_forward(ctx: Context, where: str) -> Outcome:
    cls = ctx.submission.model.cls
    return failed(f"{where}: class {cls} has no forward() method, so it cannot run a face through the network "
                  "(PyTorch says: Module is missing the required \"forward\" function). models.py still holds the "
                  "course's template.",
                  f"Finish {cls}: add `def forward(self, x):` that runs x through your layers and returns a "
                  "(N, 136) tensor, then train it in notebook 2.")


@check("model.import", "models.py imports")
def model_import(ctx: Context, cfg) -> object:
    sub = ctx.submission
    where = sub.relative(sub.models_py)
    if not sub.model.source and (not sub.models_py.is_file() or sub.model.in_notebook):
        return missing_module(ctx)
    result = ctx.sandbox.call("import_model", timeout=ctx.timeout(cfg))
    if sub.model.source and result.ok and result.value.get("has_net"):
        found = missing_module(ctx)  # the grader took the class out of the notebook: gradeable, not as asked
        return Outcome(1 / 3, found.message + " The grader took it from there to grade your network and weights.",
                       found.hint, details={"extracted_module": sub.model.source[:4000]})
    if not result.ok:
        if result.status == "timeout":  # the notebooks that import it are not run to hang again
            ctx.state["import_hang"] = f"{where} did not finish importing within {result.error.get('message')}"
        return probe_failure(result, f"Importing {where}")
    cls, others = sub.model.cls, result.value.get("module_classes") or []
    if not result.value.get("has_net"):
        found = f"; it defines {', '.join(others)}" if others else " (no nn.Module class at all)"
        return failed(f"{where} imports but defines no class named {cls}{found}.",
                      f"Define `class {cls}(nn.Module)` in {sub.models_py.name}; the grader builds it as "
                      f"{sub.model.call}." if others else
                      "Write your network in models.py: `class Net(nn.Module)` with __init__ and forward.")
    if result.value.get("has_forward") is False:
        return no_forward(ctx, where)
    note = "" if cls == "Net" else f" ({sub.model.why})"
    return passed(f"{where} imports and defines {cls}.{note}", details={"printed": result.log_tail})


@check("model.construct", "Net() builds a CNN", requires=("model.import",))
def model_construct(ctx: Context, cfg) -> object:
    result = ctx.sandbox.call("construct", timeout=ctx.timeout(cfg))
    call = ctx.submission.model.call
    if not result.ok:
        return probe_failure(result, call, f"{call} must work as written; give every __init__ parameter a default "
                                           "value, or build it in notebook 3 with literal arguments "
                                           "(e.g. net = Net(136)) so the grader can read them.")
    v = result.value
    details = {"n_params": v["n_params"], "n_trainable": v["n_trainable"], "size_mb": round(v["size_mb"], 3),
               "n_conv2d": v["n_conv2d"], "summary": v["summary"]}
    ctx.metrics.update(n_params=v["n_params"], model_size_mb=round(v["size_mb"], 3))
    if v["n_conv2d"] < 1:
        return failed(f"{ctx.submission.model.cls} has no nn.Conv2d layer.",
                      "This is a CNN project: use at least one nn.Conv2d.", details=details)
    return passed(f"{call} builds: {v['n_conv2d']} Conv2d layers, {v['n_params']:,} parameters "
                  f"({v['size_mb']:.2f} MB).", details=details)


def measured_runs(ctx: Context, runs: list[dict]) -> list[dict]:
    """The child's answer with shape and finiteness read off the arrays it saved (an answer is a claim:
    code in the child can replace a probe's reply, or return a tensor subclass that lies about itself)."""
    measured = []
    for run in runs:
        run = dict(run)
        try:
            array = ctx.sandbox.get_array(f"io/forward_b{int(run['batch'])}.npy", max_bytes=64 << 20)
        except (OSError, ValueError):  # an integer output is refused on its dtype; a float one is always saved
            if "float" in str(run.get("dtype")):
                run.update(shape=[], finite=False, unverified="the probe's saved output is missing")
            measured.append(run)
            continue
        run.update(shape=list(array.shape), finite=bool(np.isfinite(array).all()))
        measured.append(run)
    return measured


@check("model.output_shape", "Output is N x 136, float and finite", requires=("model.construct",))
def model_output_shape(ctx: Context, cfg) -> object:
    result = ctx.sandbox.call("forward_shapes", {"batches": [1, 4]}, timeout=ctx.timeout(cfg))
    where = ctx.submission.relative(ctx.submission.models_py)
    call, size = ctx.submission.model.call, ctx.submission.input_size
    if not result.ok:
        if NO_FORWARD in str(result.error.get("message")):
            return no_forward(ctx, where)
        return probe_failure(result, f"{where}: {call}(x) with x of shape 1x1x{size}x{size}")
    runs = measured_runs(ctx, result.value["runs"])
    if all(tuple(run["shape"]) == (run["batch"], 68, 2) for run in runs):
        return Outcome(0.5, f"{where}: {call}(x) returns (N, 68, 2), not the contract's (N, 136); the grader "
                            "flattens it to (N, 136) to score your trained weights.",
                       "Flatten the output in forward: return x.view(x.size(0), -1) (68 points x 2 = 136 values).",
                       details={"runs": runs})
    for run in runs:
        n, shape = run["batch"], tuple(run["shape"])
        if shape != (n, 136):
            hint = ("The last layer must produce 136 values (68 points x 2): end with nn.Linear(..., 136) and "
                    "flatten with x.view(x.size(0), -1).")
            if len(shape) == 2 and shape[1] == 136 and shape[0] != n:
                hint = "Your flatten changes the batch size: use x.view(x.size(0), -1), not x.view(-1, K)."
            return failed(f"{where}: {call}(x) returned shape {shape} for a {n}x1x{size}x{size} input; "
                          f"expected ({n}, 136).",
                          hint, details={"runs": runs})
        if not run["dtype"].startswith("float"):
            return failed(f"{where}: output dtype is {run['dtype']}, expected a float tensor.",
                          "Return the float output of the last layer; do not round or cast it.",
                          details={"runs": runs})
        if not run["finite"]:
            return failed(f"{where}: output for a {n}x1x{size}x{size} input contains NaN or infinite values.",
                          "Check divisions, log/sqrt of negative numbers and uninitialised tensors (torch.empty).",
                          details={"runs": runs})
    return passed(f"{call}(x) is (1, 136) for one face and (4, 136) for four, float and finite.",
                  details={"runs": runs})


@check("model.batch_independence", "Each face's output ignores the rest of the batch",
       requires=("model.output_shape",))
def model_batch_independence(ctx: Context, cfg) -> object:
    result = ctx.sandbox.call("batch_independence", timeout=ctx.timeout(cfg))
    if not result.ok:
        return probe_failure(result, "Running Net in eval mode on single faces")
    diff, scale = result.value.get("max_abs_diff"), result.value.get("scale") or 1.0
    tolerance = float(cfg["tolerance"])
    details = {"max_abs_diff": diff, "mean_abs_output": scale, "tolerance": tolerance}
    if diff is None or diff > tolerance * max(scale, 1e-6):
        return failed(f"In eval mode a face's output changes with the other faces in its batch "
                      f"(max difference {diff}).",
                      "Do not mix samples: flatten with x.view(x.size(0), -1) and normalise per sample "
                      "(BatchNorm is fine in eval mode).", details=details)
    return passed(f"Outputs alone and in a batch agree (max difference {diff:.2e}).", details=details)


@check("model.gradients", "Backward pass reaches every parameter", requires=("model.output_shape",))
def model_gradients(ctx: Context, cfg) -> object:
    result = ctx.sandbox.call("gradients", timeout=ctx.timeout(cfg))
    if not result.ok:
        return probe_failure(result, "One backward pass through Net")
    missing = result.value["without_gradient"]
    if missing:
        return failed(f"{len(missing)} of {result.value['n_trainable_tensors']} trainable parameter tensors get no "
                      f"gradient: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}.",
                      "Every layer defined in __init__ should be used in forward(), and forward() must not "
                      "detach the tensor (no .detach(), .numpy() or torch.no_grad() inside it).",
                      details=result.value)
    return passed(f"All {result.value['n_trainable_tensors']} trainable parameter tensors receive gradients.",
                  details=result.value)
