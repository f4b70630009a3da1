"""Checks of notebooks 2 and 3, each executed once per grade in the sandbox (``grader.notebooks``).

Points come from static inspection of the student's source confirmed by the run: its outputs and
the probe's facts about ``net``, ``criterion``, ``optimizer`` and ``faces``. Neither alone gives
full marks: a call found in the source but never run earns ``UNCONFIRMED`` of its share (none by
default: the starter's own code would otherwise score).
"""
from __future__ import annotations

import ast
import math

from grader.checks.base import Context, Outcome, check, failed, passed
from grader.notebooks import evidence as ev
from grader.notebooks.collect import NotebookRun, cell_label
from grader.notebooks.run import execution, read_source

REGRESSION_LOSSES = ("MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss")
MAX_STEPS = 10_000_000  # a plausible count of optimizer steps reported by the probe
UNCONFIRMED = 0.0  # share of an item's points when the source has it but the run does not confirm it
RUN_STATUS = {"error": "error", "timeout": "timeout", "skipped": "skipped", "dead_kernel": "error", "crashed": "error",
              "kernel_start_failed": "error", "missing": "failed", "invalid": "failed"}
HINTS = {
    "skipped": "Fix the import of models.py first (see model.import): it hangs, and this notebook imports it.",
    "error": "Restart the kernel and run all cells yourself with the parameters in the executed notebook's banner; "
             "fix the cell named above (its traceback is below).",
    "timeout": "The grader runs with the small parameters shown in the banner: make the training loop stop after "
               "`max_steps` steps and look for loops that never end.",
    "dead_kernel": "Do not end the process (os._exit, sys.exit in a thread) and keep memory use modest.",
    "missing": "Keep the course's notebook names, e.g. \"2. Define the Network Architecture.ipynb\", in notebooks/.",
}


def notebook_details(run: NotebookRun) -> dict:
    """What report.html shows for a run: status, failing cell, error, traceback, the executed HTML."""
    cell = run.failing_cell
    return {"notebook": {
        "number": run.number, "status": run.status, "duration_s": run.duration_s, "parameters": run.parameters,
        "cell": cell.get("cell"), "cell_index": cell.get("index"), "execution_count": cell.get("execution_count"),
        "cell_source": cell.get("first_line"), "ename": cell.get("ename"), "evalue": cell.get("evalue"),
        "traceback": cell.get("traceback"), "limit": cell.get("limit"),
        "html": run.artifacts[0] if run.artifacts else None, "log": run.log_tail if run.status != "ok" else "",
        "file": run.source_file, "compatibility": run.compatibility}}


def executes(ctx: Context, number: int) -> Outcome:
    run = execution(ctx, number)
    details = notebook_details(run)
    message = run.message
    if ctx.submission.layout == "classic" and run.source_file:
        message += f" (file: {run.source_file})"
    if run.compatibility:
        message += " Grading mode: " + "; ".join(run.compatibility) + "."
    if run.status == "ok":
        return passed(message, details=details, artifacts=run.artifacts)
    hint = HINTS.get(run.status, HINTS["error"])
    return Outcome(0.0, message, hint, details, run.artifacts, status=RUN_STATUS.get(run.status, "error"))


def confirmed(in_source: bool, in_run: bool) -> float:
    return 1.0 if in_source and in_run else UNCONFIRMED if in_source else 0.0


def verdict(items: dict[str, tuple[float, str]], details: dict, hint: str) -> Outcome:
    """Equal shares per item: {name: (fraction, sentence)} -> one Outcome listing every sentence."""
    fraction = sum(f for f, _ in items.values()) / len(items)
    details["items"] = {name: round(f, 3) for name, (f, _) in items.items()}
    message = " ".join(sentence for _, sentence in items.values())
    return Outcome(fraction, message, "" if fraction >= 1 else hint, details)


def missing_notebook(run: NotebookRun) -> Outcome | None:
    if run.status == "skipped":
        return Outcome(0.0, run.message, HINTS["skipped"], status="skipped")
    if run.source is None:
        return failed(run.message, HINTS["missing"])
    return None


