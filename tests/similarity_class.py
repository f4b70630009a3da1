"""A class of eight submissions with planted copies, written here (no student's code) for the similarity tests.

| name | layout | code | weights |
| --- | --- | --- | --- |
| alpha | project | a small net, layers as attributes | trained from seed 1 |
| bravo | project | the same net written another way | alpha's file, byte for byte, under another name |
| charlie | project | the same net as one nn.Sequential | alpha's tensors after a few SGD steps |
| foxtrot | classic | the same net as a builder function | its own, from seed 7 |
| delta | project | a residual net with several methods | none |
| echo | classic | delta's code: names changed, methods reordered, other comments | none |
| starter_1, starter_2 | project | the course's untouched starter (student/ and notebooks/) | none |

Flagged pairs: alpha, bravo and charlie with one another (weights), delta with echo (code).
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_PAIRS = {("alpha", "bravo"), ("alpha", "charlie"), ("bravo", "charlie"), ("delta", "echo")}

ALPHA = '''"""Keypoints from a small strided CNN."""
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5, stride=4)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc = nn.Linear(256, 136)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.pool(x)
        return self.fc(x.view(x.size(0), -1))
'''

BRAVO = '''import torch
from torch import nn


class Net(nn.Module):
    """Two convolutions, a pooled grid of 4 x 4, one linear layer."""

    def __init__(self, channels=(8, 16)):
        super(Net, self).__init__()
        first, second = channels
        self.conv1 = nn.Conv2d(in_channels=1, out_channels=first, kernel_size=5, stride=4)
        self.conv2 = nn.Conv2d(in_channels=first, out_channels=second, kernel_size=3, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(output_size=(4, 4))
        self.fc = nn.Linear(in_features=second * 16, out_features=136)
        self.act = nn.ReLU(inplace=True)

    def forward(self, images):
        hidden = self.act(self.conv1(images))
        hidden = self.pool(self.act(self.conv2(hidden)))
        return self.fc(torch.flatten(hidden, start_dim=1))
'''

CHARLIE = '''import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 5, stride=4), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.out = nn.Linear(256, 136)

    def forward(self, x):
        return self.out(self.features(x))
'''

FOXTROT = '''# my keypoint model for the project
import torch.nn as nn

SIZES = [(1, 8, 5, 4), (8, 16, 3, 2)]


def build_layers():
    layers = []
    for c_in, c_out, k, s in SIZES:
        layers += [nn.Conv2d(c_in, c_out, k, stride=s), nn.ReLU()]
    layers += [nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(256, 136)]
    return layers


class KeypointModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(*build_layers())

    def forward(self, batch):
        return self.layers(batch)
'''

# delta's network, one method a string, so that echo can reorder them and rename what is in them.
DELTA_HEADER = '''"""A residual keypoint network: a stem, three residual stages, a regression head."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
'''
DELTA_METHODS = [
    '''    def __init__(self, width=12, stages=3):
        super().__init__()
        self.stem = nn.Conv2d(1, width, 7, stride=4, padding=3)
        blocks = []
        for stage in range(stages):
            blocks.append(self.make_stage(width * (stage + 1), width * (stage + 2)))
        self.stages = nn.ModuleList(blocks)
        self.head = nn.Linear(width * (stages + 1), 136)
        self.reset_parameters()
''',
    '''    def make_stage(self, in_width, out_width):
        # a strided 3x3 convolution, a 1x1 shortcut, batch norm after both
        main = nn.Sequential(nn.Conv2d(in_width, out_width, 3, stride=2, padding=1, bias=False),
                             nn.BatchNorm2d(out_width), nn.ReLU(),
                             nn.Conv2d(out_width, out_width, 3, padding=1, bias=False), nn.BatchNorm2d(out_width))
        shortcut = nn.Sequential(nn.Conv2d(in_width, out_width, 1, stride=2, bias=False), nn.BatchNorm2d(out_width))
        return nn.ModuleDict({"main": main, "shortcut": shortcut})
''',
    '''    def reset_parameters(self):
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.head.weight, std=0.001)
        nn.init.zeros_(self.head.bias)
''',
    '''    def run_stage(self, stage, features):
        residual = stage["shortcut"](features)
        features = stage["main"](features)
        return F.relu(features + residual)
''',
    '''    def forward(self, images):
        features = F.relu(self.stem(images))
        for stage in self.stages:
            features = self.run_stage(stage, features)
        pooled = torch.mean(features, dim=(2, 3))
        return self.head(pooled)
