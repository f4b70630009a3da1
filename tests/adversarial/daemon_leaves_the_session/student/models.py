import os
import sys

from honest_net import Net  # noqa: F401

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:  # the grandchild: no parent, no session of the worker's; sleeps for an hour
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(3600)", "fkp-adversarial-daemon"])
    os._exit(0)
os.wait()
