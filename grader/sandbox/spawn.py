"""Run student code in a child process: the only place that spawns it.

The child is ``child/worker.py`` and its probe modules (standalone, copied into a fresh working
directory), which import
the student's code once and serves probes in turn. Requests go in as JSON lines on stdin,
answers come back as JSON lines on a private pipe, so nothing the student prints can
forge an answer; the student's stdout/stderr go to a log file. Arrays cross as ``.npy`` files
in the working directory and are loaded with ``allow_pickle=False``.

Limits: wall timeout per probe (the process group is killed), rlimits on memory (RLIMIT_DATA),
CPU seconds, file size, core dumps and (as another user) processes; a scrubbed environment;
a fresh network namespace where the kernel allows it; optionally another user
(``FKP_SANDBOX_USER``, used in the container). A failure is returned, never raised.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.sandbox.files import DiskWatch, copy_student_folder, hand_to, read_tail
from grader.sandbox.limits import Limits, child_setup, process_limit, sandbox_user, student_environment
from grader.sandbox.processes import ProcessGroup, tasks_of_user

CHILD_SOURCES = Path(__file__).with_name("child")  # worker.py and its fkp_* modules, copied side by side


@dataclass
class ProbeResult:
    """What one probe returned: ``status`` is ok, error (student code raised), timeout or crash."""

    status: str
    value: dict = field(default_factory=dict)
    error: dict = field(default_factory=dict)  # {type, message, traceback, file, line}
    log_tail: str = ""
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"



def name_the_limit(error: dict, limits: Limits) -> dict:
    """An error the sandbox's limits caused says which limit, so the message can name it."""
    text = f"{error.get('type')}: {error.get('message')}"
    limit = ""
    if "MemoryError" in text or "Cannot allocate memory" in text:
        limit = f"the sandbox's memory limit ({limits.memory_mb} MB per process)"
    elif "No space left on device" in text or "Disk quota exceeded" in text:
        limit = "the sandbox's disk limit (the space of its temporary folder)"
    elif "File too large" in text:
        limit = f"the sandbox's file size limit ({limits.file_size_mb} MB per file)"
    elif "can't start new thread" in text or "Resource temporarily unavailable" in text:
        limit = "the sandbox's process limit (processes and threads together)"
    if limit:
        error = {**error, "message": f"{error.get('message')} (it reached {limit})", "limit": limit}
    return error


