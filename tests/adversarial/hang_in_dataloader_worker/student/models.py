import time

import torch
from torch.utils.data import DataLoader, Dataset

from honest_net import Net  # noqa: F401


class Forever(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        while True:  # runs in the worker process: the main process waits for it forever
            time.sleep(0.1)


next(iter(DataLoader(Forever(), num_workers=1, timeout=0)))
