"""Fixture: the Linear layer expects the wrong number of features, so forward() raises."""
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5, stride=4)
        self.fc1 = nn.Linear(8 * 53 * 53, 136)

    def forward(self, x):
        x = F.relu(self.conv1(x))  # (N, 8, 55, 55)
        x = x.view(x.size(0), -1)
        return self.fc1(x)
