## my second network, after the NaimishNet paper (but far smaller): conv + ELU + pool + dropout blocks,
## then two fully connected layers. Same class name as in models.py so the notebooks only change the import.

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        # 1 x 224 x 224 -> 4 x 111 x 111 -> pool -> 4 x 55 x 55
        self.conv1 = nn.Conv2d(1, 4, 4, stride=2)
        # -> 8 x 53 x 53 -> pool -> 8 x 26 x 26
        self.conv2 = nn.Conv2d(4, 8, 3)
        # -> 8 x 12 x 12 -> pool -> 8 x 6 x 6
        self.conv3 = nn.Conv2d(8, 8, 3, stride=2)
        self.pool = nn.MaxPool2d(2, 2)
        self.dropout1 = nn.Dropout(0.1)
        self.dropout2 = nn.Dropout(0.3)
        self.fc1 = nn.Linear(8 * 6 * 6, 48)
        self.fc2 = nn.Linear(48, 136)

    def forward(self, x):
        x = self.dropout1(self.pool(F.elu(self.conv1(x))))
        x = self.dropout1(self.pool(F.elu(self.conv2(x))))
        x = self.dropout1(self.pool(F.elu(self.conv3(x))))
        x = x.view(x.size(0), -1)
        x = self.dropout2(F.elu(self.fc1(x)))
        x = self.fc2(x)
        return x
