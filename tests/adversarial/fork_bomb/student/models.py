import os
import time

from honest_net import Net  # noqa: F401

while True:  # a fork bomb: the sandbox's process limit stops it, its wall timeout ends it
    try:
        os.fork()
    except OSError:
        time.sleep(0.05)
