import ctypes

from honest_net import Net as HonestNet

ctypes.string_at(0)
Net = HonestNet
