"""Run a submission's notebook headlessly, in the sandbox, under grading parameters.

The grader copies the submission's student/ and notebooks/ into a fresh temp folder, writes the
notebook with a parameters cell injected (papermill's convention: right after the cell tagged
``parameters``, at the top when there is none), and starts ``executor.py`` through
``sandbox.command.run_command``; the kernel is its child, under the same limits and without network.
Whatever the run produced (executed notebook, status, probe facts) is untrusted: it is
validated here, and the executed notebook and its HTML always land in the report folder,
with a banner saying how the run ended.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from grader.data import dataset
from grader.notebooks import grading_mode, workspace
from grader.notebooks.collect import NotebookRun, collect
from grader.report import notebook_html
from grader.sandbox.command import run_command
from grader.sandbox.files import copy_student_folder
from grader.sandbox.limits import Limits
from grader.submission.layout import STARTER_FILES, Submission

EXECUTOR = Path(__file__).with_name("executor.py")
PROBE = Path(__file__).with_name("kernel_probe.py")
SETUP = Path(__file__).with_name("kernel_setup.py")
# Execution settings when the rubric has no notebookN.executes entry (e.g. a run with --only).
DEFAULTS = {2: {"cell_timeout_s": 180, "timeout_s": 420, "parameters": {"n_epochs": 1, "max_steps": 20,
                                                                      "batch_size": 16}},
            3: {"cell_timeout_s": 120, "timeout_s": 300, "parameters": {}, "image": "obamas.jpg"}}


def settings(ctx, number: int) -> dict:
    cfg = ctx.rubric.check(f"notebook{number}.executes")
    return {**DEFAULTS[number], **(dict(cfg.params) if cfg else {})}


def execution(ctx, number: int) -> NotebookRun:
    """Notebook ``number``'s run, executed once per grade and cached in ``ctx.state``."""
    key = f"notebook{number}.run"
    if key not in ctx.state and ctx.state.get("import_hang"):
        ctx.state[key] = NotebookRun(number, "skipped", f"Notebook {number} was not run: {ctx.state['import_hang']} "
                                                        "(model.import), and the notebook imports it.")
    if key not in ctx.state:
        ctx.state[key] = run_notebook(ctx.submission, number, settings(ctx, number), ctx=ctx)
    return ctx.state[key]


def parameter_values(sub: Submission, number: int, conf: dict, data_dir: Path, workdir: Path, cwd: Path) -> dict:
    """The rubric's literal parameters plus the paths only the grader knows (absolute or in the work copy)."""
    values = {}
    for name, value in dict(conf.get("parameters", {})).items():
        if not name.isidentifier() or not isinstance(value, (bool, int, float, str)):
            raise ValueError(f"rubric: notebook{number}.executes parameter {name!r} = {value!r} is not a plain value")
        values[name] = value
    samples = cwd / "images" if sub.layout == "classic" else dataset.samples_dir(data_dir)
    values["data_dir"] = str(cwd / "data" if sub.layout == "classic" else data_dir)
    values["samples_dir"] = str(samples)
    if conf.get("image"):
        values["image_path"] = str(samples / str(conf["image"]))
        weights = sub.chosen_weights()
        if weights is not None:
            copy = workdir / weights.relative_to(sub.root)
            values["weights_path"] = os.path.relpath(copy, cwd)
    return values