@check("notebook2.executes", "Notebook 2 runs top to bottom", unit="notebook2",
       after=("model.import",))
def notebook2_executes(ctx: Context, cfg) -> Outcome:
    return executes(ctx, 2)


@check("notebook2.loss_and_optimizer", "Notebook 2: a regression loss and an optimizer over the net", unit="notebook2",
       after=("model.import",))
def loss_and_optimizer(ctx: Context, cfg) -> Outcome:
    run = execution(ctx, 2)
    if (missing := missing_notebook(run)) is not None:
        return missing
    cells = ev.code_cells(run.source)
    losses = [(c, ev.dotted(call)) for c in cells for call in c.assigned_calls("criterion")]
    chosen = [(c, name) for c, name in losses if name.split(".")[-1] in REGRESSION_LOSSES]
    loss_type = ev.fact(run.probe, "criterion", "type", kind=str)
    loss_mro = ev.fact(run.probe, "criterion", "mro", kind=list) or []
    loss_in_run = bool(chosen) and loss_type == chosen[-1][1].split(".")[-1] and \
        "torch.nn.modules.loss._Loss" in loss_mro
    optimizers = [(c, call) for c in cells for call in c.assigned_calls("optimizer")]
    over_net = [(c, call) for c, call in optimizers
                if any(ev.dotted(n) == "net.parameters" for a in [*call.args, *(k.value for k in call.keywords)]
                       for n in _calls_in(a))]
    covers = ev.fact(run.probe, "optimizer", "covers_net", kind=float)
    opt_in_run = bool(over_net) and ev.fact(run.probe, "optimizer", "is_optimizer", kind=bool) is True and \
        covers is not None and math.isclose(covers, 1.0)
    details = {"criterion_in_source": [name for _, name in losses], "criterion_in_run": loss_type,
               "optimizer_in_source": [ev.dotted(call) for _, call in optimizers],
               "optimizer_in_run": ev.fact(run.probe, "optimizer", "type", kind=str), "optimizer_covers_net": covers}
    loss_sentence = (f"criterion = {chosen[-1][1]}() in {cell_label(run.source, chosen[-1][0].index)}"
                     + (", confirmed by the run." if loss_in_run else ", but the run never got that far.")
                     if chosen else f"No regression loss ({', '.join(REGRESSION_LOSSES)}) is assigned to `criterion`.")
    opt_sentence = (f"optimizer = {ev.dotted(over_net[-1][1])}(net.parameters(), ...)"
                    + (", covering every parameter of the net in the run." if opt_in_run else
                       ", not confirmed by the run.")
                    if over_net else "No optimizer from torch.optim over net.parameters() is assigned to `optimizer`.")
    items = {"loss": (confirmed(bool(chosen), loss_in_run), loss_sentence),
             "optimizer": (confirmed(bool(over_net), opt_in_run), opt_sentence)}
    return verdict(items, details, "Assign e.g. `criterion = nn.SmoothL1Loss()` and "
                                   "`optimizer = optim.Adam(net.parameters(), lr=0.001)`, and make the notebook run.")


def _calls_in(node: ast.AST) -> list[ast.AST]:
    return [n.func for n in ast.walk(node) if isinstance(n, ast.Call)]


def training_sentence(trains: bool, steps: int | None, values: list[float], plotted: list[int]) -> tuple[bool, str]:
    """Whether training is confirmed (source + optimizer steps counted in the kernel + a loss shown), and why."""
    if not trains:
        return False, "No training step (loss.backward() and optimizer.step()) found in the source."
    if not steps:
        return False, "loss.backward() and optimizer.step() are in the source, but the run took no optimizer step."
    if not values and not plotted:
        return False, f"The run took {steps} optimizer steps but printed no loss and plotted none."
    shown = ([f"{len(values)} loss values printed (first {values[0]:.4g}, last {values[-1]:.4g})"] if values else []) \
        + ([f"a loss plot in cell {plotted[0] + 1}"] if plotted else [])
    return True, f"The run took {steps} optimizer steps; {' and '.join(shown)}."


