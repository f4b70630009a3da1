"""``units``: one whole grade of the reference with its units of checks one after the other
(``workers=1``) and side by side (``workers=None``: grader/cores.py decides), check by check."""
from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from bench.common import REFERENCE, SHARED, benchmark, differences, grade_once, without_timings
from bench.report import check_times


def compare(serial: dict, parallel: dict) -> list[str]:
    """Where the two results.json differ apart from their timings, naming the check for ``checks[i]``."""
    found = differences(without_timings(serial), without_timings(parallel))
    named = []
    for path in found:
        if path.startswith(".checks["):
            path += f" ({serial['checks'][int(path[len('.checks['):].split(']')[0])]['id']})"
        named.append(path)
    return named


@benchmark("units")
def bench_units(console: Console, data_dir: Path, only: set[str] | None = None) -> dict:
    runs, walls, cpus = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="fkp-bench-") as scratch:
        for label, workers in (("serial", 1), ("parallel", None)):
            console.print(f"bench units: grading the reference with workers={workers} ...")
            walls[label], cpus[label], runs[label], _ = grade_once(REFERENCE, Path(scratch) / label, data_dir,
                                                                   only=only, workers=workers)
    chosen = runs["parallel"]["environment"].get("workers")
    if only is None:
        SHARED["reference_grade_s"]["default"] = walls["parallel"]
    ratio = walls["parallel"] / walls["serial"]
    labels = {"serial": "workers=1", "parallel": f"workers=None ({chosen})"}
    console.print(check_times("units: the reference graded one unit at a time and side by side",
                              {labels[k]: v for k, v in runs.items()}, {labels[k]: v for k, v in walls.items()},
                              cpus={labels[k]: v for k, v in cpus.items()}))
    found = compare(runs["serial"], runs["parallel"])
    console.print(f"parallel / serial wall time: {ratio:.2f} ({walls['serial']:.1f} s -> {walls['parallel']:.1f} s, "
                  f"{chosen} units side by side)")
    if found:
        console.print(f"[red]results.json differ apart from timings[/] at {len(found)} place(s): "
                      + ", ".join(found[:12]))
    else:
        console.print("results.json identical apart from timings (execution_time, duration_s, environment.workers)")
    return {"serial_s": walls["serial"], "parallel_s": walls["parallel"], "ratio": ratio, "workers": chosen,
            "serial_cpu_s": cpus["serial"], "parallel_cpu_s": cpus["parallel"], "identical": not found}
