"""A NaimishNet-sized network (bench only): 4 conv blocks 32-64-128-256 with 2x2 max pooling, then
Linear 43264 -> 1000 -> 1000 -> 136 with rising dropout; ~44.5 M parameters, 178 MB of weights."""
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4)  # 224 -> 221, pooled 110
        self.conv2 = nn.Conv2d(32, 64, 3)  # 110 -> 108, pooled 54
        self.conv3 = nn.Conv2d(64, 128, 2)  # 54 -> 53, pooled 26
        self.conv4 = nn.Conv2d(128, 256, 1)  # 26 -> 26, pooled 13
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(256 * 13 * 13, 1000)
        self.fc2 = nn.Linear(1000, 1000)
        self.fc3 = nn.Linear(1000, 136)
        self.drops = nn.ModuleList(nn.Dropout(p) for p in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6))

    def forward(self, x):
        for index, conv in enumerate((self.conv1, self.conv2, self.conv3, self.conv4)):
            x = self.drops[index](self.pool(F.elu(conv(x))))
        x = x.view(x.size(0), -1)  # (N, 43264)
        x = self.drops[4](F.elu(self.fc1(x)))
        x = self.drops[5](F.relu(self.fc2(x)))
        return self.fc3(x)  # (N, 136)
