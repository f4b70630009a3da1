"""small_trained's network, except that a batch of more than 8 faces never comes back.

The tests grade it as a copy of small_trained (weights, transforms) with this models.py.

The model checks (batches of 1 and 4) pass and the weights load; only the test-set check hangs,
and its own timeout is long, so the batch's per-submission wall timeout has to end it.
"""
import time

import torch.nn as nn


def block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(block(1, 16), block(16, 32), block(32, 48), block(48, 64), block(64, 64))
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.head = nn.Linear(64 * 4, 136)

    def forward(self, x):
        while x.size(0) > 8:  # stuck, without burning the CPU
            time.sleep(0.5)
        x = self.pool(self.features(x))  # (N, 64, 2, 2)
        return self.head(x.view(x.size(0), -1))  # (N, 136)
