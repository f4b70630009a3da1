"""Run a submission's notebook headlessly, in the sandbox, under grading parameters.

The grader copies the submission's student/ and notebooks/ into a fresh temp folder, writes the
notebook with a parameters cell injected (papermill's convention: right after the cell tagged
``parameters``, at the top when there is none), and starts ``notebook_exec.py`` through
``sandbox.run_command``; the kernel is its child, under the same limits and without network.
Whatever the run produced (executed notebook, status, probe facts) is untrusted: it is
validated here, and the executed notebook and its HTML always land in the report folder,
with a banner saying how the run ended.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader import data, sandbox
from grader.report import notebook_html
from grader.submission import STARTER_FILES, Submission

EXECUTOR = Path(__file__).with_name("notebook_exec.py")
PROBE = Path(__file__).with_name("notebook_probe.py")
SETUP = Path(__file__).with_name("notebook_setup.py")
MAX_NOTEBOOK_BYTES = 64 << 20
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".git", "data", "reports")
STATUSES = ("ok", "error", "timeout", "dead_kernel", "kernel_start_failed")
# Execution settings when the rubric has no notebookN.executes entry (e.g. a run with --only).
DEFAULTS = {2: {"cell_timeout_s": 180, "timeout_s": 420, "parameters": {"n_epochs": 1, "max_steps": 20,
                                                                      "batch_size": 16}},
            3: {"cell_timeout_s": 120, "timeout_s": 300, "parameters": {}, "image": "obamas.jpg"}}


@dataclass
class NotebookRun:
    """One notebook executed under grading parameters. Everything read from the run is validated."""

    number: int
    status: str
    """ok | error | timeout | dead_kernel | kernel_start_failed | crashed (the executor died) | missing | invalid."""
    message: str
    source: nbformat.NotebookNode | None = None
    """The student's own notebook, read by the grader (what static checks inspect)."""
    executed: nbformat.NotebookNode | None = None
    """The executed copy (untrusted), with the injected cell but without the grader's banner."""
    injected_index: int | None = None
    failing_cell: dict = field(default_factory=dict)
    """{index, cell, execution_count, first_line, ename, evalue, traceback, limit} of the cell that stopped it."""
    probe: dict = field(default_factory=dict)
    """Facts the probe cell printed from inside the kernel (validated, never decisive alone)."""
    parameters: dict = field(default_factory=dict)
    weights_written: list[str] = field(default_factory=list)
    """saved_models files the run wrote (new or modified, torch zip format)."""
    cell_seconds: dict = field(default_factory=dict)
    log_tail: str = ""
    """The executor's own output (kernel start-up problems, crashes)."""
    artifacts: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    def executed_cell(self, student_index: int) -> nbformat.NotebookNode | None:
        """The executed copy of the student's cell ``student_index``, if its source was not tampered with."""
        if self.executed is None or self.source is None or not 0 <= student_index < len(self.source.cells):
            return None
        index = student_index + (1 if self.injected_index is not None and student_index >= self.injected_index else 0)
        if index >= len(self.executed.cells):
            return None
        cell = self.executed.cells[index]
        return cell if cell.get("source") == self.source.cells[student_index].get("source") else None


def settings(ctx, number: int) -> dict:
    cfg = ctx.rubric.check(f"notebook{number}.executes")
    return {**DEFAULTS[number], **(dict(cfg.params) if cfg else {})}


def execution(ctx, number: int) -> NotebookRun:
    """Notebook ``number``'s run, executed once per grade and cached in ``ctx.state``."""
    key = f"notebook{number}.run"
    if key not in ctx.state:
        ctx.state[key] = run_notebook(ctx.submission, number, settings(ctx, number), ctx=ctx)
    return ctx.state[key]


def first_line(cell: nbformat.NotebookNode) -> str:
    """A cell's first non-blank line, shortened: how a person finds the cell on screen."""
    lines = [line for line in str(cell.get("source", "")).splitlines() if line.strip()]
    first = lines[0].strip() if lines else ""
    return first if len(first) <= 70 else first[:67] + "..."


def cell_label(nb: nbformat.NotebookNode, index: int) -> str:
    """How a message names cell ``index`` (0-based) of the student's notebook."""
    first = first_line(nb.cells[index])
    return f"cell {index + 1} (`{first}`)" if first else f"cell {index + 1}"


