"""``python -m bench [NAME...]``: benchmarks that print timings (``make bench``).

Each benchmark is a function registered by name (``bench.common.benchmark``); it prints what it
measured and returns a dict of numbers, which the summary at the end lists. Without names every
default benchmark runs, in this order:

- ``batch``: six copies of the trained test fixture graded with --jobs 1 and then --jobs 2;
- ``inference``: the reference net on the 770 test images, in the sandbox;
- ``units``: a whole reference grade with its units of checks one at a time and side by side;
- ``heavy``: two generated heavy submissions (44 M and 5 M parameters) graded without notebooks;
- ``compute``: the model's own compute in a grade, timed alone, and the grade's overhead over it;
- ``naive``: ``jupyter nbconvert --execute`` of the reference's notebooks 2 and 3 vs the grader.

``grade`` (one whole reference grade, check by check) runs only when named. See docs/bench.md.
"""
from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

from rich.console import Console

from bench import basic, compute, heavy, naive, units  # noqa: F401  (importing registers the benchmarks)
from bench.common import BENCHMARKS, DEFAULT, load_average
from bench.report import summary

__all__ = ["BENCHMARKS", "ORDER", "main"]

# the default run's order: the quick ones first, then the grades each later benchmark reuses (SHARED)
ORDER = [n for n in ("batch", "inference", "units", "heavy", "compute", "naive") if n in DEFAULT]
ORDER += [n for n in DEFAULT if n not in ORDER]


def main(*, which: list[str] | None = None, data_dir: Path = Path("data/facial-keypoints"),
         only: set[str] | None = None) -> int:
    console = Console(width=None if sys.stdout.isatty() else 140)  # logs keep whole table rows
    names = which or list(ORDER)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        console.print(f"[red]bench:[/] unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    collected, seconds, failed = {}, {}, False
    for name in names:
        console.rule(f"bench {name} (load average {load_average()})")
        started = time.monotonic()
        try:
            collected[name] = BENCHMARKS[name](console, Path(data_dir).resolve(), only=only)
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            console.print(f"[red]bench {name} failed:[/]\n{traceback.format_exc()}")
            collected[name], failed = f"failed: {type(exc).__name__}: {exc}", True
        seconds[name] = time.monotonic() - started
    console.print(summary(collected, seconds))
    console.print(f"load average at the end: {load_average()}")
    return 1 if failed else 0
