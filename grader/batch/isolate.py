"""Grade one submission in a process of its own (``python -m grader grade``, or the grading container).

The trusted grader runs here in a child process so that a hang, a crash or a memory blow-up while
grading one submission ends that child only. The child gets a wall timeout, an RLIMIT_DATA memory
limit, its own session, and dies with the thread that started it (PR_SET_PDEATHSIG), so killing
a batch does not leave graders running. On timeout the whole process tree is frozen and killed,
including the sandbox's student processes, which start sessions of their own.
"""
from __future__ import annotations

import ctypes
import os
import re
import resource
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import grader
from grader.data import dataset
from grader.data.cache import SHARED_CACHE
from grader.data.fetch import MANIFEST, TEST_CSV, private_test_beside

GRADER_ROOT = Path(grader.__file__).resolve().parents[1]  # the folder holding the grader package
PR_SET_PDEATHSIG = 1
LIBC = ctypes.CDLL(None, use_errno=True)
# How running out of RLIMIT_DATA shows in a Python process's output (allocations, thread stacks, shared libraries).
MEMORY_WORDS = ("MemoryError", "Cannot allocate memory", "failed to map segment", "std::bad_alloc",
                "can't allocate memory", "can't start new thread", "out of memory")
LOG_TAIL_CHARS = 4000
# Root in the container keeps only what dropping student code to its user and cleaning up need.
DOCKER_CAPABILITIES = ("SETUID", "SETGID", "KILL", "CHOWN", "FOWNER", "DAC_OVERRIDE")
# Where the reports folder is mounted: inside a folder only root enters (the host folder's owner
# may have the student's uid), as docker/run.sh does.
DOCKER_REPORTS = "/grader-out/reports"
DOCKER_SHARED_CACHE = "/grader-out/cache"  # the batch's filled cache, read-only, in the folder only root enters

_running: set[int] = set()  # process ids of the grades under way in this process
_running_lock = threading.Lock()
_stop = threading.Event()


@dataclass(frozen=True)
class GradeSettings:
    """How every submission of a batch is graded: the one config object passed down to each job."""

    data_dir: Path
    """Dataset folder (absolute; on a cluster it must exist at this path on every worker)."""
    rubric: Path | None = None
    seed: int | None = None
    only: tuple[str, ...] | None = None
    """Check ids to run (None: the rubric's)."""
    device: str = "auto"
    timeout_s: float | None = 3600.0
    """Wall time of one whole grade; past it the row is ``timeout``."""
    memory_mb: int | None = 8192
    """RLIMIT_DATA of the grading process (student processes get the rubric's limit)."""
    docker_image: str | None = None
    """Grade inside this image instead of a local process."""
    workers: int | None = None
    """Units of checks side by side in each grade (None: the grade decides from its cores)."""
    shared_cache: Path | None = None
    """A cache folder filled before the containers start, mounted read-only into each (``fill_shared_cache``)."""


@dataclass(frozen=True)
class GradeEnd:
    """How one isolated grade ended. ``status``: graded, error or timeout."""

    status: str
    reason: str
    returncode: int | None
    duration_s: float


def grade_arguments(settings: GradeSettings, name: str, submission: str, out: str, data_dir: str,
                    rubric: str | None) -> list[str]:
    """The grade verb's arguments, shared by the local and the container command lines."""
    argv = ["grade", submission, "--out", out, "--name", name, "--data", data_dir, "--device", settings.device]
    if rubric is not None:
        argv += ["--rubric", rubric]
    if settings.seed is not None:
        argv += ["--seed", str(settings.seed)]
    if settings.only:
        argv += ["--only", ",".join(settings.only)]
    if settings.workers is not None:
        argv += ["--workers", str(settings.workers)]
    return argv


def local_command(settings: GradeSettings, name: str, submission: Path, out: Path) -> list[str]:
    rubric = None if settings.rubric is None else str(settings.rubric)
    # -P: the working directory is not put on sys.path (a submission called "torch" must not shadow torch)
    return [sys.executable, "-P", "-m", "grader",
            *grade_arguments(settings, name, str(submission), str(out), str(settings.data_dir), rubric)]


