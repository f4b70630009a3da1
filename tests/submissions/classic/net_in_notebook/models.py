## I moved the network into notebook 2 (it was easier to change it there).

import torch
import torch.nn as nn
import torch.nn.functional as F
