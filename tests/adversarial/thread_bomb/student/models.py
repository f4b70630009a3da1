import threading
import time

from honest_net import Net  # noqa: F401

while True:  # the sandbox's process limit (threads count) ends it with an error
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
