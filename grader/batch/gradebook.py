"""Batch results are data: one Row per submission, kept beside its report as ``<name>/batch.json``.

The marker is the resume key (what was graded, by which grader and rubric) plus the row, so a
gradebook can be rebuilt from the report folders alone (``merge`` does exactly that).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from grader.results import write_atomic, write_json

MARKER = "batch.json"
MARKER_SCHEMA = 1
ROW_STATUSES = ("graded", "error", "timeout")
FIXED_COLUMNS = ("name", "status", "score", "max_score", "nme")
TRAILING_COLUMNS = ("duplicate_of", "similar_to", "reason")


@dataclass
class Row:
    """One submission's line in the gradebook."""

    name: str
    status: str
    """graded (the grader wrote a report) | error (it could not: bad archive, grader failure) | timeout."""
    reason: str = ""
    """Why there is no report (error, timeout); empty when graded."""
    score: float | None = None
    max_score: float | None = None
    nme: float | None = None
    """Test-set NME as a fraction (None when the check did not run or failed)."""
    checks: dict[str, float] = field(default_factory=dict)
    """Points per check id, in rubric order."""
    check_status: dict[str, str] = field(default_factory=dict)
    """passed | partial | failed | error | timeout | skipped, per check id."""
    source: str = ""
    """What was handed in: the folder's or the zip's file name."""
    content_sha256: str = ""
    """Hash of the graded files (equal for identical submissions under other names)."""
    duplicate_of: list[str] = field(default_factory=list)
    """Other submissions of the gradebook with the same content."""
    similar_to: list[str] = field(default_factory=list)
    """Submissions the similarity pass flagged with this one (evidence in similarity.json; no deduction)."""
    duration_s: float = 0.0
    key: dict = field(default_factory=dict)
    """Resume key: source hash, grader version and source digest, rubric digest, seed, checks."""

    @classmethod
    def from_json(cls, data: dict) -> "Row":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def row_from_results(row: Row, results: dict) -> Row:
    """Fill a graded row's numbers from the grade verb's results.json."""
    row.score, row.max_score = results["score"], results["max_score"]
    row.nme = results.get("metrics", {}).get("nme")
    row.checks = {c["id"]: c["score"] for c in results["checks"]}
    row.check_status = {c["id"]: c["status"] for c in results["checks"]}
    return row


def failure_results(row: Row) -> dict:
    """A results.json for a submission the grader could not grade, so every student gets one (Gradescope shape)."""
    return {"schema_version": 1, "submission": row.name, "score": 0.0, "max_score": row.max_score or 0.0,
            "execution_time": round(row.duration_s, 2), "tests": [], "checks": [], "metrics": {},
            "output": f"Not graded ({row.status}): {row.reason}", "batch_status": row.status}


def write_marker(folder: Path, row: Row) -> None:
    write_json(folder / MARKER, {"schema_version": MARKER_SCHEMA, **asdict(row)})


def read_marker(folder: Path) -> Row | None:
    try:
        data = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return Row.from_json(data) if data.get("schema_version") == MARKER_SCHEMA else None


def mark_duplicates(rows: list[Row]) -> None:
    """Fill ``duplicate_of``: identical content under different names (copied work, or a double upload)."""
    by_hash: dict[str, list[str]] = {}
    for row in rows:
        if row.content_sha256:
            by_hash.setdefault(row.content_sha256, []).append(row.name)
    for row in rows:
        row.duplicate_of = sorted(n for n in by_hash.get(row.content_sha256, []) if n != row.name)


def check_columns(rows: list[Row]) -> list[str]:
    """Check ids in the order the rubric ran them (first appearance across rows)."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row.checks))
    return list(seen)


def gradebook_csv(rows: list[Row]) -> str:
    """name, status, score, max_score, nme, one column per check id (points), duplicate_of, similar_to, reason."""
    ids = check_columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*FIXED_COLUMNS, *ids, *TRAILING_COLUMNS])
    for row in sorted(rows, key=lambda r: r.name):
        numbers = [row.score, row.max_score, None if row.nme is None else round(row.nme, 6)]
        writer.writerow([row.name, row.status, *("" if v is None else v for v in numbers),
                         *(row.checks.get(i, "") for i in ids), ";".join(row.duplicate_of),
                         ";".join(row.similar_to), row.reason])
    return buffer.getvalue()


def write_gradebook(rows: list[Row], path: Path) -> None:
    write_atomic(path, gradebook_csv(rows))
