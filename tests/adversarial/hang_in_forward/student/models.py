from honest_net import Net as HonestNet


class Net(HonestNet):
    def forward(self, x):
        while True:
            pass