''',
]
ECHO_NAMES = {"width": "base_channels", "stages": "n_levels", "stem": "entry", "blocks": "level_list",
              "make_stage": "_level", "in_width": "c_in", "out_width": "c_out", "main": "body", "shortcut": "skip",
              "reset_parameters": "_init_weights", "module": "m", "run_stage": "_apply_level", "stage": "lvl",
              "features": "h", "residual": "identity", "images": "inp", "pooled": "vec", "head": "regressor"}
ECHO_ORDER = (4, 3, 0, 2, 1)


def delta_code() -> str:
    return DELTA_HEADER + "\n".join(DELTA_METHODS)


def echo_code() -> str:
    """delta's code with every name of its own changed, the methods in another order, comments reworded."""
    methods = "\n\n".join(DELTA_METHODS[i] for i in ECHO_ORDER)
    methods = methods.replace("# a strided 3x3 convolution, a 1x1 shortcut, batch norm after both",
                              "# downsample by two; the skip path matches the channels")
    for old, new in ECHO_NAMES.items():
        methods = re.sub(rf"\b{old}\b", new, methods)
    header = ("# Project 1, keypoints. Residual design.\nimport torch\nimport torch.nn as nn\n"
              "import torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
              "    # levels of residual blocks then a linear regressor\n\n")
    return header + methods


def net_from(source: str, cls: str = "Net") -> nn.Module:
    """Our own fixture code, built in the test process to make its weights (never a student's)."""
    scope: dict = {}
    exec(compile(source, "<fixture>", "exec"), scope)  # noqa: S102 - the fixture's own source, written above
    return scope[cls]()


def copy_into(net: nn.Module, tensors: list[torch.Tensor]) -> nn.Module:
    """Load tensors by position: the copies name their layers differently but have the same shapes."""
    state = net.state_dict()
    net.load_state_dict({name: t.clone() for name, t in zip(state, tensors)})
    return net


def fine_tuned(net: nn.Module, steps: int = 5, seed: int = 5) -> nn.Module:
    """A few Adam steps on random faces: the tensors move a little, as a copied-then-trained file would."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(steps):
        images, targets = torch.rand(4, 1, 224, 224, generator=generator), torch.randn(4, 136, generator=generator)
        optimizer.zero_grad()
        nn.functional.mse_loss(net(images), targets).backward()
        optimizer.step()
    return net


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def starter(target: Path) -> None:
    shutil.copytree(ROOT / "student", target / "student", ignore=shutil.ignore_patterns("__pycache__", "*.pt"))
    shutil.copytree(ROOT / "notebooks", target / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


def build_class(folder: Path) -> Path:
    """The eight submissions under ``folder/submissions``."""
    subs = folder / "submissions"
    torch.manual_seed(1)
    alpha = net_from(ALPHA)
    write(subs / "alpha" / "student" / "models.py", ALPHA)
    (subs / "alpha" / "student" / "saved_models").mkdir()
    torch.save(alpha.state_dict(), subs / "alpha" / "student" / "saved_models" / "keypoints_model.pt")

    write(subs / "bravo" / "student" / "models.py", BRAVO)
    (subs / "bravo" / "student" / "saved_models").mkdir()
    shutil.copy2(subs / "alpha" / "student" / "saved_models" / "keypoints_model.pt",
                 subs / "bravo" / "student" / "saved_models" / "my_final_model.pth")

    write(subs / "charlie" / "student" / "models.py", CHARLIE)
    charlie = fine_tuned(copy_into(net_from(CHARLIE), list(alpha.state_dict().values())))
    (subs / "charlie" / "student" / "saved_models").mkdir()
    torch.save(charlie.state_dict(), subs / "charlie" / "student" / "saved_models" / "keypoints_model.pt")

    write(subs / "foxtrot" / "models.py", FOXTROT)
    torch.manual_seed(7)
    (subs / "foxtrot" / "saved_models").mkdir(parents=True)
    foxtrot = net_from(FOXTROT, "KeypointModel")
    torch.save(foxtrot.state_dict(), subs / "foxtrot" / "saved_models" / "keypoints_model.pt")

    write(subs / "delta" / "student" / "models.py", delta_code())
    write(subs / "echo" / "models.py", echo_code())
    for name in ("starter_1", "starter_2"):
        starter(subs / name)
    return subs
