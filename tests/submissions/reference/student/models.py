"""Reference network: a small fully convolutional net that draws one heatmap per keypoint and reads
each point off its map as the heatmap's centre of mass (integral regression, ~1.0 M parameters).

Input ``N x 1 x 224 x 224`` grayscale in [0, 1]; output ``N x 136`` keypoints in normalised units of
the input frame (``pixel = value * 50 + 100``). An encoder of strided conv-BatchNorm-ReLU blocks
takes 224 to 7; a top-down path brings the 7x7 context back to 28x28, adding the encoder's 14x14
and 28x28 features on the way; a 1x1 convolution gives 68 maps of 28x28. A softmax turns each map
into weights over the 784 cells, and the point is the weighted mean of the cells' centres. Unlike a
linear layer on flattened features, every map is computed the same way at every position, so a
face that moves moves its points: far fewer parameters learn far more from 3462 faces.

In eval mode the net also reads the mirrored face and averages the two answers (the mirrored points
mirrored back, left and right landmarks swapped by ``FLIP_ORDER``).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

MAP = 28  # heatmap side: one cell per 8x8 pixels of the 224 input


def _mirror(pairs):
    order = list(range(68))
    for a, b in pairs:
        order[a], order[b] = b, a
    return order


# iBUG 68 points in a mirrored face: its point k is the original's point FLIP_ORDER[k]
FLIP_ORDER = _mirror(
    [(i, 16 - i) for i in range(8)]  # jaw 0-16 (8 stays)
    + [(17 + i, 26 - i) for i in range(5)]  # brows 17-21 <-> 26-22
    + [(31, 35), (32, 34)]  # nostrils (27-30 and 33 stay)
    + [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    + [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lip (51, 57 stay)
    + [(60, 64), (61, 63), (65, 67)]  # inner lip (62, 66 stay)
)
MIRROR_X = (223 - 100 - 100) / 50  # x' = 223 - x in pixels of the 224 frame is 0.46 - x in normalised units


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
        self.stride8 = nn.Sequential(
            conv_bn(1, 24, 2, kernel=5),  # (N, 24, 112, 112)
            conv_bn(24, 32, 2),  # (N, 32, 56, 56)
            conv_bn(32, 32, 1),
            conv_bn(32, 64, 2),  # (N, 64, 28, 28)
            conv_bn(64, 64, 1),
        )
        self.stride16 = nn.Sequential(conv_bn(64, 128, 2), conv_bn(128, 128, 1))  # (N, 128, 14, 14)
        self.stride32 = nn.Sequential(conv_bn(128, 192, 2), conv_bn(192, 192, 1))  # (N, 192, 7, 7)
        self.top = nn.Conv2d(192, 96, 1)
        self.lateral16 = nn.Conv2d(128, 96, 1)
        self.merge16 = conv_bn(96, 96, 1)  # (N, 96, 14, 14)
        self.down_to_64 = nn.Conv2d(96, 64, 1)
        self.lateral8 = nn.Conv2d(64, 64, 1)
        self.merge8 = conv_bn(64, 64, 1)  # (N, 64, 28, 28)
        self.heatmaps = nn.Conv2d(64, 68, 1)  # (N, 68, 28, 28)
        # centre of each heatmap cell in normalised units: pixel (i + 0.5) * 8 - 0.5 of the 224 frame
        centres = ((torch.arange(MAP, dtype=torch.float32) + 0.5) * (224 / MAP) - 0.5 - 100) / 50
        self.register_buffer("centres", centres, persistent=False)
        self.register_buffer("flip_order", torch.tensor(FLIP_ORDER), persistent=False)

    def forward(self, x):
        points = self.points(x)  # (N, 136)
        if self.training:
            return points
        mirrored = self.points(x.flip(-1)).view(-1, 68, 2)[:, self.flip_order]  # (N, 68, 2)
        unmirrored = torch.stack([MIRROR_X - mirrored[..., 0], mirrored[..., 1]], -1).flatten(1)
        return (points + unmirrored) / 2

    def points(self, x):
        """(N, 1, 224, 224) -> (N, 136): one pass, no mirroring."""
        fine = self.stride8(x)  # (N, 64, 28, 28)
        middle = self.stride16(fine)  # (N, 128, 14, 14)
        coarse = self.stride32(middle)  # (N, 192, 7, 7)
        up = F.interpolate(self.top(coarse), scale_factor=2, mode="nearest") + self.lateral16(middle)
        up = self.merge16(up)  # (N, 96, 14, 14)
        up = F.interpolate(self.down_to_64(up), scale_factor=2, mode="nearest") + self.lateral8(fine)
        up = self.merge8(up)  # (N, 64, 28, 28)
        with torch.autocast(x.device.type, enabled=False):  # the maps and their means in float32 always
            maps = self.heatmaps(up.float())  # (N, 68, 28, 28)
            weights = maps.flatten(2).softmax(-1).view(-1, 68, MAP, MAP)
            xs = (weights.sum(2) * self.centres).sum(-1)  # (N, 68): columns' weights times their centres
            ys = (weights.sum(3) * self.centres).sum(-1)  # (N, 68): rows' weights
        return torch.stack([xs, ys], -1).flatten(1)  # (N, 136) as x0, y0, x1, y1, ...
