"""Helpers for tests that grade whole submissions: build variants in tmp dirs, grade, compare goldens."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from grader import grade

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "tests" / "submissions"
GOLDENS = ROOT / "tests" / "goldens"
DATA = ROOT / "data" / "facial-keypoints"
TIMING_KEYS = {"execution_time", "duration_s"}


def grade_folder(submission: Path, out: Path, *, name: str | None = None, only: set[str] | None = None,
                 rubric: Path | None = None, seed: int | None = None, workers: int | None = None) -> dict:
    code = grade.main(submission=submission, out=out, name=name, only=only, rubric=rubric, data_dir=DATA, seed=seed,
                      device="cpu", quiet=True, workers=workers)
    assert code == 0, f"grading {submission} exited {code}"
    return json.loads((out / (name or submission.name) / "results.json").read_text())


def statuses(results: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in results["checks"]}


def copy_submission(name: str, to: Path) -> Path:
    target = to / name
    shutil.copytree(SUBMISSIONS / name, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def without_timings(value):
    """results.json minus wall-clock fields (for comparing two runs)."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def check_golden(outcome: str, results: dict, update: bool) -> None:
    path = GOLDENS / f"{outcome}.json"
    found = statuses(results)
    if not update and not path.exists():
        raise AssertionError(f"{path} is missing: run pytest --update-goldens once and review the new file")
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(found, indent=1) + "\n")
    expected = json.loads(path.read_text())
    assert found == expected, f"{outcome}: statuses differ from {path.name} (run pytest --update-goldens to accept)"
