"""Run the rubric's checks, turning outcomes into CheckResults.

Checks fall into units (``Check.unit``): the probes share the submission's sandbox and run in
rubric order; a notebook or the brief training starts processes of its own. With ``workers`` > 1
the units run side by side in that many threads, the longest-budget units first, each check still
waiting for the checks it requires; every student process keeps one torch thread, so the results
are the same as in rubric order, one at a time. Results always come back in rubric order.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from grader.checks import REGISTRY, Context, Outcome
from grader.checks.base import PROBES
from grader.results import CheckResult

COUNTS_AS_PASSED = ("passed", "partial")


def to_result(check, cfg, outcome: Outcome, duration: float) -> CheckResult:
    fraction = min(1.0, max(0.0, float(outcome.fraction)))
    status = outcome.status or ("passed" if fraction >= 1 else "partial" if fraction > 0 else "failed")
    if status in ("error", "timeout", "skipped"):
        fraction = 0.0
    return CheckResult(check.id, check.name, status, round(fraction * cfg.points, 2), cfg.points, outcome.message,
                       outcome.hint, outcome.details, outcome.artifacts, round(duration, 3), outcome.manual_review)


def skipped(check, cfg, reason: str) -> CheckResult:
    return CheckResult(check.id, check.name, "skipped", 0.0, cfg.points, reason,
                       "Fix the check it depends on first; this one runs then.")


def registered(ctx: Context) -> list[tuple]:
    """(check, cfg) in rubric order; an unknown id is the rubric's fault, said loudly."""
    found = []
    for cfg in ctx.rubric.checks:
        check = REGISTRY.get(cfg.id)
        if check is None:
            raise KeyError(f"{ctx.rubric.path}: unknown check id {cfg.id!r}; known: {', '.join(sorted(REGISTRY))}")
        found.append((check, cfg))
    return found


class Schedule:
    """The results so far; each check waits for the checks it requires (run by any unit)."""

    def __init__(self, ctx: Context, plan: list[tuple], on_start, on_done):
        self.ctx, self.on_start, self.on_done = ctx, on_start, on_done
        self.results: dict[str, CheckResult] = {}
        self.finished = {check.id: threading.Event() for check, _ in plan}
        self.order = {check.id: index for index, (check, _) in enumerate(plan)}
        self.lock = threading.Lock()

    def run(self, check, cfg) -> None:
        """Run one check once the checks it requires that come before it in the rubric have finished
        (only the probes are required by other units, and they always start first: no deadlock)."""
        earlier = [r for r in check.requires if self.order.get(r, len(self.order)) < self.order[check.id]]
        for need in earlier + [a for a in check.after if self.order.get(a, len(self.order)) < self.order[check.id]]:
            self.finished[need].wait()
        blocking = [r for r in earlier if r not in self.results or self.results[r].status not in COUNTS_AS_PASSED]
        try:
            with self.lock:
                self.on_start(check.id, check.name)
            if blocking:
                result = skipped(check, cfg, f"Skipped: it needs {', '.join(blocking)} to pass first.")
            else:
                started = time.monotonic()
                result = to_result(check, cfg, check.run(self.ctx, cfg), time.monotonic() - started)
            with self.lock:
                self.results[check.id] = result
                self.on_done(result)
        finally:  # a grader bug still releases the checks waiting for this one (they are skipped)
            self.finished[check.id].set()

    def run_unit(self, checks: list[tuple]) -> None:
        for check, cfg in checks:
            self.run(check, cfg)


def units_of(plan: list[tuple], ctx: Context) -> list[list[tuple]]:
    """The probes first, then the other units, the largest time budget first (they take longest)."""
    units: dict[str, list[tuple]] = {}
    for check, cfg in plan:
        units.setdefault(check.unit, []).append((check, cfg))
    probes = units.pop(PROBES, [])
    budget = lambda unit: max(ctx.timeout(cfg) for _, cfg in unit)  # noqa: E731
    return ([probes] if probes else []) + sorted(units.values(), key=budget, reverse=True)


def run_checks(ctx: Context, *, workers: int = 1, on_start: Callable[[str, str], None] = lambda i, n: None,
               on_done: Callable[[CheckResult], None] = lambda r: None) -> list[CheckResult]:
    plan = registered(ctx)
    schedule = Schedule(ctx, plan, on_start, on_done)
    if workers <= 1:
        schedule.run_unit(plan)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check-unit") as pool:
            for future in [pool.submit(schedule.run_unit, unit) for unit in units_of(plan, ctx)]:
                future.result()  # a grader bug in any unit is raised here, loudly
    return [schedule.results[check.id] for check, _ in plan]
