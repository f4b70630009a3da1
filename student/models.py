"""Your facial keypoint network.

Contract (the grader relies on it):
- ``Net()`` builds with no arguments and is a ``torch.nn.Module`` with at least one ``nn.Conv2d``.
- Input: a float tensor ``N x 1 x 224 x 224``, grayscale in [0, 1].
- Output: a float tensor ``N x 136``: keypoint k is ``(out[:, 2k], out[:, 2k + 1])`` in
  normalised units of the 224x224 input, i.e. ``pixel = value * 50 + 100``.
- Keep the batch dimension: flatten with ``x.view(x.size(0), -1)``, never ``x.view(-1, K)``.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        # TODO: define the layers of your CNN. A first convolution is given:
        # 1 input channel (grayscale), 32 output channels, a 5x5 kernel.
        # 224x224 in -> (224 - 5) / 1 + 1 = 220, so the output is (32, 220, 220).
        self.conv1 = nn.Conv2d(1, 32, 5)

        # TODO: add more layers: convolutions, max-pooling, dropout, batch norm...
        # The last layer must output 136 values (68 keypoints x 2).

    def forward(self, x):
        # TODO: define the forward pass: x is (N, 1, 224, 224)
        x = F.relu(self.conv1(x))  # (N, 32, 220, 220)
        # TODO: finish it so that it returns a (N, 136) tensor.
        return x