def parameter_values(sub: Submission, number: int, conf: dict, data_dir: Path, workdir: Path) -> dict:
    """The rubric's literal parameters plus the paths only the grader knows (absolute or in the work copy)."""
    values = {}
    for name, value in dict(conf.get("parameters", {})).items():
        if not name.isidentifier() or not isinstance(value, (bool, int, float, str)):
            raise ValueError(f"rubric: notebook{number}.executes parameter {name!r} = {value!r} is not a plain value")
        values[name] = value
    values["data_dir"] = str(data_dir)
    values["samples_dir"] = str(data.samples_dir(data_dir))
    if conf.get("image"):
        values["image_path"] = str(data.samples_dir(data_dir) / str(conf["image"]))
        weights = sub.chosen_weights()
        if weights is not None:
            copy = workdir / weights.relative_to(sub.root)
            values["weights_path"] = os.path.relpath(copy, workdir / sub.notebooks_dir.relative_to(sub.root))
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
    """Copy student/ and notebooks/ at their relative places; returns the notebooks folder of the copy."""
    for folder in {sub.student_dir, sub.notebooks_dir}:
        if folder.is_dir():
            target = root / folder.relative_to(sub.root)
            shutil.copytree(folder, target, symlinks=False, ignore=COPY_IGNORE, dirs_exist_ok=True)
    student_copy = root / sub.student_dir.relative_to(sub.root)
    for name, source in STARTER_FILES.items():  # course files a submission may leave out
        if student_copy.is_dir() and not (student_copy / name).exists():
            shutil.copy2(source, student_copy / name)
    notebooks = root / sub.notebooks_dir.relative_to(sub.root)
    notebooks.mkdir(parents=True, exist_ok=True)
    (root / ".grader").mkdir()
    shutil.copy2(EXECUTOR, root / ".grader" / "notebook_exec.py")
    return notebooks


