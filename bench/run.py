"""``python -m bench [NAME...]``: benchmarks that print timings (``make bench``).

Each benchmark is a function registered in BENCHMARKS by name; it prints what it measured and
returns a dict of numbers. ``batch``: four copies of the trained test fixture graded with
--jobs 1 and then --jobs 2, wall time of each and their ratio; ``inference``: the reference net
on the 770 test images; ``grade``: one whole grade of the reference submission.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]  # the project root
TRAINED_FIXTURE = ROOT / "tests" / "submissions" / "small_trained"
FIXTURE_WEIGHTS = TRAINED_FIXTURE / "student" / "saved_models" / "keypoints_model.pt"

BENCHMARKS: dict[str, Callable[..., dict]] = {}


def benchmark(name: str):
    def register(fn):
        BENCHMARKS[name] = fn
        return fn
    return register


@benchmark("batch")
def bench_batch(console: Console, data_dir: Path, only: set[str] | None = None, copies: int = 4) -> dict:
    """Wall time of grading ``copies`` trained submissions with 1 and with 2 parallel jobs."""
    from grader.batch import run as batch

    if not FIXTURE_WEIGHTS.is_file():
        raise FileNotFoundError(f"{FIXTURE_WEIGHTS}: the trained fixture's weights are missing (git checkout them)")
    timings = {}
    with tempfile.TemporaryDirectory(prefix="fkp-bench-") as scratch:
        submissions = Path(scratch) / "submissions"
        for i in range(1, copies + 1):
            shutil.copytree(TRAINED_FIXTURE, submissions / f"trained_{i}", ignore=shutil.ignore_patterns("__pycache__"))
        for jobs in (1, 2):
            console.print(f"bench batch: grading {copies} trained submissions with --jobs {jobs} ...")
            started = time.monotonic()
            code = batch.main(submissions=submissions, out=Path(scratch) / f"out-jobs{jobs}", jobs=jobs,
                              data_dir=data_dir, only=only, device="cpu", quiet=True)
            timings[jobs] = time.monotonic() - started
            gradebook = (Path(scratch) / f"out-jobs{jobs}" / "gradebook.csv").read_text()
            if code != 0 or gradebook.count(",graded,") != copies:
                raise RuntimeError(f"bench batch: --jobs {jobs} did not grade every copy:\n{gradebook}")
    table = Table(title=f"batch: {copies} trained submissions" + (f" (checks: {','.join(sorted(only))})" if only else ""))
    for column in ("jobs", "wall time", "per submission"):
        table.add_column(column, justify="right")
    for jobs, seconds in timings.items():
        table.add_row(str(jobs), f"{seconds:.1f} s", f"{seconds / copies:.1f} s")
    console.print(table)
    ratio = timings[1] / timings[2]
    console.print(f"speed-up of --jobs 2 over --jobs 1: {ratio:.2f}x")
    return {"jobs1_s": timings[1], "jobs2_s": timings[2], "speedup": ratio}


REFERENCE = ROOT / "tests" / "submissions" / "reference"


@benchmark("inference")
def bench_inference(console: Console, data_dir: Path, only: set[str] | None = None) -> dict:
    """The reference net on the 770 preprocessed test images, in the grader's sandbox (one probe)."""
    from grader.data import dataset
    from grader.sandbox.spawn import Sandbox
    from grader.submission.layout import STARTER_FILES

    images = dataset.load_eval_set(data_dir, "test").images
    with Sandbox(REFERENCE / "student", extra_files=STARTER_FILES) as sandbox:
        loaded = sandbox.call("load_weights", {"path": "student/saved_models/keypoints_model.pt"}, timeout=120)
        if not loaded.ok:
            raise RuntimeError(f"bench inference: the reference weights did not load: {loaded.error}")
        started = time.monotonic()
        result = sandbox.call("predict", {"images": sandbox.put_array("bench", images), "output": "bench_out"},
                              timeout=600)
        seconds = time.monotonic() - started
    if not result.ok:
        raise RuntimeError(f"bench inference: predict failed: {result.error}")
    console.print(f"inference: reference net on {len(images)} test images in {seconds:.2f} s "
                  f"({1000 * seconds / len(images):.1f} ms per image, {sandbox.limits.threads} thread)")
    return {"inference_s": seconds, "images": len(images)}


@benchmark("grade")
def bench_grade(console: Console, data_dir: Path, only: set[str] | None = None) -> dict:
    """Wall time of one whole grade of the reference submission, check by check."""
    import json

    from grader import grade

    with tempfile.TemporaryDirectory(prefix="fkp-bench-") as scratch:
        started = time.monotonic()
        grade.main(submission=REFERENCE, out=Path(scratch), data_dir=data_dir, only=only, device="cpu", quiet=True)
        seconds = time.monotonic() - started
        results = json.loads((Path(scratch) / "reference" / "results.json").read_text())
    table = Table(title=f"grade: reference submission, {seconds:.1f} s in all")
    table.add_column("check")
    table.add_column("seconds", justify="right")
    for check in results["checks"]:
        table.add_row(check["id"], f"{check['duration_s']:.1f}")
    console.print(table)
    return {"grade_s": seconds}


def main(*, which: list[str] | None = None, data_dir: Path = Path("data/facial-keypoints"),
         only: set[str] | None = None) -> int:
    console = Console()
    names = which or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        console.print(f"[red]bench:[/] unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    for name in names:
        BENCHMARKS[name](console, Path(data_dir).resolve(), only=only)
    return 0
