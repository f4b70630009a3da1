from honest_net import Net as HonestNet
import sys

for _ in range(100):
    sys.stderr.write("e" * ((1 << 20) - 1) + "\n")
Net = HonestNet
