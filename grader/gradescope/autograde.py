"""``python -m grader autograde``: grade one submission into Gradescope's results.json.

What run_autograder calls on Gradescope (docs/gradescope.md). The grade is ``grade.main``'s, in a
root-only scratch folder; results.json keeps Gradescope's documented top-level fields (score,
execution_time, output, stdout_visibility, tests, leaderboard) and moves our own (checks, metrics,
environment, ...) under ``extra_data``. When no grade comes out (no submission, a grader crash) it
still writes a valid results.json: score 0 and the reason. A grader crash is re-raised afterwards,
so the instructor sees the traceback in Gradescope's stdout log.
"""
from __future__ import annotations

import io
import json
import sys
import tempfile
import time
import traceback
from contextlib import redirect_stdout
from pathlib import Path

from grader import grade
from grader.results import write_json
from grader.rubric import load_rubric

# Gradescope's documented top-level fields that our results.json already fills.
GRADESCOPE_FIELDS = ("score", "execution_time", "tests", "leaderboard")
# Where a failure is reported to the student: one failed test carrying the reason.
FAILURE_TEST = "autograder: grading"


class Tee(io.TextIOBase):
    """Write to the real stdout (Gradescope's log for the instructor) and keep a copy (the reason)."""

    def __init__(self, stream) -> None:
        self.stream, self.copy = stream, io.StringIO()

    def write(self, text: str) -> int:
        self.stream.write(text)
        return self.copy.write(text)

    def flush(self) -> None:
        self.stream.flush()


def summary(data: dict) -> str:
    """The text above the tests on Gradescope: the score, the NME, how to read the rest."""
    nme = (data.get("metrics") or {}).get("nme")
    lines = [f"Score {data['score']:g} / {data['max_score']:g} ({len(data['tests'])} checks)."]
    if nme is not None:
        lines.append(f"NME on the hidden test set: {100 * nme:.2f} % of the inter-ocular distance (lower is better).")
    if data.get("manual_review"):
        lines.append(f"Read by an instructor later: {', '.join(data['manual_review'])}.")
    lines.append("Each check below says what was found and, when it failed, how to fix it.")
    return "\n".join(lines)


def gradescope_results(data: dict) -> dict:
    """Our results.json -> Gradescope's: documented fields on top, everything else in extra_data."""
    extra = {key: value for key, value in data.items() if key not in GRADESCOPE_FIELDS}
    return {**{key: data[key] for key in GRADESCOPE_FIELDS}, "output": summary(data),
            "stdout_visibility": "hidden", "extra_data": extra}


def failure_results(reason: str, max_score: float, seconds: float, details: dict) -> dict:
    """A results.json for a grade that did not happen: score 0, the reason shown to the student."""
    text = f"The autograder could not grade this submission: {reason}"
    return {"score": 0.0, "execution_time": round(seconds, 2), "output": text, "stdout_visibility": "hidden",
            "tests": [{"name": FAILURE_TEST, "score": 0.0, "max_score": max_score, "status": "failed",
                       "output": text, "visibility": "visible"}],
            "extra_data": {"error": reason, **details}}


def rubric_points(rubric: Path | None) -> float:
    try:
        return load_rubric(rubric).max_score
    except (OSError, ValueError):
        return 0.0


def main(*, submission: Path, results: Path, rubric: Path | None = None, data_dir: Path | None = None,
         name: str = "submission") -> int:
    """Grade ``submission`` and write Gradescope's results.json to ``results``; return an exit status."""
    started = time.monotonic()
    tee = Tee(sys.stdout)
    with tempfile.TemporaryDirectory(prefix="fkp-autograde-") as reports:
        try:
            with redirect_stdout(tee):
                status = grade.main(submission=Path(submission), out=Path(reports), name=name, rubric=rubric,
                                    data_dir=data_dir)
        except BaseException as exc:
            seconds = time.monotonic() - started
            reason = f"the grader failed ({type(exc).__name__}: {exc}); this is not your fault, tell your instructor."
            write_json(Path(results), failure_results(reason, rubric_points(rubric), seconds,
                                                      {"traceback": traceback.format_exc()[-8000:]}))
            raise
        report = Path(reports) / name / "results.json"
        if status == 0 and report.is_file():
            write_json(Path(results), gradescope_results(json.loads(report.read_text())))
            return 0
    said = " ".join(tee.copy.getvalue().split())  # the console wraps long lines
    reason = said.split("grade: ", 1)[-1] or f"grading stopped with status {status} and no message."
    write_json(Path(results), failure_results(reason, rubric_points(rubric), time.monotonic() - started,
                                              {"exit_status": status}))
    return 0
