"""Reference network: a compact strided CNN with BatchNorm (~0.84 M parameters).

Input ``N x 1 x 224 x 224`` grayscale in [0, 1]; output ``N x 136`` keypoints in normalised
units of the input frame (``pixel = value * 50 + 100``). Five stride-2 stages bring 224 to 7;
a 1x1 convolution narrows the 7x7 map so the linear head keeps where each feature is.
"""
import torch.nn as nn


def conv_bn(in_channels: int, out_channels: int, stride: int, kernel: int = 3) -> nn.Sequential:
    """Convolution (same padding, no bias: BatchNorm has one) -> BatchNorm -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(1, 24, 2, kernel=5),  # (N, 24, 112, 112)
            conv_bn(24, 32, 2),  # (N, 32, 56, 56)
            conv_bn(32, 32, 1),
            conv_bn(32, 64, 2),  # (N, 64, 28, 28)
            conv_bn(64, 64, 1),
            conv_bn(64, 128, 2),  # (N, 128, 14, 14)
            conv_bn(128, 128, 1),
            conv_bn(128, 192, 2),  # (N, 192, 7, 7)
            conv_bn(192, 48, 1, kernel=1),  # (N, 48, 7, 7)
        )
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(48 * 7 * 7, 136)

    def forward(self, x):
        x = self.features(x)  # (N, 48, 7, 7)
        x = x.view(x.size(0), -1)  # (N, 2352)
        return self.head(self.dropout(x))  # (N, 136)
