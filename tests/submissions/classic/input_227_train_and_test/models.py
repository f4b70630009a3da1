import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """A very small AlexNet-like network: it takes 227 x 227 inputs, like AlexNet."""

    def __init__(self):
        super(Net, self).__init__()
        # 1 x 227 x 227 -> conv 11x11 stride 4 -> 8 x 55 x 55 -> pool 3/2 -> 8 x 27 x 27
        self.conv1 = nn.Conv2d(1, 8, 11, stride=4)
        # -> 16 x 27 x 27 -> pool -> 16 x 13 x 13
        self.conv2 = nn.Conv2d(8, 16, 5, padding=2)
        # -> 4 x 13 x 13 -> pool -> 4 x 6 x 6
        self.conv3 = nn.Conv2d(16, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(3, 2)
        self.fc1 = nn.Linear(4 * 6 * 6, 136)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.pool(F.relu(self.conv3(x)))
        x = x.view(x.size(0), -1)
        x = self.fc1(x)
        return x
