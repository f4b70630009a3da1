"""small_trained's network, except that a batch of more than 8 faces never comes back.

The tests grade it as a copy of small_trained whose models.py became trained_models.py, next to
this file: same weights and transforms. The model checks (batches of 1 and 4) pass and the
weights load; only the test-set check hangs, and its own timeout is long, so the batch's
per-submission wall timeout has to end it.
"""
import time

from trained_models import Net as TrainedNet


class Net(TrainedNet):
    def forward(self, x):
        while x.size(0) > 8:  # stuck, without burning the CPU
            time.sleep(0.5)
        return super().forward(x)
