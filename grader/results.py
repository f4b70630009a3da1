"""Results are data: what one grade run produced, serialised to results.json (schema_version 1).

results.json follows Gradescope's autograder schema (score, execution_time, tests[],
leaderboard[]) and adds ``checks`` (the full CheckResult of each check), ``metrics``,
``manual_review`` and ``environment``. The HTML report and junit.xml are rendered from it.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA_VERSION = 1
STATUSES = ("passed", "partial", "failed", "error", "timeout", "skipped")


@dataclass
class CheckResult:
    """The outcome of one rubric check."""

    id: str
    """Stable id, e.g. ``model.output_shape``."""
    name: str
    """One-line human title."""
    status: str
    """passed | partial | failed (wrong answer) | error (student code raised) | timeout | skipped."""
    score: float
    max_score: float
    message: str
    """What was found, naming the file and what was expected."""
    hint: str = ""
    """How to fix it."""
    details: dict = field(default_factory=dict)
    """Check-specific measurements (shapes, losses, per-group errors, student traceback...)."""
    artifacts: list[str] = field(default_factory=list)
    """Files in the report folder this check produced (pictures, executed notebooks)."""
    duration_s: float = 0.0
    manual_review: bool = False
    """True when an instructor should read this item (e.g. free-text answers)."""


@dataclass
class GradeResult:
    """One submission's grade."""

    submission: str
    score: float
    max_score: float
    checks: list[CheckResult]
    metrics: dict
    environment: dict
    execution_time: float
    seed: int

    def to_json(self) -> dict:
        tests = [{
            "name": f"{c.id}: {c.name}", "score": round(c.score, 4), "max_score": c.max_score,
            "status": "passed" if c.status == "passed" else "failed",
            "output": c.message + (f"\n\nHow to fix: {c.hint}" if c.hint and c.status != "passed" else ""),
            "visibility": "visible",
        } for c in self.checks]
        leaderboard = []
        if self.metrics.get("nme") is not None:
            leaderboard.append({"name": "NME (%)", "value": round(100 * self.metrics["nme"], 3), "order": "asc"})
        return {
            "schema_version": SCHEMA_VERSION,
            "submission": self.submission,
            "score": round(self.score, 4),
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 2),
            "tests": tests,
            "leaderboard": leaderboard,
            "checks": [asdict(c) for c in self.checks],
            "metrics": self.metrics,
            "manual_review": [c.id for c in self.checks if c.manual_review],
            "environment": self.environment,
            "seed": self.seed,
        }


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see either the old or the whole new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=float) + "\n")


def publish_folder(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` with two renames on one filesystem: readers never see a
    half-written folder at ``target``."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}-{os.urandom(4).hex()}")
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
