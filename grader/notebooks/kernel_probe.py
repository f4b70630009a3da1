# The grader's probe cell. Not imported by the grader: its text is run in the student's kernel after
# their last cell, with __NONCE__ and __WEIGHT_FILES__ filled in, and prints one line of facts about
# the names the notebooks define (net, criterion, optimizer, faces). The grader validates every field.
def _fkp_probe(namespace, weight_files):

    facts = {}
    try:
        import torch
    except Exception:  # noqa: BLE001 - no torch in the kernel: nothing to report
        return facts
    net = namespace.get("net")
    net_ids = set()
    if isinstance(net, torch.nn.Module):
        params = list(net.parameters())
        net_ids = {id(p) for p in params}
        facts["net"] = {"type": type(net).__name__, "n_params": int(sum(p.numel() for p in params)),
                        "n_conv2d": int(sum(isinstance(m, torch.nn.Conv2d) for m in net.modules()))}
    criterion = namespace.get("criterion")
    if criterion is not None:
        facts["criterion"] = {"type": type(criterion).__name__,
                              "mro": [f"{c.__module__}.{c.__qualname__}" for c in type(criterion).__mro__][:12]}
    optimizer = namespace.get("optimizer")
    if optimizer is not None:
        entry = {"type": type(optimizer).__name__, "is_optimizer": isinstance(optimizer, torch.optim.Optimizer)}
        if entry["is_optimizer"]:
            optimised = {id(p) for group in optimizer.param_groups for p in group["params"]}
            entry["covers_net"] = len(net_ids & optimised) / len(net_ids) if net_ids else 0.0
        facts["optimizer"] = entry
    steps = namespace.get("_fkp_optimizer_steps")
    if isinstance(steps, dict) and isinstance(steps.get("count"), int):
        facts["optimizer_steps"] = steps["count"]
    faces = namespace.get("faces")
    if faces is not None:
        try:
            facts["faces"] = {"count": int(len(faces)), "box_size": int(len(faces[0])) if len(faces) else 0}
        except Exception:  # noqa: BLE001
            facts["faces"] = {"count": -1, "box_size": 0}
    facts["weights"] = [_fkp_compare(net, path) for path in weight_files] if net_ids else []
    shims = namespace.get("_fkp_shims")
    if isinstance(shims, dict):
        facts["shims"] = {str(k): int(v) for k, v in shims.items() if isinstance(v, int)}
    return facts


def _fkp_compare(net, path):
    import torch

    entry = {"file": path, "loaded": False, "same_keys": False, "equal": False}
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - missing or not a state_dict
        return entry
    if not isinstance(saved, dict):
        return entry
    entry["loaded"] = True
    current = net.state_dict()
    entry["same_keys"] = set(saved) == set(current)
    entry["equal"] = entry["same_keys"] and all(
        torch.is_tensor(saved[k]) and saved[k].shape == current[k].shape
        and torch.equal(saved[k].cpu(), current[k].detach().cpu()) for k in current)
    return entry


try:
    _fkp_facts = _fkp_probe(globals(), __WEIGHT_FILES__)
except Exception as _fkp_error:  # noqa: BLE001
    _fkp_facts = {"probe_error": repr(_fkp_error)[:300]}
import json as _fkp_json  # noqa: E402

print("FKP-PROBE-__NONCE__", _fkp_json.dumps(_fkp_facts))
del _fkp_probe, _fkp_compare, _fkp_facts, _fkp_json
