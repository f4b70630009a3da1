"""``python -m grader report DIR``: render report.html and junit.xml again from DIR/results.json alone
(after a rubric-free edit such as merged manual scores, or to pick up a newer report template)."""
from __future__ import annotations

import json
from pathlib import Path

from grader.report import html, junit


def main(*, report_dir: Path) -> int:
    results_path = Path(report_dir) / "results.json"
    if not results_path.is_file():
        print(f"report: {results_path} not found; give a folder written by `python -m grader grade`.")
        return 2
    results = json.loads(results_path.read_text())
    junit.write(results, Path(report_dir) / "junit.xml")
    html.write(results, Path(report_dir), Path(report_dir) / "report.html")
    print(f"wrote {Path(report_dir) / 'report.html'} and junit.xml")
    return 0
