"""The student's trained weights: found, the right kind of file, and matching Net()."""
from __future__ import annotations

from pathlib import Path

from grader.checks.base import Context, Outcome, check, failed, passed, probe_failure
from grader.sandbox.files import MAX_COPIED_FILE_MB

SAVE_HINT = "Save only the weights: torch.save(net.state_dict(), 'saved_models/keypoints_model.pt')."


def file_problem(path: Path, shown: str) -> tuple[str, str] | None:
    """Recognise files that are not PyTorch weights by their first bytes (message, hint)."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    size_mb = path.stat().st_size / 2**20
    if size_mb > MAX_COPIED_FILE_MB:
        return (f"{shown} is {size_mb:,.0f} MB; the grader loads weights files of at most {MAX_COPIED_FILE_MB} MB "
                "(a state_dict of a network for this project is at most a few hundred MB).",
                "Submit the state_dict of your trained network, not a checkpoint with optimizer state or data. "
                + SAVE_HINT)
    if not head:
        return f"{shown} is empty (0 bytes).", "Save the weights again after training; " + SAVE_HINT
    if head.startswith(b"version https://git-lfs"):
        return (f"{shown} is a Git LFS pointer ({path.stat().st_size} bytes of text), not the weights.",
                "Run `git lfs pull` (or download the real file) so that the .pt file holds the weights, "
                "then submit again.")
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")) or b"<html" in head.lower():
        return (f"{shown} is an HTML page, not PyTorch weights (a browser saved a download page).",
                "Download the raw file (not the page that shows it), or copy it from where you trained.")
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):
        return (f"{shown} is not a PyTorch file (it starts with {head[:16]!r}).", SAVE_HINT)
    return None


def load_error(result, shown: str) -> Outcome:
    text = f"{result.error.get('type')}: {result.error.get('message')}"
    if "Weights only load failed" in text or "weights_only" in text:
        return failed(f"{shown} holds a whole pickled model, not a state_dict; the grader loads weights with "
                      "torch.load(weights_only=True) and will not unpickle objects.", SAVE_HINT,
                      details={"error": result.error})
    if any(s in text for s in ("PytorchStreamReader", "EOF", "central directory", "truncated", "unpickling")):
        return failed(f"{shown} is truncated or corrupted ({text[:200]}).",
                      "The file was cut short (interrupted copy or upload?). Save or copy it again.",
                      details={"error": result.error})
    return probe_failure(result, f"Loading {shown}")


@check("weights.load", "Trained weights load into Net()", requires=("model.construct",))
def weights_load(ctx: Context, cfg) -> Outcome:
    sub = ctx.submission
    path = sub.chosen_weights()
    folder = sub.relative(sub.student_dir / "saved_models")
    if path is None:
        return failed(f"No trained weights: {folder}/ has no .pt or .pth file.",
                      "Train your network in notebook 2 and save it there: " + SAVE_HINT)
    shown = sub.relative(path)
    problem = file_problem(path, shown)
    if problem:
        return failed(*problem, details={"file": shown})
    inside = str(Path("student") / "saved_models" / path.name)  # the sandbox's copy of the student folder
    result = ctx.sandbox.call("load_weights", {"path": inside}, timeout=ctx.timeout(cfg))
    if not result.ok:
        return load_error(result, shown)
    v = result.value
    details = {"file": shown, "others": [p.name for p in sub.weight_files() if p != path], **v}
    if not v["is_state_dict"]:
        return failed(f"{shown} holds a {v['found']}, not a state_dict of tensors.", SAVE_HINT, details=details)
    if v["missing"] or v["unexpected"] or v["mismatched"]:
        parts = []
        if v["missing"]:
            parts.append(f"missing keys {v['missing'][:6]}")
        if v["unexpected"]:
            parts.append(f"unexpected keys {v['unexpected'][:6]}")
        for m in v["mismatched"][:4]:
            parts.append(f"{m['key']} has shape {tuple(m['found'])} in the file but {tuple(m['expected'])} in Net()")
        return failed(f"{shown} does not match {sub.model.call} in {sub.relative(sub.models_py)}: {'; '.join(parts)}.",
                      "The weights were saved from a different version of Net. Retrain and save again with the "
                      "current models.py (or restore the models.py you trained with).", details=details)
    notes = compatibility_notes(v)
    details["compatibility"] = notes
    shown_notes = f" ({'; '.join(notes)})" if notes else ""
    return passed(f"{shown}{shown_notes}: {v['n_tensors']} tensors load into {sub.model.call} exactly.",
                  details=details)


def compatibility_notes(facts: dict) -> list[str]:
    """What it took to load the file as the student's own load_state_dict would."""
    notes = []
    if facts.get("wrapped_in"):
        notes.append(f"taken from its '{facts['wrapped_in']}' entry")
    if facts.get("prefix_stripped"):
        notes.append("DataParallel's 'module.' prefix removed")
    if facts.get("saved_on_cuda"):
        notes.append("saved on a GPU, loaded onto the CPU")
    if facts.get("filled_in"):
        notes.append(f"saved by an older PyTorch: {', '.join(facts['filled_in'][:3])}"
                     f"{' ...' if len(facts['filled_in']) > 3 else ''} filled in by load_state_dict")
    return notes
