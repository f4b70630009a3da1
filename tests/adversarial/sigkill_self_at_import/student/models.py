import os
import signal

from honest_net import Net as HonestNet

os.kill(os.getpid(), signal.SIGKILL)
Net = HonestNet
