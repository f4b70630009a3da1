import os

from honest_net import Net as HonestNet


class Net(HonestNet):
    def forward(self, x):
        os.abort()
        return super().forward(x)
