import ctypes

from honest_net import Net as HonestNet


class Net(HonestNet):
    def forward(self, x):
        ctypes.string_at(0)
        return super().forward(x)
