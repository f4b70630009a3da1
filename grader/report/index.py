"""index.html of a batch, from its rows and its similarity.json: sortable table, NME leaderboard, score
histogram, pass rates, and the pairs flagged as similar work with their evidence side by side.

The page is one self-contained file (inline CSS, SVG and a few lines of JavaScript for sorting):
it opens from a CI artifact or a file share without a server or network.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from grader.batch.gradebook import Row, check_columns
from grader.results import write_atomic

TEMPLATES = Path(__file__).with_name("templates")
HISTOGRAM_BINS = 10


@dataclass(frozen=True)
class PassRate:
    """How the class did on one check (over graded submissions)."""

    id: str
    passed: int
    partial: int
    total: int

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


def histogram(rows: list[Row], bins: int = HISTOGRAM_BINS) -> list[dict]:
    """Graded submissions per score band of max_score (0-10 %, ..., 90-100 %)."""
    counts = [0] * bins
    for row in rows:
        if row.status == "graded" and row.max_score:
            counts[min(bins - 1, int(bins * row.score / row.max_score))] += 1
    width = 100 // bins
    return [{"label": f"{i * width}-{(i + 1) * width} %", "count": c} for i, c in enumerate(counts)]


def pass_rates(rows: list[Row]) -> list[PassRate]:
    graded = [r for r in rows if r.status == "graded"]
    rates = []
    for check_id in check_columns(graded):
        statuses = [r.check_status.get(check_id) for r in graded if check_id in r.check_status]
        rates.append(PassRate(check_id, statuses.count("passed"), statuses.count("partial"), len(statuses)))
    return rates


def report_link(row: Row) -> str:
    """The page a row links to: the student's report, or the grader's log when there is none."""
    return f"{row.name}/report.html" if row.status == "graded" else f"{row.name}/grade.log"


def render(rows: list[Row], similarity: dict | None = None,
           title: str = "Facial Keypoint Detection: batch grades") -> str:
    rows = sorted(rows, key=lambda r: r.name)
    leaderboard = sorted((r for r in rows if r.status == "graded" and r.nme is not None), key=lambda r: r.nme)
    counts = {status: sum(r.status == status for r in rows) for status in ("graded", "error", "timeout")}
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    env.filters["pct"] = lambda v: "" if v is None else f"{100 * v:.2f} %"
    env.filters["num"] = lambda v: "" if v is None else f"{v:g}"
    return env.get_template("index.html.j2").render(
        title=title, rows=rows, checks=check_columns(rows), leaderboard=leaderboard, counts=counts,
        histogram=histogram(rows), rates=pass_rates(rows), link=report_link, similarity=similarity)


def write(rows: list[Row], path: Path, similarity: dict | None = None) -> None:
    write_atomic(path, render(rows, similarity))
