"""The batch's event log: one JSON object a line in ``events.jsonl``, appended, never rewritten.

Each line goes out in a single ``write`` on a file opened with O_APPEND, so lines from parallel
jobs never interleave, and a batch killed mid-way leaves every event it logged readable.
"""
from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class EventLog:
    """Appends ``{"time", "run", "event", ...}`` lines; ``run`` tells apart the runs that share a log."""

    def __init__(self, path: Path, run: str | None = None):
        self.path = Path(path)
        self.run = run or uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def log(self, event: str, **fields) -> None:
        line = json.dumps({"time": now(), "run": self.run, "event": event, **fields}, default=str) + "\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)


def read_events(path: Path) -> list[dict]:
    """Every complete line of a log (a torn last line from a killed writer is skipped)."""
    events = []
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events
