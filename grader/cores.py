"""How many cores a grade may use, and how many units of checks it runs side by side on them."""
from __future__ import annotations

import os

MAX_WORKERS = 3  # units that can usefully run at once: the probes, a notebook, the brief training


def available_cores() -> int:
    """Cores this process may use (a container's cpuset or taskset counts, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def workers_for(cores: int, threads: int = 1) -> int:
    """Units side by side for a grade that owns ``cores`` cores: one per core at ``threads`` torch threads,
    plus one while the probe unit spends much of its time in the grader's own process (reading and
    fitting the test images, drawing): measured on the reference with 2 cores, 2 units take 0.67 of
    the serial time, 3 units 0.56. A grade on one core runs its units one after the other."""
    per_thread = max(1, cores // max(1, threads))
    return 1 if per_thread < 2 else min(MAX_WORKERS, per_thread + 1)
