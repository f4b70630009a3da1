"""Allocates memory until the sandbox's limit stops it, at import time."""
import torch
import torch.nn as nn

hog = []
while True:  # 256 MB at a time, never released
    hog.append(torch.ones(256 << 20, dtype=torch.uint8))


class Net(nn.Module):
    pass
