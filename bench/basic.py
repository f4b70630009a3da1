"""The first benchmarks: ``batch`` (six trained fixtures with --jobs 1 and 2), ``inference`` (the
reference net on the 770 test images in the sandbox) and ``grade`` (one whole reference grade,
check by check; not run by default: ``units`` grades the reference that way and more)."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.common import FIXTURE_WEIGHTS, REFERENCE, SHARED, TRAINED_FIXTURE, benchmark, grade_once
from bench.report import check_times


@benchmark("batch")
def bench_batch(console: Console, data_dir: Path, only: set[str] | None = None, copies: int = 6) -> dict:
    """Wall time of grading ``copies`` trained submissions with 1 and with 2 parallel jobs, each twice in
    the order 1, 2, 2, 1 (a drift of the machine's load weighs on both alike); the best of each counts."""
    from grader.batch import run as batch

    if not FIXTURE_WEIGHTS.is_file():
        raise FileNotFoundError(f"{FIXTURE_WEIGHTS}: the trained fixture's weights are missing (git checkout them)")
    timings: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="fkp-bench-") as scratch:
        submissions = Path(scratch) / "submissions"
        for i in range(1, copies + 1):
            shutil.copytree(TRAINED_FIXTURE, submissions / f"trained_{i}",
                            ignore=shutil.ignore_patterns("__pycache__"))
        for run, jobs in enumerate((1, 2, 2, 1)):
            console.print(f"bench batch: grading {copies} trained submissions with --jobs {jobs} ...")
            out = Path(scratch) / f"out-{run}"
            started = time.monotonic()
            code = batch.main(submissions=submissions, out=out, jobs=jobs, data_dir=data_dir, only=only,
                              device="cpu", quiet=True)
            timings[jobs].append(time.monotonic() - started)
            gradebook = (out / "gradebook.csv").read_text()
            if code != 0 or gradebook.count(",graded,") != copies:
                raise RuntimeError(f"bench batch: --jobs {jobs} did not grade every copy:\n{gradebook}")
    subset = f" (checks: {','.join(sorted(only))})" if only else ""
    table = Table(title=f"batch: {copies} trained submissions{subset}")
    for column in ("jobs", "runs", "best wall time", "per submission"):
        table.add_column(column, justify="right")
    best = {jobs: min(runs) for jobs, runs in timings.items()}
    for jobs, runs in timings.items():
        table.add_row(str(jobs), ", ".join(f"{s:.1f} s" for s in runs), f"{best[jobs]:.1f} s",
                      f"{best[jobs] / copies:.1f} s")
    console.print(table)
    ratio = best[1] / best[2]
    console.print(f"speed-up of --jobs 2 over --jobs 1 (best runs): {ratio:.2f}x")
    return {"jobs1_s": best[1], "jobs2_s": best[2], "speedup": ratio}


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


@benchmark("grade", default=False)
def bench_grade(console: Console, data_dir: Path, only: set[str] | None = None) -> dict:
    """Wall time of one whole grade of the reference submission, check by check."""
    with tempfile.TemporaryDirectory(prefix="fkp-bench-") as scratch:
        seconds, _, results, _ = grade_once(REFERENCE, Path(scratch), data_dir, only=only)
    if only is None:
        SHARED["reference_grade_s"]["default"] = seconds
    workers = results["environment"].get("workers")
    console.print(check_times(f"grade: reference submission, {workers} unit(s) side by side",
                              {"seconds": results}, {"seconds": seconds}))
    return {"grade_s": seconds, "workers": workers}
