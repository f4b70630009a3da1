"""Terminal output with rich: one progress bar per grade (checks, and the steps inside long ones)."""
from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

STATUS_STYLE = {"passed": "green", "partial": "yellow", "failed": "red", "error": "red", "timeout": "magenta",
                "skipped": "dim"}


class GradeProgress:
    """A check-level bar and a step-level bar (training steps, images scored)."""

    def __init__(self, console: Console, name: str, n_checks: int):
        self.console = console
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=console, transient=True, disable=console.quiet)
        self.checks = self.bar.add_task(f"grading {name}", total=n_checks)
        self.steps = self.bar.add_task("", total=1, visible=False)

    def __enter__(self) -> "GradeProgress":
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def start(self, check_id: str, name: str) -> None:
        self.bar.update(self.steps, description=f"  {check_id}", completed=0, total=1, visible=False)

    def advance(self, done: int, total: int) -> None:
        self.bar.update(self.steps, completed=done, total=total, visible=True)

    def done(self, result) -> None:
        self.bar.update(self.steps, visible=False)
        self.bar.advance(self.checks)
        style = STATUS_STYLE.get(result.status, "")
        self.console.print(f"[{style}]{result.status:>8}[/] {result.id:<28} {result.score:g}/{result.max_score:g}")


def summary_table(data: dict) -> Table:
    table = Table(title=f"{data['submission']}: {data['score']:g} / {data['max_score']:g}")
    for column in ("check", "status", "points", "message"):
        table.add_column(column, overflow="fold")
    for check in data["checks"]:
        style = STATUS_STYLE.get(check["status"], "")
        table.add_row(check["id"], f"[{style}]{check['status']}[/]", f"{check['score']:g}/{check['max_score']:g}",
                      check["message"][:160])
    return table
