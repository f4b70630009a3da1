"""``naive``: what an instructor would do without the grader: ``jupyter nbconvert --execute`` of the
reference's notebooks 2 and 3 as they are (their own parameters: notebook 2 trains 5 epochs), in a
temp copy of the submission where their ``../data/...`` and ``../student/...`` paths resolve;
next to the grader's whole grade of the same submission."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.common import REFERENCE, SHARED, benchmark, grade_once

NOTEBOOKS = ("2. Define the Network Architecture.ipynb", "3. Facial Keypoint Detection, Complete Pipeline.ipynb")
CELL_TIMEOUT_S = 1800


def workspace(scratch: Path, data_dir: Path) -> Path:
    """A copy of the reference (student/ with the course's data_load.py, notebooks/) beside data/
    links, so the notebooks' parameters cells resolve unchanged."""
    from grader.data import dataset
    from grader.submission.layout import STARTER_FILES

    root = scratch / "reference"
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    shutil.copytree(REFERENCE / "student", root / "student", ignore=ignore)
    shutil.copytree(REFERENCE / "notebooks", root / "notebooks", ignore=ignore)
    for name, source in STARTER_FILES.items():
        shutil.copy(source, root / "student" / name)
    (root / "data").mkdir()
    (root / "data" / "facial-keypoints").symlink_to(data_dir)
    (root / "data" / "samples").symlink_to(dataset.samples_dir(data_dir).resolve())
    return root


def parameters_cell(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    source = "".join(tagged[0]["source"]) if tagged else ""
    return "; ".join(line.split("#")[0].strip() for line in source.splitlines() if line.split("#")[0].strip())


def execute(notebook: Path, out: Path) -> tuple[float, str]:
    """``jupyter nbconvert --to notebook --execute`` in the notebook's folder: wall time and how it ended."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
               f"--ExecutePreprocessor.timeout={CELL_TIMEOUT_S}", "--output-dir", str(out), str(notebook)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=notebook.parent, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode == 0:
        return seconds, "ran"
    if "CellTimeoutError" in done.stderr or "TimeoutError" in done.stderr:
        return seconds, f"timed out: a cell ran over {CELL_TIMEOUT_S} s"
    errors = re.findall(r"^\w*(?:Error|Exception)\b.*$", done.stderr, re.MULTILINE) or ["?"]
    return seconds, f"failed (status {done.returncode}): {errors[-1][:120]}"


def grader_time(console: Console, data_dir: Path) -> float:
    known = SHARED["reference_grade_s"].get("default")
    if known is not None:
        return known
    console.print("bench naive: grading the reference (whole rubric) for comparison ...")
    with tempfile.TemporaryDirectory(prefix="fkp-bench-naive-") as scratch:
        seconds = grade_once(REFERENCE, Path(scratch), data_dir).wall_s
    SHARED["reference_grade_s"]["default"] = seconds
    return seconds


@benchmark("naive")
def bench_naive(console: Console, data_dir: Path, only: set[str] | None = None) -> dict:
    rows = []
    with tempfile.TemporaryDirectory(prefix="fkp-bench-naive-") as scratch:
        root = workspace(Path(scratch), data_dir)
        for name in NOTEBOOKS:
            notebook = root / "notebooks" / name
            console.print(f"bench naive: jupyter nbconvert --execute {name!r} ({parameters_cell(notebook)}) ...")
            seconds, how = execute(notebook, Path(scratch) / "executed")
            rows.append((name.split(".")[0], parameters_cell(notebook), seconds, how))
    naive = sum(r[2] for r in rows)
    grader = grader_time(console, data_dir)
    table = Table(title=f"naive: nbconvert --execute (cell timeout {CELL_TIMEOUT_S} s) vs the grader")
    for column in ("run", "parameters", "wall time", "ended"):
        table.add_column(column, justify="right" if column == "wall time" else "left")
    for number, params, seconds, how in rows:
        table.add_row(f"nbconvert notebook {number}", params, f"{seconds:.1f} s", how)
    table.add_section()
    table.add_row("nbconvert notebooks 2 + 3", "", f"{naive:.1f} s", "")
    table.add_row("grader: whole reference grade", "every check, notebooks in grading mode", f"{grader:.1f} s", "",
                  style="bold")
    console.print(table)
    return {"notebook2_s": rows[0][2], "notebook3_s": rows[1][2], "naive_s": naive, "grader_s": grader,
            "naive_over_grader": naive / grader, "all_ran": all(r[3] == "ran" for r in rows)}
