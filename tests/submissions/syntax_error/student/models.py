"""Fixture: a syntax error on line 9."""
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 4)
        self.fc1 = nn.Linear(10, 136
