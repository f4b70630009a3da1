"""Merge an instructor's scores for manual-review items (e.g. notebook answers) into results.json.

The CSV has the columns ``submission, check, points, comment``; rows for other submissions are
ignored, so one file can serve a whole class. Every row is validated (a manual-review check of this
submission, 0 <= points <= its max_score, at most one row per check) before anything changes.
"""
from __future__ import annotations

import copy
import csv
import getpass
import hashlib
import json
import math
from datetime import datetime, timezone
from pathlib import Path

COLUMNS = ("submission", "check", "points", "comment")


class ManualScoresError(ValueError):
    """The CSV cannot be merged; the message names the file, the line and the fix."""


def read_rows(scores_csv: Path, submission: str) -> list[dict]:
    """This submission's rows as {line, check, points, comment}; raises ManualScoresError on bad input."""
    with open(scores_csv, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        if set(COLUMNS) - set(header):
            raise ManualScoresError(f"{scores_csv}: the header must name the columns {', '.join(COLUMNS)}; "
                                    f"found {', '.join(header) or 'nothing'}.")
        rows = []
        for raw in reader:
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            if row["submission"] != submission:
                continue
            try:
                points = float(row["points"])
            except ValueError:
                raise ManualScoresError(f"{scores_csv}, line {reader.line_num}: points {row['points']!r} is not a "
                                        "number.") from None
            rows.append({"line": reader.line_num, "check": row["check"], "points": points, "comment": row["comment"]})
    return rows


def validate(rows: list[dict], checks: dict[str, dict], scores_csv: Path) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        where = f"{scores_csv}, line {row['line']}"
        item = checks.get(row["check"])
        if item is None:
            raise ManualScoresError(f"{where}: unknown check {row['check']!r}; this submission's checks are "
                                    f"{', '.join(sorted(checks))}.")
        if not item.get("manual_review"):
            raise ManualScoresError(f"{where}: {row['check']} is graded automatically, not a manual-review item.")
        if not (math.isfinite(row["points"]) and 0 <= row["points"] <= float(item["max_score"])):
            raise ManualScoresError(f"{where}: {row['points']:g} points for {row['check']}; it must be between 0 "
                                    f"and {float(item['max_score']):g}.")
        if row["check"] in seen:
            raise ManualScoresError(f"{where}: {row['check']} was already scored on line {seen[row['check']]}.")
        seen[row["check"]] = row["line"]


def status_for(points: float, max_score: float) -> str:
    return "passed" if points >= max_score else "partial" if points > 0 else "failed"


def merge_manual(results: dict, scores_csv: Path) -> dict:
    """A copy of ``results`` with the instructor's points for manual-review items and the total recomputed."""
    scores_csv = Path(scores_csv)
    merged = copy.deepcopy(results)
    checks = {c["id"]: c for c in merged.get("checks", [])}
    rows = read_rows(scores_csv, merged["submission"])
    validate(rows, checks, scores_csv)
    tests = {t["name"].split(":", 1)[0]: t for t in merged.get("tests", [])}
    items = []
    for row in rows:
        item = checks[row["check"]]
        previous = item["score"]
        item["score"] = row["points"]
        item["status"] = status_for(row["points"], float(item["max_score"]))
        item.setdefault("details", {})["manual"] = {"points": row["points"], "comment": row["comment"],
                                                    "automatic_score": previous}
        if row["check"] in tests:
            test = tests[row["check"]]
            test["score"] = row["points"]
            test["status"] = "passed" if item["status"] == "passed" else "failed"
            if row["comment"]:
                test["output"] = f"{test.get('output', '')}\n\nInstructor: {row['comment']}".strip()
        items.append({"check": row["check"], "points": row["points"], "automatic_score": previous,
                      "comment": row["comment"]})
    merged["score"] = round(sum(float(c["score"]) for c in merged.get("checks", [])), 4)
    reviewed = {i["check"] for i in items} | set(merged.get("manual_merge", {}).get("reviewed", []))
    merged["manual_review"] = [c for c in results.get("manual_review", []) if c not in reviewed]
    merged["manual_merge"] = {
        "csv": str(scores_csv), "csv_sha256": hashlib.sha256(scores_csv.read_bytes()).hexdigest(),
        "merged_by": getpass.getuser(), "merged_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "items": items, "reviewed": sorted(reviewed)}
    return merged


def main(*, scores_csv: Path, out: Path) -> int:
    """Merge the CSV into every ``out/<submission>/results.json`` it names, then re-render their reports."""
    from grader.report import html, junit
    from grader.results import write_json

    scores_csv = Path(scores_csv)
    if not scores_csv.is_file():
        print(f"grade --manual: {scores_csv} not found; give a CSV with columns {', '.join(COLUMNS)}.")
        return 2
    with open(scores_csv, newline="", encoding="utf-8-sig") as handle:
        names = sorted({(row.get("submission") or "").strip() for row in csv.DictReader(handle)} - {""})
    status = 0
    for name in names:
        report_dir = Path(out) / name
        results_path = report_dir / "results.json"
        if not results_path.is_file():
            print(f"grade --manual: {scores_csv} names {name!r}, but {results_path} does not exist; grade it first.")
            status = 2
            continue
        try:
            merged = merge_manual(json.loads(results_path.read_text()), scores_csv)
        except ManualScoresError as exc:
            print(f"grade --manual: {exc}")
            status = 2
            continue
        write_json(results_path, merged)
        junit.write(merged, report_dir / "junit.xml")
        html.write(merged, report_dir, report_dir / "report.html")
        print(f"{name}: manual scores merged, score now {merged['score']:g} / {merged['max_score']:g}")
    return status
