## the CNN that finds 68 facial keypoints

import torch
import torch.nn as nn
import torch.nn.functional as F
# for initialising the weights, if I want to
import torch.nn.init as I


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()

        # input: 1 x 224 x 224 grayscale image
        # conv1: 8 filters, 5x5, stride 2 -> (224 - 5) / 2 + 1 = 110 -> 8 x 110 x 110
        self.conv1 = nn.Conv2d(1, 8, 5, stride=2)

        # max pooling 4x4 -> 8 x 27 x 27
        self.pool = nn.MaxPool2d(4, 4)

        # conv2: 16 filters, 3x3, stride 2 -> (27 - 3) / 2 + 1 = 13 -> 16 x 13 x 13, pooled -> 16 x 3 x 3
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2)

        self.drop = nn.Dropout(p=0.2)

        # 68 keypoints, (x, y) each
        self.fc1 = nn.Linear(16 * 3 * 3, 136)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))

        # flatten
        x = x.view(x.size(0), -1)
        x = self.drop(x)
        x = self.fc1(x)

        # a modified x, having gone through all the layers of your model, should be returned
        return x
