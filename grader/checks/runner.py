"""Run the rubric's checks in order against one sandbox, turning outcomes into CheckResults."""
from __future__ import annotations

import time
from typing import Callable

from grader.checks import REGISTRY, Context, Outcome
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


def run_checks(ctx: Context, *, on_start: Callable[[str, str], None] = lambda i, n: None,
               on_done: Callable[[CheckResult], None] = lambda r: None) -> list[CheckResult]:
    results: dict[str, CheckResult] = {}
    for cfg in ctx.rubric.checks:
        check = REGISTRY.get(cfg.id)
        if check is None:
            raise KeyError(f"{ctx.rubric.path}: unknown check id {cfg.id!r}; known: {', '.join(sorted(REGISTRY))}")
        blocking = [r for r in check.requires if r in results and results[r].status not in COUNTS_AS_PASSED]
        on_start(check.id, check.name)
        if blocking:
            result = skipped(check, cfg, f"Skipped: it needs {', '.join(blocking)} to pass first.")
        else:
            started = time.monotonic()
            result = to_result(check, cfg, check.run(ctx, cfg), time.monotonic() - started)
        results[check.id] = result
        on_done(result)
    return list(results.values())
