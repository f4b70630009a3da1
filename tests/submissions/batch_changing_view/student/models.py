"""Fixture: flattens with view(-1, K) where K is not the per-sample size, so the batch size changes."""
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 4, stride=4)
        self.pool = nn.AdaptiveAvgPool2d(4)  # (N, 4, 4, 4) = 64 features per face
        self.fc1 = nn.Linear(32, 136)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = x.view(-1, 32)  # wrong: two rows per face
        return self.fc1(x)
