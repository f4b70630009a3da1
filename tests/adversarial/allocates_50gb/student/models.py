from honest_net import Net as HonestNet

HOARD = bytearray(50 * 2**30)
Net = HonestNet
