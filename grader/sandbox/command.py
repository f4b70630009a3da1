"""Run a whole command (a notebook executor and its kernel) under the sandbox's limits and user."""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.files import DiskWatch, hand_to, read_tail
from grader.sandbox.limits import Limits, child_setup, process_limit, sandbox_user, student_environment
from grader.sandbox.processes import ProcessGroup


@dataclass
class CommandResult:
    """A sandboxed command's end: exit status (negative: signal), whether the wall timeout hit, output tail."""

    returncode: int | None
    timed_out: bool
    output_tail: str
    duration_s: float
    limit_hit: str = ""
    """Which sandbox limit stopped it, in words (the disk limit, the memory of its processes), or ''."""


def run_command(argv: list[str], *, cwd: Path, timeout: float, limits: Limits = Limits(),
                env: dict[str, str] | None = None, isolate_network: bool = True) -> CommandResult:
    """Run a whole command (e.g. a notebook executor and its kernel) under the sandbox's limits and user.

    ``cwd`` must already hold what the command needs; when a sandbox user is set it is chowned to it.
    """
    user = sandbox_user()
    hand_to(user, Path(cwd))
    base = {**student_environment(limits, home=Path(cwd), tmp=Path(cwd)),
            # pip in a notebook must not install into the grader's environment (from a local wheel folder)
            "PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""}
    group = ProcessGroup(processes=limits.processes, memory_mb=limits.memory_mb)
    base.update(env or {}, **group.environment())
    nproc = process_limit(limits, user)
    disk = DiskWatch(Path(cwd), limits.disk_mb)
    started, timed_out, limit_hit = time.monotonic(), False, ""
    # An unnamed file of the grader's: nothing the command does to ``cwd`` can redirect what is read back.
    with tempfile.TemporaryFile() as log:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=base, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT,
                                    preexec_fn=lambda: child_setup(limits, user, isolate_network, group, nproc))
        except OSError as exc:  # e.g. EAGAIN: no process to spare on this machine or for this user
            group.close()
            return CommandResult(None, False, f"could not start: {exc}", time.monotonic() - started,
                                 f"the command could not start ({type(exc).__name__}: {exc.strerror or exc})")
        try:
            while proc.poll() is None:
                if time.monotonic() - started > timeout:
                    timed_out = True
                    break
                if disk.check():
                    limit_hit = disk.message()
                    break
                time.sleep(0.5)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            code = proc.wait()
            if group.oom_killed():
                limit_hit = f"its processes together used more memory than the limit ({limits.memory_mb} MB)"
            group.close()
        text, _ = read_tail(Path(f"/proc/self/fd/{log.fileno()}"))
    return CommandResult(code, timed_out, text, time.monotonic() - started, limit_hit)
