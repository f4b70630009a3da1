import signal

from honest_net import Net as HonestNet

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)


class Net(HonestNet):
    def forward(self, x):
        while True:
            pass
