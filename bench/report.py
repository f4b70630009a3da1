"""Rich tables the benchmarks print: check times side by side, and the summary of a run."""
from __future__ import annotations

from rich.table import Table


def secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def check_times(title: str, runs: dict[str, dict], walls: dict[str, float], status: bool = False,
                cpus: dict[str, float] | None = None) -> Table:
    """One row per check (the first run's order), one column per run of results.json; then the sum
    of the checks' own times, each grade's wall time and (given) its CPU time."""
    table = Table(title=title)
    table.add_column("check")
    for label in runs:
        table.add_column(label, justify="right")
        if status:
            table.add_column("status")
    by_id = {label: {c["id"]: c for c in results["checks"]} for label, results in runs.items()}
    first = next(iter(runs.values()))
    for check_id in [c["id"] for c in first["checks"]]:
        row = [check_id]
        for label in runs:
            check = by_id[label].get(check_id)
            row.append(secs(check["duration_s"]) if check else "-")
            if status:
                row.append(check["status"] if check else "-")
        table.add_row(*row)
    table.add_section()
    sums, totals = ["sum of checks"], ["grade wall time"]
    for label, results in runs.items():
        sums.append(secs(sum(c["duration_s"] for c in results["checks"])))
        totals.append(secs(walls[label]))
        if status:
            sums.append("")
            totals.append("")
    table.add_row(*sums)
    table.add_row(*totals, style="bold")
    if cpus:
        table.add_row("CPU time, all its processes", *[x for label in runs
                                                      for x in ([secs(cpus[label])] + ([""] if status else []))])
    return table


def numbers(measured: dict) -> str:
    """``{"a_s": 1.234, "n": 3}`` -> ``a_s 1.23, n 3``."""
    parts = []
    for key, value in measured.items():
        if isinstance(value, float):
            value = f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
        parts.append(f"{key} {value}")
    return ", ".join(parts)


def summary(collected: dict[str, dict | str], seconds: dict[str, float]) -> Table:
    """One row per benchmark run: its wall time and the numbers it returned (or why it failed)."""
    table = Table(title="bench summary")
    table.add_column("benchmark")
    table.add_column("took", justify="right")
    table.add_column("measured numbers")
    for name, measured in collected.items():
        text = numbers(measured) if isinstance(measured, dict) else f"[red]{measured}[/]"
        table.add_row(name, secs(seconds[name]), text)
    return table
