import os

from honest_net import Net as HonestNet

os.abort()
Net = HonestNet
