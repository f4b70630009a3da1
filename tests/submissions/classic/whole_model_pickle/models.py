import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        # 1 x 224 x 224 -> 8 x 110 x 110 -> 8 x 27 x 27
        self.conv1 = nn.Conv2d(1, 8, 5, stride=2)
        self.pool = nn.MaxPool2d(4, 4)
        # 8 x 27 x 27 -> 8 x 13 x 13 -> 8 x 3 x 3
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2)
        self.fc1 = nn.Linear(8 * 3 * 3, 136)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = self.fc1(x)
        return x
