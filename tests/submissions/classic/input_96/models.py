import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """For 96 x 96 faces (smaller inputs train much faster)."""

    def __init__(self):
        super(Net, self).__init__()
        # 1 x 96 x 96 -> conv 5x5 stride 2 -> 8 x 46 x 46 -> pool 2 -> 8 x 23 x 23
        self.conv1 = nn.Conv2d(1, 8, 5, stride=2)
        self.pool1 = nn.MaxPool2d(2, 2)
        # -> conv 3x3 stride 2 -> 16 x 11 x 11 -> pool 3 -> 16 x 3 x 3
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2)
        self.pool2 = nn.MaxPool2d(3, 3)
        self.fc1 = nn.Linear(16 * 3 * 3, 136)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = self.fc1(x)
        return x
