"""Every process a piece of student code starts, counted, limited and stopped together.

Student code may start processes that leave its session (``setsid``) or its parent (a double fork),
start hundreds of them (a fork or thread bomb), or ignore SIGTERM. Where the grader may create
control groups (root on a cgroup v1 host, as in CI), each sandbox gets its own ``pids`` group (at
most ``Limits.processes`` tasks, threads included) and ``memory`` group (the whole tree's memory),
and stopping kills every task in them. Elsewhere a token in the environment finds the tree, and
RLIMIT_NPROC limits processes where the kernel applies it (a user other than root); inside our
container, the student's uid is the container's own (FKP_SANDBOX_UID), so RLIMIT_NPROC stops a bomb below the
container's ``--pids-limit`` and the rest of it stays the grader's.
"""
from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
TOKEN_VARIABLE = "FKP_SANDBOX_TOKEN"
UID_VARIABLE = "FKP_SANDBOX_UID"  # set per grading container: the uid its student processes run under


def own_cgroup(controller: str) -> Path | None:
    """This process's cgroup v1 folder for ``controller``, when the hierarchy is mounted."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            folder = CGROUP_ROOT / controller / path.lstrip("/")
            return folder if folder.is_dir() else None
    return None


class ProcessGroup:
    """The processes of one sandbox: ``join`` runs in each forked child before exec, ``stop`` ends them all."""

    def __init__(self, *, processes: int, memory_mb: int):
        self.token = secrets.token_hex(8)
        self.cgroups: list[Path] = []
        self.memory_cgroup: Path | None = None
        for controller, limit_file, value in (("pids", "pids.max", processes),
                                              ("memory", "memory.limit_in_bytes", (memory_mb + 1024) << 20)):
            parent = own_cgroup(controller)
            if parent is None:
                continue
            remove_stale_groups(parent)
            folder = parent / f"fkp-sandbox-{os.getpid()}-{self.token}"
            try:
                folder.mkdir()
                (folder / limit_file).write_text(str(value))
            except OSError:  # not ours to create (no root, a read-only hierarchy): the other means apply
                if folder.is_dir():
                    folder.rmdir()
                continue
            self.cgroups.append(folder)
            if controller == "memory":
                self.memory_cgroup = folder

    @property
    def limited_by(self) -> str:
        """How this group's process count and memory are bounded, for results and messages."""
        return "cgroup" if self.cgroups else "rlimit"

    def environment(self) -> dict[str, str]:
        return {TOKEN_VARIABLE: self.token}

    def join(self) -> None:
        """In the forked child, before privileges drop: enter the group's cgroups (children inherit them)."""
        for folder in self.cgroups:
            with open(folder / "cgroup.procs", "w") as handle:
                handle.write(str(os.getpid()))

    def members(self) -> list[int]:
        if self.cgroups:
            found: set[int] = set()
            for folder in self.cgroups:
                try:
                    found.update(int(pid) for pid in (folder / "cgroup.procs").read_text().split())
                except OSError:
                    pass
            return sorted(found)
        return processes_with_token(self.token)

    def stop(self) -> int:
        """Kill every member; returns how many. In cgroups, kill until none is left (the pids limit bounds
        what can fork meanwhile: 256 busy forks end in about a millisecond); else freeze (SIGSTOP) the
        token's processes first, so none forks meanwhile, then kill them."""
        # In cgroups the pids limit bounds what can fork meanwhile, so killing at once is enough; a token's
        # processes are stopped first (nothing bounds their forks), then killed.
        first = signal.SIGKILL if self.cgroups else signal.SIGSTOP
        reached: set[int] = set()
        for _ in range(100):
            fresh = [pid for pid in self.members() if pid not in reached and pid != os.getpid()]
            if not fresh:
                break
            for pid in fresh:
                signal_quietly(pid, first)
            reached.update(fresh)
        if first != signal.SIGKILL:
            for pid in reached:
                signal_quietly(pid, signal.SIGKILL)
        return len(reached)

    def hit_process_limit(self) -> bool:
        """True when a fork or a thread was refused because the group's pids cgroup was full."""
        for folder in self.cgroups:
            events = folder / "pids.events"
            if events.is_file():
                try:
                    return int(events.read_text().split()[-1]) > 0
                except (OSError, ValueError, IndexError):
                    return False
        return False

    def oom_killed(self) -> bool:
        """True when the memory cgroup's limit was reached (its tasks were killed for it)."""
        if self.memory_cgroup is None:
            return False
        try:
            return int((self.memory_cgroup / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        """Stop the members and remove the cgroups. A cgroup can go only once its killed tasks have exited
        (hundreds of a fork bomb take seconds): a thread removes them, so the grade goes on meanwhile."""
        self.stop()
        if self.cgroups:
            threading.Thread(target=remove_when_empty, args=(self.cgroups,), daemon=True).start()
        self.cgroups, self.memory_cgroup = [], None


def remove_when_empty(folders: list[Path], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    for folder in folders:
        while folder.is_dir() and time.monotonic() < deadline:
            try:
                folder.rmdir()
            except OSError:
                time.sleep(0.1)


def remove_stale_groups(parent: Path) -> None:
    """Empty cgroups left by a grader that died (its pid is in their name): removed, they hold nothing."""
    for folder in parent.glob("fkp-sandbox-*-*"):
        pid = folder.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            try:
                folder.rmdir()  # refused while a task is still in it
            except OSError:
                pass


def enclosing_pids_limit() -> int | None:
    """The task limit of the cgroup this process runs in (a container's ``--pids-limit``), if any."""
    folder = own_cgroup("pids")
    candidates = [folder / "pids.max"] if folder else []
    candidates += [CGROUP_ROOT / "pids" / "pids.max", CGROUP_ROOT / "pids.max"]  # as a container sees v1, v2
    for path in candidates:
        try:
            value = path.read_text().strip()
        except OSError:
            continue
        if value.isdigit():
            return int(value)
    return None


def how_processes_are_limited(user_is_root: bool) -> str:
    """For results.json: what bounds the processes of a sandbox on this machine."""
    probe = ProcessGroup(processes=1, memory_mb=1)
    try:
        if probe.cgroups:
            return "a pids and a memory cgroup per sandbox"
    finally:
        probe.close()
    if (limit := enclosing_pids_limit()) is not None:
        if os.environ.get(UID_VARIABLE) and not user_is_root:
            return f"RLIMIT_NPROC for a uid of this container's own, within the container's task limit ({limit})"
        return f"the enclosing cgroup's task limit ({limit})"
    return "none (root without cgroups: RLIMIT_NPROC does not apply)" if user_is_root else "RLIMIT_NPROC"


def signal_quietly(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def processes_with_token(token: str) -> list[int]:
    """Processes whose environment holds ``FKP_SANDBOX_TOKEN=token`` (those this user may read)."""
    needle = f"{TOKEN_VARIABLE}={token}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def tasks_of_user(uid: int) -> int:
    """How many tasks (threads included, as RLIMIT_NPROC counts them) ``uid`` runs now."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("Uid", "-1 0").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count
