import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        # 224 -> conv 5x5 stride 2 -> 110 -> pool 4 -> 27
        self.conv1 = nn.Conv2d(1, 8, 5, stride=2)
        # 27 -> conv 3x3 stride 2 -> 13 -> pool 4 -> 3
        self.conv2 = nn.Conv2d(8, 12, 3, stride=2)
        self.pool = nn.MaxPool2d(4, 4)
        self.dropout = nn.Dropout(0.25)
        self.fc1 = nn.Linear(12 * 3 * 3, 136)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(x.size(0), -1)
        x = self.dropout(x)
        return self.fc1(x)
