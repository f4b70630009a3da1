"""Limits of a student process and the set-up that applies them in the forked child before exec.

Used by ``spawn`` (the probe worker) and ``command`` (whole commands such as a notebook run).
"""
from __future__ import annotations

import ctypes
import os
import pwd
import resource
import sys
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.processes import UID_VARIABLE, ProcessGroup, enclosing_pids_limit, tasks_of_user

CLONE_NEWNET = 0x40000000

# glibc hands freed blocks back to the kernel (its thresholds start at 128 kB and adjust only to some
# patterns), so training steps and batches of forward passes fault their tensors' pages in anew: a
# million page faults, 3 s of system time, in one grade of a small net. Kept in the heap (blocks up to
# glibc's 32 MB cap, up to 512 MB of free heap kept), they are reused; beyond that, memory goes back.
ALLOCATOR_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(512 * 2**20)}


def student_environment(limits: Limits, home: Path, tmp: Path) -> dict[str, str]:
    """What every student process starts with (the probe worker and whole commands alike): this Python's
    tools on PATH, its own HOME and TMPDIR, no user site, the thread count and the allocator above."""
    threads = str(limits.threads)
    return {"PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home), "TMPDIR": str(tmp), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1", "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(tmp), **ALLOCATOR_ENV}


@dataclass(frozen=True)
class Limits:
    """Resource limits of one child process."""

    memory_mb: int = 6144  # RLIMIT_DATA: heap and private mappings (torch's libraries map far more address space)
    cpu_seconds: int = 3600
    file_size_mb: int = 512
    processes: int = 256  # tasks (threads included) of one sandbox: its pids cgroup, else RLIMIT_NPROC on top of
                          # what the user already runs (the kernel does not apply RLIMIT_NPROC to root)
    threads: int = 1  # torch/OpenMP threads in the child (part of what makes a grade reproducible)
    disk_mb: int = 2048  # bytes the child may leave in its working folder (TMPDIR included), watched while it runs



def try_unshare_network() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(CLONE_NEWNET) == 0
    except OSError:
        return False


def process_limit(limits: Limits, user: pwd.struct_passwd | None) -> int | None:
    """RLIMIT_NPROC for the child: per user, so on top of what that user runs already. None for root (the
    kernel does not apply it). Inside a cgroup with a task limit (a container's ``--pids-limit``) it applies
    only when the sandbox user's uid is this container's own (FKP_SANDBOX_UID): the kernel counts
    RLIMIT_NPROC per uid across every container, so with a shared uid a fork bomb in one submission's
    container would stop the next one's processes from starting. With its own uid, the student's processes
    stop at ``limits.processes`` and the rest of the container's task limit stays the grader's."""
    uid = user.pw_uid if user is not None else os.getuid()
    if uid == 0 or (enclosing_pids_limit() is not None and not os.environ.get(UID_VARIABLE)):
        return None
    return tasks_of_user(uid) + limits.processes


def child_setup(limits: Limits, user: pwd.struct_passwd | None, isolate_network: bool,
                group: ProcessGroup | None = None, nproc: int | None = None) -> None:
    """Runs in the forked child before exec: its process group's cgroups, new session, network namespace,
    rlimits, drop privileges."""
    if group is not None:
        group.join()
    os.setsid()
    if isolate_network:
        try_unshare_network()
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_mb * mb, limits.memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * mb, limits.file_size_mb * mb))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if nproc is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    if user is not None:
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)


def sandbox_user() -> pwd.struct_passwd | None:
    """The unprivileged user named by FKP_SANDBOX_USER, when the grader runs as root; with the uid (and gid)
    FKP_SANDBOX_UID when that is set (each grading container gets a uid no other container uses)."""
    name = os.environ.get("FKP_SANDBOX_USER", "")
    if not name or os.geteuid() != 0:
        return None
    user = pwd.getpwnam(name)
    uid = os.environ.get(UID_VARIABLE, "")
    if not uid:
        return user
    if not uid.isdigit() or int(uid) == 0:
        raise ValueError(f"{UID_VARIABLE}={uid!r}: expected the number of an unprivileged uid, not root's")
    return pwd.struct_passwd((user.pw_name, user.pw_passwd, int(uid), int(uid), user.pw_gecos, user.pw_dir,
                              user.pw_shell))