def docker_command(settings: GradeSettings, name: str, submission: Path, out: Path, container: str) -> list[str]:
    """``docker run`` for one submission: no network, read-only root, the test labels where only root reads."""
    data = Path(settings.data_dir).resolve()
    private = private_test_beside(settings.data_dir)  # its images at /data/test, its labels and manifest hidden
    test = private.resolve() if private else data
    memory = [f"--memory={settings.memory_mb}m", f"--memory-swap={settings.memory_mb}m"] if settings.memory_mb else []
    mounts = [f"{submission.resolve()}:/submission:ro", f"{data / 'training'}:/data/training:ro",
              f"{test / 'test'}:/data/test:ro",
              f"{data / 'training_frames_keypoints.csv'}:/data/training_frames_keypoints.csv:ro",
              f"{test / TEST_CSV}:/grader-secrets/{TEST_CSV}:ro",
              f"{out.resolve()}:{DOCKER_REPORTS}"]
    if private:
        mounts.append(f"{private / MANIFEST}:/grader-secrets/{MANIFEST}:ro")
    samples = data.parent / "samples"
    if samples.is_dir():
        mounts.append(f"{samples}:/data/samples:ro")
    if settings.rubric is not None:
        mounts.append(f"{Path(settings.rubric).resolve()}:/rubric.toml:ro")
    cache = ["--env", f"{SHARED_CACHE}={DOCKER_SHARED_CACHE}"] if settings.shared_cache else []
    if settings.shared_cache:
        mounts.append(f"{Path(settings.shared_cache).resolve()}:{DOCKER_SHARED_CACHE}:ro")
    inner = grade_arguments(settings, name, "/submission", DOCKER_REPORTS, "/data",
                            None if settings.rubric is None else "/rubric.toml")
    # The same limits and privileges as docker/run.sh (make docker-grade): keep the two in step.
    return ["docker", "run", "--rm", "--name", container, "--network", "none", "--read-only",
            "--tmpfs", "/tmp:rw,nosuid,nodev,noexec,size=2g,mode=1777", *memory, "--cpus", "2",
            "--pids-limit", "512", "--shm-size", "512m", "--user", "0:0", "--init",
            "--security-opt", "no-new-privileges", "--cap-drop", "ALL",
            *[arg for cap in DOCKER_CAPABILITIES for arg in ("--cap-add", cap)],
            "--env", f"FKP_REPORT_OWNER={os.getuid()}:{os.getgid()}",  # the report belongs to us, not to root
            "--env", f"FKP_SANDBOX_UID={container_uid()}",  # the student's processes: a uid of this container's own
            *cache,
            *[arg for mount in mounts for arg in ("-v", mount)], settings.docker_image, *inner]


def fill_shared_cache(settings: GradeSettings) -> GradeSettings:
    """Preprocess the test images once, in this process, into the host's cache, for every container of the
    batch to read (each would otherwise decode them again on its own /tmp). The arrays hold test images
    and their frames, never labels. A failure leaves the containers to build their own."""
    private = private_test_beside(settings.data_dir)
    test = Path(private or settings.data_dir).resolve()
    try:
        dataset.load_eval_set(test, "test")
        dataset.image_sizes(test, "test")
    except (OSError, ValueError) as exc:
        print(f"batch: the test images were not preprocessed for the containers ({exc}); each builds its own",
              file=sys.stderr)
        return settings
    return replace(settings, shared_cache=dataset.default_cache_dir(test))


def container_uid() -> int:
    """A uid for one container's student processes (FKP_SANDBOX_UID, read by grader/sandbox/limits.py), unlikely
    to be any other container's: the kernel counts the process limit per uid across containers."""
    return 100_000 + secrets.randbelow(1_000_000_000)


