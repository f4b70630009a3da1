import glob
import os


def attempt(label, action):
    try:
        got = action()
        print(f"snoop {label}: GOT {str(got)[:120]!r}")
    except Exception as exc:  # noqa: BLE001 - every failure is the expected outcome
        print(f"snoop {label}: refused ({type(exc).__name__})")


def read(path):
    with open(path, "rb") as handle:
        return handle.read(200)


from honest_net import Net  # noqa: E402,F401

parent = os.getppid()
attempt("/proc/<parent>/environ", lambda: read(f"/proc/{parent}/environ"))
attempt("/proc/<parent>/cmdline", lambda: read(f"/proc/{parent}/cmdline"))
for fd in sorted(os.listdir(f"/proc/{parent}/fd"))[:40] if os.access(f"/proc/{parent}/fd", os.R_OK) else []:
    attempt(f"/proc/<parent>/fd/{fd}", lambda: os.readlink(f"/proc/{parent}/fd/{fd}"))
attempt("/proc/1/root/grader-secrets", lambda: os.listdir("/proc/1/root/grader-secrets"))
attempt("/proc/1/environ", lambda: read("/proc/1/environ"))
