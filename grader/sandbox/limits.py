"""Limits of a student process and the set-up that applies them in the forked child before exec.

Used by ``spawn`` (the probe worker) and ``command`` (whole commands such as a notebook run).
"""
from __future__ import annotations

import ctypes
import os
import pwd
import resource
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
LOG_TAIL_CHARS = 4000


@dataclass(frozen=True)
class Limits:
    """Resource limits of one child process."""

    memory_mb: int = 6144  # RLIMIT_DATA: heap and private mappings (torch's libraries map far more address space)
    cpu_seconds: int = 3600
    file_size_mb: int = 512
    processes: int = 256  # applied only when the child runs as another user (RLIMIT_NPROC is per user)
    threads: int = 1  # torch/OpenMP threads in the child (part of what makes a grade reproducible)



def try_unshare_network() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(CLONE_NEWNET) == 0
    except OSError:
        return False


def child_setup(limits: Limits, user: pwd.struct_passwd | None, isolate_network: bool) -> None:
    """Runs in the forked child before exec: new session, network namespace, rlimits, drop privileges."""
    os.setsid()
    if isolate_network:
        try_unshare_network()
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_mb * mb, limits.memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * mb, limits.file_size_mb * mb))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if user is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)


def sandbox_user() -> pwd.struct_passwd | None:
    """The unprivileged user named by FKP_SANDBOX_USER, when the grader runs as root."""
    name = os.environ.get("FKP_SANDBOX_USER", "")
    if not name or os.geteuid() != 0:
        return None
    return pwd.getpwnam(name)

