"""A network that convolves at full resolution (bench only): three unstrided 3x3 convolutions of
32 channels at 224x224, an 8x8 max pool to 28x28, then Linear 25088 -> 200 -> 136; ~5.0 M
parameters, ~0.93 G multiply-adds per face (the reference net: ~0.16 G)."""
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(inplace=True),  # (N, 32, 224, 224)
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True),  # (N, 32, 224, 224)
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True),  # (N, 32, 224, 224)
            nn.MaxPool2d(8),  # (N, 32, 28, 28)
        )
        self.fc1 = nn.Linear(32 * 28 * 28, 200)
        self.fc2 = nn.Linear(200, 136)

    def forward(self, x):
        x = self.features(x).flatten(1)  # (N, 25088)
        return self.fc2(self.fc1(x).relu())  # (N, 136)