@check("notebook2.training_ran", "Notebook 2: training ran, its loss was shown, the weights were saved", unit="notebook2",
       after=("model.import",))
def training_ran(ctx: Context, cfg) -> Outcome:
    run = execution(ctx, 2)
    if (missing := missing_notebook(run)) is not None:
        return missing
    cells = ev.code_cells(run.source)
    trains = any(c.calls_ending("backward") for c in cells) and any(
        call.endswith("optimizer.step") for c in cells for call in c.calls())
    values, plotted = [], []
    for c in cells:
        executed = run.executed_cell(c.index)
        values += ev.loss_values(ev.stdout(executed))
        if "loss" in c.source.lower() and c.calls_ending("plot") and ev.displayed(executed):
            plotted.append(c.index)
    steps = ev.fact(run.probe, "optimizer_steps", kind=int)
    steps = steps if steps is not None and 0 <= steps <= MAX_STEPS else None
    trained, loss_sentence = training_sentence(trains, steps, values, plotted)
    saves = any(call == "torch.save" and "state_dict" in c.source for c in cells for call in c.calls())
    written = run.weights_written
    weight_sentence = (f"Weights saved to {', '.join(written)}." if saves and written else
                       "torch.save(net.state_dict(), ...) is in the source, but the run wrote no weights file."
                       if saves else "No torch.save(net.state_dict(), ...) found in the source.")
    details = {"optimizer_steps": steps, "loss_values": values[:200], "loss_plot_cells": [i + 1 for i in plotted],
               "weights_written": written,
               "weights_equal_final_net": {f: ev.weights_entry(run.probe, f)["equal"] for f in written}}
    items = {"training": (confirmed(trains, trained), loss_sentence),
             "weights": (confirmed(saves, bool(written)), weight_sentence)}
    return verdict(items, details, "Train with the loop (it must call optimizer.step()), print and plot its loss, "
                                   "and save the weights with torch.save(net.state_dict(), "
                                   "'../student/saved_models/keypoints_model.pt').")


@check("notebook2.feature_visualization", "Notebook 2: a learned filter shown and applied to an image", unit="notebook2",
       after=("model.import",))
def feature_visualization(ctx: Context, cfg) -> Outcome:
    run = execution(ctx, 2)
    if (missing := missing_notebook(run)) is not None:
        return missing
    cells = ev.code_cells(run.source)
    shows = [c for c in cells if c.uses_attribute("weight") and c.calls_ending("imshow")]
    applies = [c for c in cells if c.calls_ending("filter2D")]

    def pictured(candidates) -> list[int]:
        return [c.index for c in candidates if ev.displayed(run.executed_cell(c.index))
                or ev.displayed(run.executed_cell(c.index + 1))]

    shown, applied = pictured(shows), pictured(applies)
    details = {"filter_cells": [c.index + 1 for c in shows], "filter2d_cells": [c.index + 1 for c in applies]}
    items = {
        "filter": (confirmed(bool(shows), bool(shown)),
                   f"A filter's weights are shown in {cell_label(run.source, (shown or [shows[0].index])[0])}"
                   + ("." if shown else ", but the run displayed no picture there.") if shows else
                   "No cell shows a layer's weights (.weight with imshow)."),
        "filtered": (confirmed(bool(applies), bool(applied)),
                     f"cv2.filter2D is applied in {cell_label(run.source, (applied or [applies[0].index])[0])}"
                     + (" and its result shown." if applied else ", but no filtered image was displayed.")
                     if applies else "No cv2.filter2D call applies a learned filter to an image."),
    }
    return verdict(items, details, "Show one filter of the first Conv2d (plt.imshow of its .weight) and the "
                                   "image filtered with it (cv2.filter2D), both displayed.")


@check("notebook2.answers", "Notebook 2: the questions are answered", unit="notebook2",
       after=("model.import",))
