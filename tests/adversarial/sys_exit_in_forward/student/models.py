import sys

from honest_net import Net as HonestNet


class Net(HonestNet):
    def forward(self, x):
        sys.exit(0)
        return super().forward(x)
