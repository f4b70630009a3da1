"""A minimal Net: these fixtures test how notebooks fail, not the network."""
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 5, stride=4)
        self.head = nn.Linear(4, 136)

    def forward(self, x):
        x = self.conv1(x).mean(dim=(2, 3))  # (N, 4)
        return self.head(x)  # (N, 136)
