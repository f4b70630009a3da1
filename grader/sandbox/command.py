"""Run a whole command (a notebook executor and its kernel) under the sandbox's limits and user."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.files import hand_to
from grader.sandbox.limits import LOG_TAIL_CHARS, Limits, child_setup, sandbox_user


@dataclass
class CommandResult:
    """A sandboxed command's end: exit status (negative: signal), whether the wall timeout hit, output tail."""

    returncode: int | None
    timed_out: bool
    output_tail: str
    duration_s: float


def run_command(argv: list[str], *, cwd: Path, timeout: float, limits: Limits = Limits(),
                env: dict[str, str] | None = None, isolate_network: bool = True) -> CommandResult:
    """Run a whole command (e.g. a notebook executor and its kernel) under the sandbox's limits and user.

    ``cwd`` must already hold what the command needs; when a sandbox user is set it is chowned to it.
    """
    user = sandbox_user()
    hand_to(user, Path(cwd))
    base = {"PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin", "HOME": str(cwd),
            "TMPDIR": str(cwd), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
            "OMP_NUM_THREADS": str(limits.threads), "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(cwd),
            # pip in a notebook must not install into the grader's environment (from a local wheel folder)
            "PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""}
    base.update(env or {})
    started = time.monotonic()
    # An unnamed file of the grader's: nothing the command does to ``cwd`` can redirect what is read back.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(argv, cwd=cwd, env=base, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: child_setup(limits, user, isolate_network))
        try:
            code, timed_out = proc.wait(timeout=timeout), False
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            code = proc.wait()
        log.seek(max(0, log.seek(0, os.SEEK_END) - 4 * LOG_TAIL_CHARS))
        text = log.read().decode("utf-8", "replace")
    return CommandResult(code, timed_out, text[-LOG_TAIL_CHARS:], time.monotonic() - started)