def _limit_child(memory_mb: int | None) -> None:
    """In the forked child before exec: own session, die with the parent, memory limit. No imports here."""
    os.setsid()
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if memory_mb:  # soft limit only: the sandbox gives student processes their own (higher or lower) limit
        hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
        resource.setrlimit(resource.RLIMIT_DATA, (memory_mb * 1024 * 1024, hard))


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (by parent id, from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def kill_tree(pid: int) -> None:
    """Freeze ``pid`` and everything below it (so nothing forks meanwhile), then kill them all."""
    stopped: set[int] = set()
    for _ in range(20):
        fresh = [p for p in [pid, *descendants(pid)] if p not in stopped]
        if not fresh:
            break
        for p in fresh:
            try:
                os.kill(p, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped.update(fresh)
    for p in stopped:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def interrupted() -> bool:
    """True once ``stop_all`` was called: the batch is ending, jobs must not file their rows."""
    return _stop.is_set()


def stop_all() -> None:
    """Kill every grade this process started and start no more (Ctrl-C, SIGTERM)."""
    _stop.set()
    with _running_lock:
        pids = list(_running)
    for pid in pids:
        kill_tree(pid)


def allow_runs() -> None:
    _stop.clear()


def run_limited(argv: list[str], *, log_path: Path, timeout_s: float | None, memory_mb: int | None,
                cwd: Path | None = None, on_timeout=None) -> tuple[int | None, bool, float]:
    """Run ``argv`` with its output in ``log_path``; returns (exit status, timed out, seconds)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(GRADER_ROOT), os.environ.get("PYTHONPATH")])),
               NO_COLOR="1", COLUMNS="120", PYTHONUNBUFFERED="1")
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=cwd, preexec_fn=lambda: _limit_child(memory_mb))
        with _running_lock:
            _running.add(proc.pid)
        if _stop.is_set():
            kill_tree(proc.pid)
        try:
            code = proc.wait(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            if on_timeout is not None:
                on_timeout()
            kill_tree(proc.pid)
            code = proc.wait()
        except BaseException:  # interrupted batch: leave nothing running
            kill_tree(proc.pid)
            proc.wait()
            raise
        finally:
            with _running_lock:
                _running.discard(proc.pid)
    return code, timed_out, time.monotonic() - started


def log_tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-chars:]


def explain_failure(code: int | None, output: str, memory_mb: int | None) -> str:
    """One line for the gradebook: why the grader did not produce a report."""
    if code is not None and code < 0:
        why = f"the grading process was killed by {signal.Signals(-code).name}"
        fatal = (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS)
        return why + (f" (out of memory? limit {memory_mb} MB)" if -code in fatal and memory_mb else "")
    if any(word in output for word in MEMORY_WORDS):
        return f"the grading process ran out of memory (limit {memory_mb} MB); raise --memory-mb"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    traceback_at = max((i for i, line in enumerate(lines) if line.startswith("Traceback")), default=None)
    if traceback_at is not None:
        return f"the grader crashed: {lines[-1]}"
    message = " ".join(lines[-4:]) if lines else f"exit status {code}, no output"
    return re.sub(r"^grade:\s*", "", message[-600:])


def grade_one(name: str, submission: Path, settings: GradeSettings, out: Path) -> GradeEnd:
    """Grade ``submission`` into ``out/<name>/`` in a fresh process; the full log is ``out/<name>.log``."""
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / f"{name}.log"
    # The grader sees the submission as ./<name> (a link), so its messages name the student, not our paths.
    inputs = out.parent / f"{out.name}-in"
    inputs.mkdir(exist_ok=True)
    (inputs / name).symlink_to(Path(submission).resolve(), target_is_directory=True)
    container = None
    if settings.docker_image:
        container = f"fkp-{re.sub(r'[^A-Za-z0-9_.-]', '-', name)[:40]}-{uuid.uuid4().hex[:8]}"
        argv = docker_command(settings, name, submission, out, container)
    else:
        argv = local_command(settings, name, Path(name), out)

    def stop_container() -> None:
        if container:
            subprocess.run(["docker", "kill", container], capture_output=True, timeout=60)

    code, timed_out, seconds = run_limited(argv, log_path=log_path, timeout_s=settings.timeout_s,
                                           memory_mb=None if container else settings.memory_mb, cwd=inputs,
                                           on_timeout=stop_container)
    if timed_out:
        return GradeEnd("timeout", f"grading took longer than the wall timeout of {settings.timeout_s:g} s",
                        code, seconds)
    if code == 0 and (out / name / "results.json").is_file():
        return GradeEnd("graded", "", code, seconds)
    return GradeEnd("error", explain_failure(code, log_tail(log_path), settings.memory_mb), code, seconds)
