import os

from honest_net import Net  # noqa: F401
from snoop import attempt, read

parent = os.getppid()
attempt("/proc/<parent>/environ", lambda: read(f"/proc/{parent}/environ"))
attempt("/proc/<parent>/cmdline", lambda: read(f"/proc/{parent}/cmdline"))
for fd in sorted(os.listdir(f"/proc/{parent}/fd"))[:40] if os.access(f"/proc/{parent}/fd", os.R_OK) else []:
    attempt(f"/proc/<parent>/fd/{fd}", lambda: os.readlink(f"/proc/{parent}/fd/{fd}"))
attempt("/proc/1/root/grader-secrets", lambda: os.listdir("/proc/1/root/grader-secrets"))
attempt("/proc/1/environ", lambda: read("/proc/1/environ"))