def inject_parameters(nb: nbformat.NotebookNode, values: dict) -> int:
    """Insert the grader's parameters cell after the cell tagged ``parameters``; returns its index."""
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    index = tagged[0] + 1 if tagged else 0
    lines = ["# Parameters injected by the grader (grading mode)"] + [f"{k} = {v!r}" for k, v in values.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(index, cell)
    return index


def prepare_workdir(sub: Submission, root: Path) -> Path:
    """Copy student/ and notebooks/ at their relative places (links left out); returns the notebooks folder."""
    for folder in {sub.student_dir, sub.notebooks_dir}:
        if folder.is_dir():
            copy_student_folder(folder, root / folder.relative_to(sub.root), also_ignore=("data", "reports"))
    student_copy = root / sub.student_dir.relative_to(sub.root)
    for name, source in STARTER_FILES.items():  # course files a submission may leave out
        if student_copy.is_dir() and not (student_copy / name).exists():
            shutil.copy2(source, student_copy / name)
    notebooks = root / sub.notebooks_dir.relative_to(sub.root)
    notebooks.mkdir(parents=True, exist_ok=True)
    (root / ".grader").mkdir()
    shutil.copy2(EXECUTOR, root / ".grader" / "executor.py")
    return notebooks


def read_source(sub: Submission, number: int) -> nbformat.NotebookNode | NotebookRun:
    path = sub.notebook(number)
    if path is None:
        role = sub.mapping.roles.get(f"notebook{number}")
        return NotebookRun(number, "missing", f"No notebook {number} found in {sub.relative(sub.notebooks_dir)}: "
                                              f"{role.why if role else 'none named so'}.")
    try:
        if path.suffix == ".py":
            return grading_mode.notebook_from_script(path)
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - a broken file is the student's
        return NotebookRun(number, "invalid", f"{sub.relative(path)} is not a readable notebook: {exc}")


def run_notebook(sub: Submission, number: int, conf: dict, *, ctx) -> NotebookRun:
    source = read_source(sub, number)
    if isinstance(source, NotebookRun):
        return source
    root = Path(tempfile.mkdtemp(prefix="fkp-nb-"))
    try:
        run = execute_in_sandbox(sub, number, conf, source, root, ctx)
        run.source_file = sub.relative(sub.notebook(number))
        return run
    finally:
        shutil.rmtree(root, ignore_errors=True)


def lay_out_grading_mode(sub: Submission, nb, conf: dict, cwd: Path, ctx) -> tuple[str, list[str]]:
    """The hidden set-up text, and what was changed so that a notebook without a parameters cell runs."""
    setup, changes = SETUP.read_text(), []
    if sub.layout == "classic":
        workspace.lay_out(cwd, ctx.data_dir, ctx.seed)  # described once, in the report's layout table
    if workspace.supply_workspace_utils(cwd, [str(c.get("source", "")) for c in nb.cells]):
        changes.append("workspace_utils.py supplied (the course workspace's helper; active_session does nothing)")
    changes += [f"skipped `{line}` (no network here)" for line in grading_mode.skip_shell_lines(nb)]
    if not grading_mode.has_parameters_cell(nb):
        setup += "\n" + grading_mode.shims_source(max_steps(conf))
    return setup, changes


def max_steps(conf: dict) -> int:
    return int(dict(conf.get("parameters", {})).get("max_steps", DEFAULTS[2]["parameters"]["max_steps"]))


def execute_in_sandbox(sub, number, conf, source, root: Path, ctx) -> NotebookRun:
    prepare_workdir(sub, root)
    path = sub.notebook(number)
    cwd = root / path.parent.relative_to(sub.root)  # the notebook's own folder in the copy
    run_dir = root / ".grader"
    setup, changes = lay_out_grading_mode(sub, source, conf, cwd, ctx)  # the static checks read the same cells
    nb = nbformat.from_dict(json.loads(json.dumps(source)))
    values = parameter_values(sub, number, conf, ctx.data_dir, root, cwd)
    injected = inject_parameters(nb, values)
    nbformat.write(nb, str(run_dir / "input.ipynb"))
    nonce = secrets.token_hex(16)
    weight_files = [os.path.relpath(p, cwd) for p in sorted((root / sub.student_dir.relative_to(sub.root)
                                                             / "saved_models").glob("*.pt*"))]
    if values.get("weights_path") and values["weights_path"] not in weight_files:
        weight_files.append(values["weights_path"])
    (run_dir / "probe.py").write_text(PROBE.read_text().replace("__NONCE__", nonce)
                                      .replace("__WEIGHT_FILES__", repr(weight_files)))
    (run_dir / "setup.py").write_text(setup)
    before = {p: p.stat().st_mtime_ns for p in root.rglob("saved_models/*") if p.is_file()}
    token = secrets.token_hex(8)
    cell_timeout, total = float(conf["cell_timeout_s"]), float(conf["timeout_s"])
    limits = Limits(memory_mb=ctx.rubric.memory_mb, threads=ctx.rubric.threads, disk_mb=ctx.rubric.disk_mb,
                    cpu_seconds=int(total * max(1, ctx.rubric.threads)) + 120)
    argv = [sys.executable, "-u", str(run_dir / "executor.py"), "--run-dir", str(run_dir), "--cwd",
            str(cwd), "--cell-timeout", str(cell_timeout), "--total-timeout", str(total)]
    env = {"FKP_NOTEBOOK_RUN": token, "FKP_SEED": str(ctx.seed), "PYTHONHASHSEED": str(ctx.seed),
           "JUPYTER_RUNTIME_DIR": str(run_dir), "IPYTHONDIR": str(run_dir / "ipython"),
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    started = time.monotonic()
    result = run_command(argv, cwd=root, timeout=total + 90, limits=limits, env=env)
    kill_leftovers(token)
    run = collect(number, source, nb, injected, values, run_dir, result, nonce)
    run.duration_s = round(time.monotonic() - started, 2)
    run.compatibility = changes + grading_mode.shims_used(run.probe, max_steps(conf))
    run.weights_written = [os.path.relpath(p, cwd) for p in sorted(root.rglob("saved_models/*"))
                           if p.is_file() and not p.is_symlink() and before.get(p) != p.stat().st_mtime_ns
                           and is_torch_zip(p)]
    notebook_html.write_artifacts(ctx, run)
    return run


def kill_leftovers(token: str) -> None:
    """Kill whatever the run left behind (a kernel outliving its executor), found by its environment."""
    marker = f"FKP_NOTEBOOK_RUN={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


def is_torch_zip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


