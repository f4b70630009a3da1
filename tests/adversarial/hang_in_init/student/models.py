from honest_net import Net as HonestNet


class Net(HonestNet):
    def __init__(self):
        super().__init__()
        while True:
            pass
