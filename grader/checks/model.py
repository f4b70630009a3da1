"""Checks of the network itself: it imports, builds, maps N x 1 x 224 x 224 to N x 136, and learns."""
from __future__ import annotations

from grader.checks.base import Context, check, failed, passed, probe_failure

CONTRACT = "The network must map an N x 1 x 224 x 224 grayscale batch to N x 136 values (68 points x 2)."


@check("model.import", "models.py imports")
def model_import(ctx: Context, cfg) -> object:
    where = ctx.submission.relative(ctx.submission.models_py)
    result = ctx.sandbox.call("import_model", timeout=ctx.timeout(cfg))
    if not result.ok:
        return probe_failure(result, f"Importing {where}")
    if not result.value.get("has_net"):
        return failed(f"{where} imports but defines no class named Net.",
                      "Define `class Net(nn.Module)` in models.py; the grader builds it as Net().")
    return passed(f"{where} imports and defines Net.", details={"printed": result.log_tail})


@check("model.construct", "Net() builds a CNN", requires=("model.import",))
def model_construct(ctx: Context, cfg) -> object:
    result = ctx.sandbox.call("construct", timeout=ctx.timeout(cfg))
    if not result.ok:
        return probe_failure(result, "Net()", "Net() must work with no arguments; give every __init__ "
                                              "parameter a default value.")
    v = result.value
    details = {"n_params": v["n_params"], "n_trainable": v["n_trainable"], "size_mb": round(v["size_mb"], 3),
               "n_conv2d": v["n_conv2d"], "summary": v["summary"]}
    ctx.metrics.update(n_params=v["n_params"], model_size_mb=round(v["size_mb"], 3))
    if v["n_conv2d"] < 1:
        return failed("Net has no nn.Conv2d layer.", "This is a CNN project: use at least one nn.Conv2d.",
                      details=details)
    return passed(f"Net() builds: {v['n_conv2d']} Conv2d layers, {v['n_params']:,} parameters "
                  f"({v['size_mb']:.2f} MB).", details=details)


@check("model.output_shape", "Output is N x 136, float and finite", requires=("model.construct",))
def model_output_shape(ctx: Context, cfg) -> object:
    result = ctx.sandbox.call("forward_shapes", {"batches": [1, 4]}, timeout=ctx.timeout(cfg))
    where = ctx.submission.relative(ctx.submission.models_py)
    if not result.ok:
        return probe_failure(result, f"{where}: Net()(x) with x of shape 1x1x224x224")
    runs = result.value["runs"]
    for run in runs:
        n, shape = run["batch"], tuple(run["shape"])
        if shape != (n, 136):
            hint = ("The last layer must produce 136 values (68 points x 2): end with nn.Linear(..., 136) and "
                    "flatten with x.view(x.size(0), -1).")
            if len(shape) == 2 and shape[1] == 136 and shape[0] != n:
                hint = "Your flatten changes the batch size: use x.view(x.size(0), -1), not x.view(-1, K)."
            return failed(f"{where}: Net()(x) returned shape {shape} for a {n}x1x224x224 input; expected ({n}, 136).",
                          hint, details={"runs": runs})
        if not run["dtype"].startswith("float"):
            return failed(f"{where}: output dtype is {run['dtype']}, expected a float tensor.",
                          "Return the float output of the last layer; do not round or cast it.",
                          details={"runs": runs})
        if not run["finite"]:
            return failed(f"{where}: output for a {n}x1x224x224 input contains NaN or infinite values.",
                          "Check divisions, log/sqrt of negative numbers and uninitialised tensors (torch.empty).",
                          details={"runs": runs})
    return passed("Net()(x) is (1, 136) for one face and (4, 136) for four, float and finite.",
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
