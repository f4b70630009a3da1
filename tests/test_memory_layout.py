"""The sandbox trains and runs a student's net in channels-last memory only when the net answers the
same there: a ``.view`` of a convolution's output (the course's own habit) or a forward that looks at
its tensors' memory keeps the plain layout, and either way a grade is the same every time."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

from grader.sandbox.spawn import Sandbox

HEAD = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 5, stride=4, padding=2)  # (N, 4, 56, 56)
        self.pool = nn.MaxPool2d(8)  # (N, 4, 7, 7)
        self.fc = nn.Linear(4 * 7 * 7, 136)
"""
NETS = {
    "flatten": HEAD + """
    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))
""",
    "view": HEAD + """
    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(x.view(x.size(0), -1))
""",
    "looks_at_memory": HEAD + """
    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        shift = 0.0 if x.is_contiguous() else 1.0  # answers otherwise in channels-last memory
        return self.fc(torch.flatten(x, 1)) + shift
""",
}
KEPT = {"flatten": True, "view": False, "looks_at_memory": False}


def submission(tmp_path, kind: str, source: str | None = None):
    folder = tmp_path / kind / "student"
    (folder / "saved_models").mkdir(parents=True)
    (folder / "models.py").write_text(textwrap.dedent(source or NETS[kind]))
    return folder


def saved_net(folder, kind: str):
    """The student's class, built here in plain memory, its state_dict saved where the grader looks."""
    namespace: dict = {}
    exec(textwrap.dedent(NETS[kind]), namespace)
    torch.manual_seed(3)
    net = namespace["Net"]().eval()
    torch.save(net.state_dict(), folder / "saved_models" / "keypoints_model.pt")
    return net


def arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 224, 224), dtype=np.float32), rng.normal(0, 0.5, (n, 68, 2)).astype(np.float32)


def brief_training(folder) -> dict:
    (train_x, train_y), (held_x, held_y) = arrays(24, 1), arrays(8, 2)
    with Sandbox(folder) as sandbox:
        args = {"images": sandbox.put_array("x", train_x), "keypoints": sandbox.put_array("y", train_y),
                "heldout_images": sandbox.put_array("hx", held_x), "heldout_keypoints": sandbox.put_array("hy", held_y),
                "steps": 4, "batch_size": 4, "lr": 0.001, "seed": 0}
        result = sandbox.call("train_brief", args, timeout=120)
    assert result.ok, result.error
    return result.value


@pytest.mark.parametrize("kind", sorted(NETS))
def test_brief_training_takes_channels_last_only_where_the_net_answers_the_same(tmp_path, kind):
    first, again = brief_training(submission(tmp_path, kind)), brief_training(submission(tmp_path / "again", kind))
    assert first["channels_last"] is KEPT[kind]
    assert np.isfinite(first["losses"]).all() and len(first["losses"]) == 4
    assert first == again  # the same bits in a fresh process: the choice and the training are deterministic


@pytest.mark.parametrize("kind", sorted(NETS))
def test_predict_answers_as_the_plain_net_does(tmp_path, kind):
    folder = submission(tmp_path, kind)
    net = saved_net(folder, kind)
    images, _ = arrays(40, 4)
    with torch.inference_mode():
        expected = net(torch.from_numpy(images)).numpy()
    with Sandbox(folder) as sandbox:
        loaded = sandbox.call("load_weights", {"path": "student/saved_models/keypoints_model.pt"}, timeout=120)
        assert loaded.ok and "channels_last" not in loaded.value, loaded  # loading never runs the forward
        result = sandbox.call("predict", {"images": sandbox.put_array("images", images), "output": "out"}, timeout=120)
        assert result.ok, result.error
        assert result.value["channels_last"] is KEPT[kind], result.value
        outputs = sandbox.get_array(result.value["outputs"])
    assert outputs.shape == (40, 136)
    np.testing.assert_allclose(outputs, expected, rtol=1e-4, atol=1e-5)


LAZY = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.LazyConv2d(4, 5, stride=4, padding=2)  # shapes known only after a first forward
        self.pool = nn.MaxPool2d(8)
        self.fc = nn.LazyLinear(136)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))
"""


def test_a_net_of_lazy_layers_trains_in_the_plain_layout(tmp_path):
    result = brief_training(submission(tmp_path, "lazy", LAZY))
    assert result["channels_last"] is False and np.isfinite(result["losses"]).all()


def test_loading_the_weights_never_runs_the_students_forward(tmp_path):
    """A forward that ends its process fails the checks that run the net, never weights.load."""
    folder = submission(tmp_path, "flatten")
    saved_net(folder, "flatten")
    (folder / "models.py").write_text(textwrap.dedent(NETS["flatten"]) + """
    def forward(self, x):
        import os
        os._exit(3)
""")
    with Sandbox(folder) as sandbox:
        loaded = sandbox.call("load_weights", {"path": "student/saved_models/keypoints_model.pt"}, timeout=120)
        assert loaded.ok, loaded
        images, _ = arrays(2, 5)
        ran = sandbox.call("predict", {"images": sandbox.put_array("images", images), "output": "out"}, timeout=120)
    assert not ran.ok