def run_notebook(sub: Submission, number: int, conf: dict, *, ctx) -> NotebookRun:
    path = sub.notebook(number)
    if path is None:
        return NotebookRun(number, "missing", f"No notebook {number} found in {sub.relative(sub.notebooks_dir)} "
                                              f"(expected a file named \"{number}. ....ipynb\").")
    try:
        source = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - a broken file is the student's
        return NotebookRun(number, "invalid", f"{sub.relative(path)} is not a readable notebook: {exc}")
    root = Path(tempfile.mkdtemp(prefix="fkp-nb-"))
    try:
        return execute_in_sandbox(sub, number, conf, source, root, ctx)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def execute_in_sandbox(sub, number, conf, source, root: Path, ctx) -> NotebookRun:
    notebooks = prepare_workdir(sub, root)
    run_dir = root / ".grader"
    values = parameter_values(sub, number, conf, ctx.data_dir, root)
    nb = nbformat.from_dict(json.loads(json.dumps(source)))
    injected = inject_parameters(nb, values)
    nbformat.write(nb, str(run_dir / "input.ipynb"))
    nonce = secrets.token_hex(16)
    weight_files = [os.path.relpath(p, notebooks) for p in sorted((root / sub.student_dir.relative_to(sub.root)
                                                                   / "saved_models").glob("*.pt*"))]
    if values.get("weights_path") and values["weights_path"] not in weight_files:
        weight_files.append(values["weights_path"])
    (run_dir / "probe.py").write_text(PROBE.read_text().replace("__NONCE__", nonce)
                                      .replace("__WEIGHT_FILES__", repr(weight_files)))
    shutil.copy2(SETUP, run_dir / "setup.py")
    before = {p: p.stat().st_mtime_ns for p in root.rglob("saved_models/*") if p.is_file()}
    token = secrets.token_hex(8)
    cell_timeout, total = float(conf["cell_timeout_s"]), float(conf["timeout_s"])
    limits = sandbox.Limits(memory_mb=ctx.rubric.memory_mb, threads=ctx.rubric.threads,
                            cpu_seconds=int(total * max(1, ctx.rubric.threads)) + 120)
    argv = [sys.executable, "-u", str(run_dir / "notebook_exec.py"), "--run-dir", str(run_dir), "--cwd",
            str(notebooks), "--cell-timeout", str(cell_timeout), "--total-timeout", str(total)]
    env = {"FKP_NOTEBOOK_RUN": token, "FKP_SEED": str(ctx.seed), "PYTHONHASHSEED": str(ctx.seed),
           "JUPYTER_RUNTIME_DIR": str(run_dir), "IPYTHONDIR": str(run_dir / "ipython"),
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    started = time.monotonic()
    result = sandbox.run_command(argv, cwd=root, timeout=total + 90, limits=limits, env=env)
    kill_leftovers(token)
    run = collect(number, source, nb, injected, values, run_dir, result, nonce)
    run.duration_s = round(time.monotonic() - started, 2)
    run.weights_written = [os.path.relpath(p, notebooks) for p in sorted(root.rglob("saved_models/*"))
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


def read_json(path: Path, max_bytes: int = 4 << 20) -> dict:
    try:
        if path.is_symlink() or path.stat().st_size > max_bytes:
            return {}
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_executed(path: Path, fallback: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The executed notebook if it is a valid one, else the unexecuted input."""
    try:
        if not path.is_symlink() and path.stat().st_size <= MAX_NOTEBOOK_BYTES:
            nb = nbformat.read(str(path), as_version=4)
            nbformat.validate(nb)
            return nb
    except Exception:  # noqa: BLE001 - missing or rewritten by the student's code
        pass
    return fallback


def clean_text(value, limit: int) -> str:
    text = ANSI.sub("", value if isinstance(value, str) else "")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def trim_traceback(lines) -> str:
    if not isinstance(lines, list):
        return ""
    text = ANSI.sub("", "\n".join(str(line) for line in lines[:200]))
    kept = text.splitlines()[-60:]
    return clean_text("\n".join(kept), 8000)


def collect(number, source, input_nb, injected, values, run_dir: Path, result, nonce: str) -> NotebookRun:
    """Turn what the sandbox left into a validated NotebookRun (``input_nb``: what the grader sent in)."""
    executed = read_executed(run_dir / "executed.ipynb", input_nb)
    status = read_json(run_dir / "status.json")
    state = status.get("status") if status.get("status") in STATUSES else None
    index = status.get("cell_index")
    if state is None:  # the executor never finished: the wall timeout hit, or it died
        index = read_json(run_dir / "progress.json").get("cell_index")
        state = "timeout" if result.timed_out else "crashed"
        status = {"limit": "total"} if result.timed_out else {}
    if not isinstance(index, int) or not 0 <= index < len(executed.cells):
        index = None
    seconds = status.get("cell_seconds") if isinstance(status.get("cell_seconds"), dict) else {}
    run = NotebookRun(number, "ok" if state == "ok" else state, "", source, executed, injected,
                      probe=parse_probe(clean_text(status.get("probe_stdout"), 200_000), nonce),
                      parameters=values, log_tail=clean_text(result.output_tail, 4000),
                      cell_seconds={k: v for k, v in seconds.items() if isinstance(v, (int, float))})
    if index is not None and state != "ok":
        student_index = index - 1 if index > injected else index
        cell = executed.cells[index]
        run.failing_cell = {
            "index": student_index, "cell": student_index + 1, "injected": index == injected,
            "execution_count": cell.get("execution_count") if isinstance(cell.get("execution_count"), int) else None,
            "first_line": first_line(cell), "ename": clean_text(status.get("ename"), 200),
            "evalue": clean_text(status.get("evalue"), 2000), "traceback": trim_traceback(status.get("traceback")),
            "limit": status.get("limit") if status.get("limit") in ("cell", "total") else None}
    run.message = describe(run, result)
    return run


def describe(run: NotebookRun, result) -> str:
    where = ""
    if run.failing_cell:
        label = "the grader's injected parameters cell" if run.failing_cell["injected"] else \
            cell_label(run.source, run.failing_cell["index"])
        count = run.failing_cell["execution_count"]
        where = f"{label}{f', In [{count}] in the executed notebook' if count else ''}"
    if run.status == "ok":
        cells = sum(1 for c in run.executed.cells if c.get("cell_type") == "code") - 1  # minus the injected one
        return f"Notebook {run.number} ran top to bottom ({cells} code cells)."
    if run.status == "error":
        cell = run.failing_cell
        return f"Notebook {run.number} stopped at {where}: {cell.get('ename')}: {cell.get('evalue')}"
    if run.status == "timeout":
        limit = "the notebook's total time limit" if run.failing_cell.get("limit") == "total" else "the per-cell time limit"
        return f"Notebook {run.number} hit {limit} while running {where or 'a cell'}."
    if run.status == "dead_kernel":
        return (f"The kernel died while running {where or 'a cell'} of notebook {run.number}: the code ended the "
                "Python process (os._exit, a crash in native code) or ran out of memory.")
    if run.status == "kernel_start_failed":
        return f"Notebook {run.number}: the Python kernel did not start (see the log below)."
    return f"Notebook {run.number}: the executor stopped unexpectedly (exit status {result.returncode})."


def parse_probe(stdout: str, nonce: str) -> dict:
    """The probe's facts: the JSON after the nonce line, or {} when absent or malformed."""
    marker = f"FKP-PROBE-{nonce} "
    lines = [line[len(marker):] for line in stdout.splitlines() if line.startswith(marker)]
    if len(lines) != 1:
        return {}
    try:
        facts = json.loads(lines[0])
    except ValueError:
        return {}
    return facts if isinstance(facts, dict) else {}