class Sandbox:
    """One worker process for one submission; restarted automatically after a crash or timeout."""

    def __init__(self, student_dir: Path, *, limits: Limits = Limits(), seed: int = 0, device: str = "cpu",
                 extra_files: dict[str, Path] | None = None, isolate_network: bool = True,
                 model: dict | None = None, input_size: int = 224, extra_sources: dict[str, str] | None = None):
        """``extra_files``: {name: path} copied into the student's folder when the submission lacks them;
        ``model``: {module, class, args, kwargs} of the network to build (the contract's Net() by default);
        ``input_size``: the side of the square image the net takes; ``extra_sources``: {name: text} of
        modules the grader derived from the submission (a network class taken out of a notebook)."""
        self.student_src = Path(student_dir)
        self.limits, self.seed, self.device = limits, seed, device
        self.isolate_network = isolate_network
        self.model, self.input_size = model or {}, int(input_size)
        self.user = sandbox_user()
        # The working folder sits in a folder of its own, which goes with it: what the child writes next to
        # its folder ("../results.json") is removed too. Searchable, not writable, by the sandbox user.
        self.home = Path(tempfile.mkdtemp(prefix="fkp-sandbox-"))
        self.home.chmod(0o711)
        self.root = self.home / "work"
        self.root.mkdir()
        # The log lives apart from the student's folder: there the student's code could swap it for a
        # symlink to a file only the grader may read (the test labels), and the grader would report it.
        self.private = Path(tempfile.mkdtemp(prefix="fkp-sandbox-log-"))
        self.extra_files, self.extra_sources = extra_files or {}, extra_sources or {}
        self.proc: subprocess.Popen | None = None
        self.group: ProcessGroup | None = None
        self.nproc: int | None = None  # RLIMIT_NPROC given to the child, where one is
        self.answers = None
        self.log_path = self.private / "student.log"
        self.log_offset = 0
        self.next_id = 0
        self._prepare()

    # -- set-up ---------------------------------------------------------------------------------
    def _prepare(self) -> None:
        """Copy the worker and the student's files into the working directory (the child's only copy)."""
        for source in sorted(CHILD_SOURCES.glob("*.py")):
            shutil.copy2(source, self.root / source.name)
        self.links_left_out = copy_student_folder(self.student_src, self.root / "student", also_ignore=("data",))
        for name, source in self.extra_files.items():  # course files a submission may leave out
            if not (self.root / "student" / name).exists() and Path(source).is_file():
                shutil.copy2(source, self.root / "student" / name)
        for name, text in self.extra_sources.items():
            if not (self.root / "student" / name).exists():
                (self.root / "student" / name).write_text(text)
        (self.root / "io").mkdir()
        (self.root / "tmp").mkdir()
        hand_to(self.user, self.root)
        self.disk = DiskWatch(self.root, self.limits.disk_mb)

    @property
    def io_dir(self) -> Path:
        """Where arrays for the child are written (readable by it) and its outputs are read from."""
        return self.root / "io"

    def environment(self) -> dict[str, str]:
        return {
            **student_environment(self.limits, home=self.root, tmp=self.root / "tmp"),
            "PYTHONHASHSEED": str(self.seed), "FKP_SEED": str(self.seed), "FKP_DEVICE": self.device,
            "FKP_MODEL": json.dumps(self.model), "FKP_INPUT_SIZE": str(self.input_size),
            **(self.group.environment() if self.group else {}),
        }

    def reached_process_limit(self) -> bool:
        """Whether the child's processes filled their limit: the pids cgroup refused a task, or the user's
        tasks stand at RLIMIT_NPROC (asked before they are stopped)."""
        if self.group is not None and self.group.hit_process_limit():
            return True
        uid = self.user.pw_uid if self.user is not None else os.getuid()
        return self.nproc is not None and tasks_of_user(uid) >= self.nproc

    def start(self) -> None:
        read_answers, write_answers = os.pipe()
        log = open(self.log_path, "ab")
        self.group = ProcessGroup(processes=self.limits.processes, memory_mb=self.limits.memory_mb)
        self.nproc = nproc = process_limit(self.limits, self.user)
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "worker.py", "--answers-fd", str(write_answers)],
            cwd=self.root, env=self.environment(), stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            pass_fds=(write_answers,),
            preexec_fn=lambda: child_setup(self.limits, self.user, self.isolate_network, self.group, nproc),
        )
        log.close()
        os.close(write_answers)
        self.answers = os.fdopen(read_answers, "rb", buffering=0)
        self._buffer = b""

    # -- probes ---------------------------------------------------------------------------------
    def call(self, probe: str, args: dict | None = None, *, timeout: float, on_progress=None) -> ProbeResult:
        """Run one probe; ``on_progress(done, total)`` sees progress events. Never raises for student faults."""
        if self.proc is None or self.proc.poll() is not None:
            self.close_process()
            try:
                self.start()
            except OSError as exc:  # e.g. EAGAIN: the machine or the user has no process to spare
                self.close_process()
                return ProbeResult("crash", error={"type": "Crash", "message": f"the student's process could not "
                                                   f"start ({type(exc).__name__}: {exc.strerror or exc})"})
        self.next_id += 1
        request = {"id": self.next_id, "probe": probe, "args": args or {}}
        started = time.monotonic()
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return self._crashed(started)
        deadline = started + timeout
        while True:
            line = self._read_line(deadline)
            if line is None and self.disk.exceeded:
                self.close_process()
                return ProbeResult("crash", error={"type": "DiskLimit", "message": self.disk.message()},
                                   log_tail=self.log_tail(), duration_s=time.monotonic() - started)
            if line is None:
                if self.proc.poll() is not None:
                    return self._crashed(started)
                full = self.reached_process_limit()
                self.close_process()
                if full:  # the limit is the cause: under load a bomb's parent may never see its fork fail
                    return ProbeResult("crash", error={
                        "type": "ProcessLimit", "limit": "process",
                        "message": f"it reached the sandbox's process limit ({self.limits.processes} processes and "
                                   f"threads together) and gave no answer within {timeout:.0f} s"},
                        log_tail=self.log_tail(), duration_s=time.monotonic() - started)
                return ProbeResult("timeout", error={"type": "Timeout", "message": f"no answer within {timeout:.0f} s"},
                                   log_tail=self.log_tail(), duration_s=time.monotonic() - started)
            message = self._parse(line)
            if message is None or message.get("id") != self.next_id:
                continue
            if "progress" in message and on_progress:
                done, total = message["progress"]
                on_progress(int(done), int(total))
                continue
            if "status" in message:
                error = message.get("error") if isinstance(message.get("error"), dict) else {}
                result = ProbeResult(str(message["status"]), value=message.get("value") or {},
                                     error=name_the_limit(error, self.limits), log_tail=self.log_tail(),
                                     duration_s=time.monotonic() - started)
                if not result.ok and self.group is not None and len(self.group.members()) > 1:
                    self.close_process()  # processes it started (a fork bomb's) go now, not at the end
                return result

    def _read_line(self, deadline: float) -> bytes | None:
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.answers], [], [], min(remaining, 1.0))
            if not ready:
                if self.proc.poll() is not None or self.disk.check():
                    return None
                continue
            chunk = self.answers.read(65536)
            if not chunk:  # the child closed its end: it is gone
                self.proc.wait(timeout=5)
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    @staticmethod
    def _parse(line: bytes) -> dict | None:
        try:
            message = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        return message if isinstance(message, dict) else None

    def _crashed(self, started: float) -> ProbeResult:
        code = self.proc.wait(timeout=10) if self.proc else None
        if code is not None and code < 0:
            how = f"killed by signal {signal.Signals(-code).name}"
            if -code == signal.SIGKILL:
                how += " (out of memory or a resource limit)"
            elif -code == signal.SIGXCPU:
                how += " (CPU time limit)"
        else:
            how = f"exited with status {code}"
        tail = self.log_tail()
        if self.group is not None and self.group.oom_killed():
            how += f"; its processes together used more memory than the limit ({self.limits.memory_mb} MB)"
        elif "MemoryError" in tail or "Cannot allocate memory" in tail:
            how += f"; it ran out of memory (limit {self.limits.memory_mb} MB)"
        self.close_process()
        return ProbeResult("crash", error={"type": "Crash", "message": f"the student's process {how}"},
                           log_tail=tail, duration_s=time.monotonic() - started)

    def log_tail(self) -> str:
        """What the student's code printed since the last probe (its end, with a note of what was left out)."""
        text, self.log_offset = read_tail(self.log_path, self.log_offset)
        return text

    # -- arrays ---------------------------------------------------------------------------------
    def put_array(self, name: str, array: np.ndarray) -> str:
        """Write an array for the child; returns the path relative to the working directory."""
        path = self.io_dir / f"{name}.npy"
        np.save(path, np.ascontiguousarray(array), allow_pickle=False)
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)
        return f"io/{name}.npy"

    def get_array(self, relative: str, *, max_bytes: int = 2 << 30) -> np.ndarray:
        """Load an array the child wrote (never unpickled); raises ValueError on anything odd."""
        path = (self.root / relative).resolve()
        if self.io_dir.resolve() not in path.parents or not path.is_file() or path.is_symlink():
            raise ValueError(f"{relative}: not a file in the sandbox's io folder")
        if path.stat().st_size > max_bytes:
            raise ValueError(f"{relative}: {path.stat().st_size} bytes, more than {max_bytes}")
        return np.load(path, allow_pickle=False)

    # -- end ------------------------------------------------------------------------------------
    def close_process(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass  # killed but slow to go (a loaded machine, hundreds of its processes dying with it): below
        if self.group is not None:  # what left the session or the parent (setsid, a double fork) goes too
            self.group.close()
            self.group = None
        if self.proc is not None and self.proc.returncode is None:
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # never a reason to fail the grade: the process is SIGKILLed
                pass
        if self.proc is not None and self.proc.stdin:
            self.proc.stdin.close()
        if self.answers is not None:
            self.answers.close()
            self.answers = None
        self.proc = None

    def close(self) -> None:
        self.close_process()
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.rmtree(self.private, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

