"""How the small fixture's weights were made: 3 epochs of Adam on canonically preprocessed training faces."""
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "student"))
sys.path.insert(0, str(HERE.parents[2]))
from models import Net  # noqa: E402

from grader.data import dataset as data  # noqa: E402

torch.manual_seed(0)
torch.set_num_threads(2)
train = data.load_eval_set(HERE.parents[2] / "data" / "facial-keypoints", "training")
x = torch.from_numpy(train.images)
y = torch.from_numpy(train.true_normalised().reshape(len(x), -1).astype(np.float32))
net = Net()
opt = torch.optim.Adam(net.parameters(), lr=3e-3)
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 600
for step in range(steps):
    index = torch.randint(0, len(x), (32,))
    opt.zero_grad()
    loss = torch.nn.functional.smooth_l1_loss(net(x[index]), y[index], beta=0.05)
    loss.backward()
    opt.step()
    if step % 50 == 0:
        print(step, float(loss), flush=True)
torch.save(net.state_dict(), HERE / "student" / "saved_models" / "keypoints_model.pt")
