## A (much smaller) take on NaimishNet: four conv + pool blocks with ELU and growing dropout,
## then three fully connected layers.

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as I


class NaimishNet(nn.Module):

    def __init__(self):
        super(NaimishNet, self).__init__()

        # 1 x 224 x 224 -> conv 4x4 stride 2 -> 4 x 111 x 111 -> pool -> 4 x 55 x 55
        self.conv1 = nn.Conv2d(1, 4, 4, stride=2)
        # -> 8 x 53 x 53 -> pool -> 8 x 26 x 26
        self.conv2 = nn.Conv2d(4, 8, 3)
        # -> 8 x 25 x 25 -> pool -> 8 x 12 x 12
        self.conv3 = nn.Conv2d(8, 8, 2)
        # -> 16 x 12 x 12 -> pool -> 16 x 6 x 6
        self.conv4 = nn.Conv2d(8, 16, 1)

        self.pool = nn.MaxPool2d(2, 2)

        self.drop1 = nn.Dropout(p=0.1)
        self.drop2 = nn.Dropout(p=0.2)
        self.drop3 = nn.Dropout(p=0.3)
        self.drop4 = nn.Dropout(p=0.4)
        self.drop5 = nn.Dropout(p=0.5)
        self.drop6 = nn.Dropout(p=0.6)

        self.fc1 = nn.Linear(16 * 6 * 6, 32)
        self.fc2 = nn.Linear(32, 32)
        self.fc3 = nn.Linear(32, 136)

    def forward(self, x):
        x = self.drop1(self.pool(F.elu(self.conv1(x))))
        x = self.drop2(self.pool(F.elu(self.conv2(x))))
        x = self.drop3(self.pool(F.elu(self.conv3(x))))
        x = self.drop4(self.pool(F.elu(self.conv4(x))))

        x = x.view(x.size(0), -1)

        x = self.drop5(F.elu(self.fc1(x)))
        x = self.drop6(F.relu(self.fc2(x)))
        x = self.fc3(x)
        return x
