"""The check framework: a check is a small function registered with its id, title and dependencies.

``run(ctx, cfg) -> Outcome``; the runner turns an Outcome into a CheckResult with points from the
rubric, skips checks whose dependencies did not pass, and contains the student's failures.
A grader bug (an exception in a check itself) is not a student error: it propagates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader.sandbox.spawn import ProbeResult


@dataclass
class Outcome:
    """What a check decided. ``fraction`` of the points (1 = all); status derives from it unless given."""

    fraction: float
    message: str
    hint: str = ""
    details: dict = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)
    status: str | None = None
    manual_review: bool = False


PROBES = "probes"


@dataclass(frozen=True)
class Check:
    id: str
    name: str
    requires: tuple[str, ...]
    run: Callable
    unit: str = PROBES
    """Checks of one unit run in rubric order in one thread: ``probes`` share the submission's sandbox;
    another unit (a notebook, the brief training) starts processes of its own and may run beside it."""
    after: tuple[str, ...] = ()
    """Checks to wait for without needing them to pass (a notebook waits for the import of models.py:
    when that hangs, the notebook that imports it is not run to hang again)."""


REGISTRY: dict[str, Check] = {}


def check(check_id: str, name: str, requires: tuple[str, ...] = (), unit: str = PROBES, after: tuple[str, ...] = ()):
    """Register a check function under its rubric id."""

    def register(fn: Callable) -> Callable:
        if check_id in REGISTRY:
            raise RuntimeError(f"check {check_id} registered twice")
        REGISTRY[check_id] = Check(check_id, name, requires, fn, unit, after)
        return fn

    return register


def passed(message: str, **kwargs) -> Outcome:
    return Outcome(1.0, message, **kwargs)


def failed(message: str, hint: str, **kwargs) -> Outcome:
    return Outcome(0.0, message, hint, **kwargs)


def probe_failure(result: ProbeResult, doing: str, hint: str = "") -> Outcome:
    """Turn a failed probe (student code raised, hung or crashed) into an Outcome that points at their line."""
    error = result.error
    details = {"error": error, "printed": result.log_tail}
    if result.status == "timeout":
        return Outcome(0.0, f"{doing} did not finish: {error.get('message')}.",
                       hint or "Look for an infinite loop or very slow code (e.g. a huge Linear layer).",
                       details, status="timeout")
    if result.status == "crash":
        cause = ("Your code started too many processes or threads (a fork or thread bomb?): start few, and wait "
                 "for them to end." if error.get("type") == "ProcessLimit" else
                 "Your code ended the process (sys.exit, os._exit, a crash) or used too much memory.")
        return Outcome(0.0, f"{doing}: {error.get('message')}.", hint or cause, details, status="error")
    where = f"{error.get('file')}, line {error.get('line')}: " if error.get("file") else ""
    code = f"\n    {error['code']}" if error.get("code") else ""
    return Outcome(0.0, f"{doing} raised {error.get('type')}: {where}{error.get('message')}{code}",
                   hint or "Read the traceback below; the last line of your code in it is where to look.",
                   details, status="error")


@dataclass
class Context:
    """What every check can use; ``state`` carries values between checks (e.g. loaded weights)."""

    submission: "Submission"  # noqa: F821
    sandbox: "Sandbox"  # noqa: F821
    rubric: "Rubric"  # noqa: F821
    data_dir: Path
    report_dir: Path
    seed: int
    progress: Callable[[int, int], None] = lambda done, total: None
    state: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    own_sandbox: Callable[[], "Sandbox"] | None = None  # noqa: F821
    """A sandbox of its own for a unit that runs beside the probes (None: share ``sandbox``)."""
    test_set: "TestSet | None" = None  # noqa: F821
    """The faces evaluation scores on (grader.data.testset; None: the course's test set in ``data_dir``)."""

    @property
    def test_dir(self) -> Path:
        """The folder in the course layout whose ``test`` split evaluation reads."""
        return self.test_set.root if self.test_set is not None else self.data_dir

    def unit_sandbox(self) -> "Sandbox":  # noqa: F821
        """The sandbox for a check outside the probes unit: its own when units run side by side."""
        return self.own_sandbox() if self.own_sandbox is not None else self.sandbox

    def timeout(self, cfg) -> float:
        return float(cfg.get("timeout_s", self.rubric.probe_timeout_s))

    def artifact(self, name: str) -> Path:
        """A path in the report folder for a picture or file this check produces."""
        path = self.report_dir / "artifacts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def ref(self, path: Path) -> str:
        """How results.json names a file of the report folder."""
        return str(Path(path).relative_to(self.report_dir))
