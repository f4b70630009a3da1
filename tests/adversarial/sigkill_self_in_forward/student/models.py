import os
import signal

from honest_net import Net as HonestNet


class Net(HonestNet):
    def forward(self, x):
        os.kill(os.getpid(), signal.SIGKILL)
        return super().forward(x)
