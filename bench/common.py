"""What the benchmarks share: the registry, the project's paths, one grade run, results compared.

``SHARED`` carries measurements from one benchmark to a later one of the same run (``compute``
reuses the grade times ``heavy`` measured, ``naive`` the whole reference grade of ``units``), so
``python -m bench`` grades nothing twice; a benchmark run alone measures what it needs itself.
"""
from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Callable, NamedTuple

ROOT = Path(__file__).resolve().parents[1]  # the project root
REFERENCE = ROOT / "tests" / "submissions" / "reference"
TRAINED_FIXTURE = ROOT / "tests" / "submissions" / "small_trained"
FIXTURE_WEIGHTS = TRAINED_FIXTURE / "student" / "saved_models" / "keypoints_model.pt"
TIMINGS = ("execution_time", "duration_s")  # keys that differ from run to run by nature

BENCHMARKS: dict[str, Callable[..., dict]] = {}
DEFAULT: list[str] = []  # what ``python -m bench`` runs without names, in this order
SHARED: dict[str, dict] = {"grade_no_notebooks": {}, "reference_grade_s": {}}  # Graded / seconds by name


def benchmark(name: str, default: bool = True):
    """Register a benchmark ``fn(console, data_dir, only=None) -> dict of numbers``."""
    def register(fn):
        BENCHMARKS[name] = fn
        if default:
            DEFAULT.append(name)
        return fn
    return register


def non_notebook_ids(rubric: Path | None = None) -> set[str]:
    """The rubric's check ids, less the notebooks' (which run the student's notebooks)."""
    from grader.rubric import load_rubric

    return {c.id for c in load_rubric(rubric).checks if not c.id.startswith("notebook")}


class Graded(NamedTuple):
    wall_s: float
    cpu_s: float
    """CPU time of the grade's own process and of every process it started (sandboxes, notebook
    kernels): user + system, from getrusage. Unlike the wall time, hardly moved by other work."""
    results: dict
    load: str  # the load average when the grade ended


def cpu_so_far() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def grade_once(submission: Path, out: Path, data_dir: Path, *, only: set[str] | None = None,
               workers: int | None = None, name: str | None = None) -> Graded:
    """One ``grade.main`` (CPU, quiet): its wall time, its CPU time and its results.json."""
    from grader import grade

    started, cpu = time.monotonic(), cpu_so_far()
    code = grade.main(submission=submission, out=out, name=name, data_dir=data_dir, only=only, device="cpu",
                      quiet=True, workers=workers)
    seconds, cpu = time.monotonic() - started, cpu_so_far() - cpu
    results_path = Path(out) / (name or Path(submission).name) / "results.json"
    if code != 0 or not results_path.is_file():
        raise RuntimeError(f"bench: grading {submission} ended with status {code} and no results.json")
    return Graded(seconds, cpu, json.loads(results_path.read_text()), load_average())


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def without_timings(value, path: str = ""):
    """results.json less what differs by nature: every ``execution_time`` and ``duration_s``, and
    ``environment.workers``."""
    if isinstance(value, dict):
        return {k: without_timings(v, f"{path}.{k}") for k, v in value.items()
                if k not in TIMINGS and f"{path}.{k}" != ".environment.workers"}
    if isinstance(value, list):
        return [without_timings(v, path) for v in value]
    return value


def differences(a, b, path: str = "") -> list[str]:
    """Where two JSON values differ, as dotted paths (``checks[3].details.losses``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = [f"{path}.{k}" for k in sorted(set(a) ^ set(b))]
        for key in sorted(set(a) & set(b)):
            found += differences(a[key], b[key], f"{path}.{key}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path or "."]