def answers(ctx: Context, cfg) -> Outcome:
    source = read_source(ctx.submission, 2)
    if isinstance(source, NotebookRun):
        return failed(source.message, HINTS["missing"])
    found = ev.answers(source)
    expected = int(cfg.get("questions", 4))
    min_words = int(cfg.get("min_words", 8))
    numbers = {q["number"] for q in found}
    answered = [q for q in found if not ev.is_template(q["answer"], min_words)]
    listed = [{"question": q["question"], "answer": q["answer"] or "(no answer)"} for q in found]
    fraction = min(len(answered), expected) / expected
    missing = sorted(set(range(1, expected + 1)) - numbers)
    open_ = [q["number"] for q in found if q not in answered]
    message = f"{len(answered)} of {expected} questions answered beyond the template (provisional: an instructor " \
              f"reviews the answers)."
    if missing:
        message += f" Questions not found: {', '.join(map(str, missing))}."
    hint = "" if fraction >= 1 else (f"Write at least {min_words} words after **Answer**: for question(s) "
                                     f"{', '.join(map(str, open_ or missing))}.")
    return Outcome(fraction, message, hint, {"answers": listed, "min_words": min_words}, manual_review=True)


@check("notebook3.executes", "Notebook 3 runs top to bottom", unit="notebook3",
       after=("model.import",))
def notebook3_executes(ctx: Context, cfg) -> Outcome:
    return executes(ctx, 3)


@check("notebook3.keypoints_displayed", "Notebook 3: faces detected, trained weights loaded, keypoints shown", unit="notebook3",
       after=("model.import",))
def keypoints_displayed(ctx: Context, cfg) -> Outcome:
    run = execution(ctx, 3)
    if (missing := missing_notebook(run)) is not None:
        return missing
    min_faces = int(cfg.get("min_faces", 1))
    cells = ev.code_cells(run.source)
    detects = [c for c in cells if c.calls_ending("detectMultiScale")] if any(
        c.calls_ending("CascadeClassifier") for c in cells) else []
    count, box = ev.fact(run.probe, "faces", "count", kind=int), ev.fact(run.probe, "faces", "box_size", kind=int)
    faces_ok = count is not None and min_faces <= count <= 100 and box == 4
    loads = any(c.calls_ending("load_state_dict") for c in cells) and any(
        call.endswith("torch.load") for c in cells for call in c.calls())
    weights_file = run.parameters.get("weights_path")
    weights_ok = bool(weights_file) and ev.weights_entry(run.probe, weights_file)["equal"]
    first = detects[0].index if detects else len(run.source.cells)
    shows = [c for c in cells if c.index > first and c.calls_ending("scatter", "plot", "circle")]
    shown = [c.index for c in shows if ev.displayed(run.executed_cell(c.index))]
    details = {"faces_found": count, "min_faces": min_faces, "weights_path": weights_file, "weights_match": weights_ok,
               "display_cells": [i + 1 for i in shown]}
    items = {
        "faces": (confirmed(bool(detects), faces_ok),
                  (f"The Haar cascade found {count} faces." if faces_ok else
                   f"detectMultiScale is called, but the run did not leave at least {min_faces} faces in `faces`.")
                  if detects else "No Haar cascade (CascadeClassifier + detectMultiScale) in the source."),
        "weights": (confirmed(loads, weights_ok),
                    (f"`net` holds the trained weights of {weights_file}." if weights_ok else
                     "load_state_dict(torch.load(...)) is called, but `net` does not hold the saved weights.")
                    if loads else "The trained weights are never loaded (net.load_state_dict(torch.load(...)))."),
        "shown": (confirmed(bool(shows), bool(shown)),
                  (f"Keypoints drawn in {cell_label(run.source, shown[0])}." if shown else
                   "The drawing code never displayed a picture.")
                  if shows else "No cell after the detection draws keypoints (plt.scatter, cv2.circle)."),
    }
    return verdict(items, details, "Detect faces into `faces`, load the weights with "
                                   "net.load_state_dict(torch.load(weights_path, weights_only=True)), and draw the "
                                   "points of every face with plt.scatter.")
