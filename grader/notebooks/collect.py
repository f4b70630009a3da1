"""What a notebook run left behind, read back and validated: the executed copy, its status, the
failing cell and the probe's facts, as a ``NotebookRun``. Everything here is untrusted input:
the student's kernel could have rewritten any file of the run folder.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 64 << 20
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
STATUSES = ("ok", "error", "timeout", "dead_kernel", "kernel_start_failed")


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
    compatibility: list[str] = field(default_factory=list)
    """What grading mode changed so the notebook could run here (listed in the report, never silent)."""
    source_file: str = ""
    """The notebook or script that played this role, relative to the submission."""

    def executed_cell(self, student_index: int) -> nbformat.NotebookNode | None:
        """The executed copy of the student's cell ``student_index``, if its source was not tampered with."""
        if self.executed is None or self.source is None or not 0 <= student_index < len(self.source.cells):
            return None
        index = student_index + (1 if self.injected_index is not None and student_index >= self.injected_index else 0)
        if index >= len(self.executed.cells):
            return None
        cell = self.executed.cells[index]
        return cell if cell.get("source") == self.source.cells[student_index].get("source") else None



def first_line(cell: nbformat.NotebookNode) -> str:
    """A cell's first non-blank line, shortened: how a person finds the cell on screen."""
    lines = [line for line in str(cell.get("source", "")).splitlines() if line.strip()]
    first = lines[0].strip() if lines else ""
    return first if len(first) <= 70 else first[:67] + "..."


def cell_label(nb: nbformat.NotebookNode, index: int) -> str:
    """How a message names cell ``index`` (0-based) of the student's notebook."""
    first = first_line(nb.cells[index])
    return f"cell {index + 1} (`{first}`)" if first else f"cell {index + 1}"


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
    if getattr(result, "limit_hit", ""):
        run.message += f" The sandbox stopped it: {result.limit_hit}."
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
