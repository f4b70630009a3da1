"""Never finishes importing: the grader's probe timeout must turn this into a `timeout` check."""
import time

import torch.nn as nn

while True:  # e.g. a training loop left at the top level of models.py
    time.sleep(0.5)


class Net(nn.Module):
    pass
