#!/usr/bin/env python
"""(Re)write the classic-layout fixture submissions: their notebooks, data_load.py, weights and expected.json.

    .venv/bin/python tests/submissions/classic/build.py [NAME ...]

Each fixture is a folder laid out like a course repository as a student left it (models.py, data_load.py
and notebooks at the top, weights in saved_models/), written by us. ``models.py`` (and
``model_naimishnet.py``) are written by hand and committed; everything else here comes from the table
``FIXTURES`` below, the notebook generator ``notebooks.py`` and the source templates in ``sources.py``.

The weights are deterministic: each network is built from the fixture's own model code after
``torch.manual_seed(seed)`` on one thread, so running this twice writes byte-identical files. They are
untrained, except that the last linear layer is shrunk (x 0.1) and its bias set to the mean training
face in the fixture's own frame and keypoint scaling: every fixture then predicts roughly the mean face
(test NME ~28.5 %, the mean-shape anchor) when its input size, crop and keypoint scaling are read
correctly (keypoints_112 read as (p - 100) / 50 gives 53 %; a wrong input size mostly fails to run).
After writing, every weights file is loaded the way the student's code
would load it and the outcome is checked against ``weights_accepted``.
"""
from __future__ import annotations

import collections
import contextlib
import importlib
import io
import json
import pickle
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
try:
    import notebooks as nbgen
    import sources
finally:
    sys.path.remove(str(HERE))

Style = nbgen.Style
NB2, NB3, NB1 = nbgen.NB2, nbgen.NB3, nbgen.NB1

# The mean of the 3462 training faces in the canonical frame (short side rescaled to 250, centre crop
# 224), (x, y) per keypoint, rounded to 0.1 px. Computed once from data/facial-keypoints.
MEAN_SHAPE_224 = [
    [58.7, 94.8], [59.8, 108.7], [62.5, 121.4], [65.6, 133.8], [70.5, 147.4], [78.4, 158.9], [87.1, 166.4],
    [98.4, 173.0], [115.1, 176.8], [131.4, 172.0], [141.9, 165.2], [149.9, 157.4], [157.1, 146.2],
    [161.1, 132.4], [163.3, 120.1], [165.2, 107.4], [165.4, 93.2], [71.8, 81.4], [78.0, 77.1], [85.7, 75.8],
    [92.9, 76.5], [99.5, 78.3], [125.4, 78.0], [131.5, 76.2], [138.7, 75.5], [146.5, 76.7], [152.6, 80.6],
    [112.8, 93.4], [113.1, 102.8], [113.6, 111.8], [113.9, 119.4], [105.0, 125.0], [108.7, 126.1],
    [113.8, 127.1], [118.6, 125.8], [122.2, 124.6], [82.0, 92.6], [86.9, 90.8], [93.3, 90.6], [99.0, 93.2],
    [93.8, 95.1], [87.1, 95.2], [126.2, 92.9], [132.1, 90.3], [138.4, 90.1], [143.4, 92.0], [138.3, 94.6],
    [131.8, 94.7], [95.3, 142.5], [101.7, 138.6], [109.7, 136.1], [114.0, 136.9], [118.0, 136.0],
    [125.6, 138.3], [131.6, 142.1], [125.4, 147.6], [120.2, 150.8], [114.2, 151.6], [108.0, 151.2],
    [102.1, 148.1], [96.6, 142.3], [108.5, 140.8], [113.9, 140.6], [119.2, 140.8], [130.2, 141.9],
    [119.1, 144.5], [114.0, 145.1], [108.5, 144.7],
]

SHIMS = ("cuda", "as_matrix", "workspace_utils", "shell_lines", "num_workers", "step_cap")
STATUSES = ("ok", "error", "absent")


@dataclass
class Fixture:
    name: str
    seed: int
    exercises: list[str]
    style: Style = field(default_factory=Style)
    notebooks: dict = field(default_factory=dict)  # file name -> cells
    scripts: dict = field(default_factory=dict)  # file name -> cells, written as nbconvert script exports
    data_load: dict = field(default_factory=dict)  # options of sources.data_load
    models_file: str = "models.py"
    model_module: str = "models"  # a module name, or the notebook whose cell defines the class
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    weights: str | None = "saved_models/keypoints_model_1.pt"
    weights_format: str = "state_dict"  # state_dict, legacy_no_nbt, checkpoint, module_prefix, cuda, whole, stale
    weights_accepted: bool = True
    input_size: int | None | str = "style"  # default: style.crop
    eval_transform: dict | None | str = "style"  # default: the notebook's Rescale / crop
    output_shape: list | None = field(default_factory=lambda: [136])
    shims: list = field(default_factory=list)
    notebook2: str | None = NB2
    notebook3: str | None = NB3
    status: dict = field(default_factory=lambda: {"2": "ok", "3": "ok"})
    outcome: str = ""  # one phrase for the README

    @property
    def folder(self) -> Path:
        return HERE / self.name

    @property
    def cls(self) -> str:
        return self.style.cls

    def expected(self) -> dict:
        s = self.style
        eval_transform = {"rescale": s.rescale, "crop": s.crop} if self.eval_transform == "style" else self.eval_transform
        return {
            "exercises": self.exercises,
            "roles": {
                "models": self.models_file,
                "data_load": "data_load.py",
                "weights": self.weights,
                "notebook2": self.notebook2,
                "notebook3": self.notebook3,
            },
            "model": {"module": self.model_module, "class": self.cls, "args": self.args, "kwargs": self.kwargs},
            "input_size": s.crop if self.input_size == "style" else self.input_size,
            "output_shape": self.output_shape,
            "keypoints": {"mean": float(s.kp_mean), "std": float(s.kp_std)},
            "eval_transform": eval_transform,
            "weights_accepted": self.weights_accepted,
            "shims": self.shims,
            "notebooks": self.status,
        }


def nb23(style: Style) -> dict:
    return {NB2: nbgen.nb2(style), NB3: nbgen.nb3(style)}


FIXTURES = [
    Fixture(
        "template_faithful", 101,
        ["the course's templates completed as asked: notebooks 1, 2 and 3 under their course names, relative "
         "data/, images/, detector_architectures/ and saved_models/ paths, n_epochs = 50, no 'parameters' cell",
         "data_transform = Compose([Rescale(250), RandomCrop(224), Normalize(), ToTensor()]), MSELoss + Adam, "
         "train_net(n_epochs) over train_loader, torch.save(net.state_dict(), model_dir + model_name)",
         "notebook 1 also builds FacialKeypointsDataset and a data_transform: it is not notebook 2",
         "notebook 3: Haar cascade on images/obamas.jpg, padded face crops resized to 224, "
         "net.load_state_dict(torch.load('saved_models/keypoints_model_1.pt')), net.eval()"],
        notebooks={NB1: nbgen.nb1(Style()), **nb23(Style())},
        shims=["step_cap"],
        outcome="weights load; notebooks 2 and 3 run (training capped)",
    ),
    Fixture(
        "old_torch_batchnorm", 102,
        ["BatchNorm weights saved by an old PyTorch (<= 0.4.0): legacy (non-zip) torch.save format, no "
         "'num_batches_tracked' keys and no _metadata, so load_state_dict fills the counters in",
         "a loader that adds num_batches_tracked or demands the zip format is wrong; strict loading must pass"],
        notebooks=nb23(Style()),
        weights_format="legacy_no_nbt",
        shims=["step_cap"],
        outcome="weights load (legacy format, no num_batches_tracked)",
    ),
    Fixture(
        "checkpoint_dict", 103,
        ["the weights file is a checkpoint dict {'epoch', 'model_state_dict', 'optimizer_state_dict', 'loss'}: "
         "the state_dict is under 'model_state_dict'",
         "notebook 3 loads checkpoint['model_state_dict']; the file is named saved_models/checkpoint.pth"],
        style=Style(save="checkpoint", weights="saved_models/checkpoint.pth"),
        weights="saved_models/checkpoint.pth",
        weights_format="checkpoint",
        shims=["step_cap"],
        outcome="weights load after unwrapping 'model_state_dict'",
    ),
    Fixture(
        "dataparallel_prefix", 104,
        ["every key of the state_dict starts with 'module.': notebook 2 wraps the net in nn.DataParallel "
         "before training and saves net.state_dict()",
         "notebook 3 wraps Net() in nn.DataParallel too, so its own load works; the filter cell uses net.module.conv1"],
        style=Style(dataparallel=True, weights="saved_models/keypoints_model_dp.pt"),
        weights="saved_models/keypoints_model_dp.pt",
        weights_format="module_prefix",
        shims=["step_cap"],
        outcome="weights load after stripping 'module.'",
    ),
    Fixture(
        "cuda_saved_tensors", 105,
        ["the weights were saved from a GPU: every storage is tagged cuda:0, so torch.load(f) fails on a CPU-only "
         "machine and torch.load(f, map_location='cpu') works",
         "notebook 2 picks cuda when available (runs on CPU); notebook 3 calls torch.load(path) without "
         "map_location, which needs the cuda shim whenever it loads the committed file"],
        style=Style(device="auto"),
        weights_format="cuda",
        shims=["cuda", "step_cap"],
        outcome="weights load with map_location='cpu'; notebook 3 needs the cuda shim",
    ),
    Fixture(
        "naimishnet_class", 106,
        ["the network class is NaimishNet, not Net: models.py has class NaimishNet(nn.Module), the notebooks "
         "use from models import NaimishNet / net = NaimishNet()",
         "three linear layers: only the last one has 136 outputs; dropout layers (the net must be in eval mode)"],
        style=Style(cls="NaimishNet", ctor="NaimishNet()", weights="saved_models/naimishnet.pt"),
        weights="saved_models/naimishnet.pt",
        shims=["step_cap"],
        outcome="weights load into NaimishNet()",
    ),
    Fixture(
        "constructor_args", 107,
        ["Net's constructor has two arguments without defaults, Net(n_outputs, drop_p): the notebooks build it "
         "as net = Net(136, drop_p=0.2) (a positional and a keyword literal); Net() raises TypeError"],
        style=Style(ctor="Net(136, drop_p=0.2)"),
        args=[136], kwargs={"drop_p": 0.2},
        shims=["step_cap"],
        outcome="weights load into Net(136, drop_p=0.2)",
    ),
    Fixture(
        "input_96", 108,
        ["input size 96: Rescale(100), RandomCrop(96); the net takes 1 x 96 x 96 (and fails on 224)",
         "notebook 3 resizes the face crops to 96 x 96; keypoints keep the course's (pts - 100) / 50 in the 96 frame"],
        style=Style(rescale=100, crop=96),
        shims=["step_cap"],
        outcome="weights load; evaluated at Rescale(100) + crop 96",
    ),
    Fixture(
        "input_227_train_and_test", 109,
        ["input size 227: Rescale(250), RandomCrop(227); an AlexNet-like net that takes 227 and fails on 224",
         "a single notebook named Train_and_Test.ipynb trains, saves and then computes the loss on the whole "
         "test set; there is no notebook 3 (no Haar cascade anywhere)"],
        style=Style(crop=227),
        notebooks={"Train_and_Test.ipynb": nbgen.train_and_test(Style(crop=227))},
        notebook2="Train_and_Test.ipynb", notebook3=None,
        status={"2": "ok", "3": "absent"},
        shims=["step_cap"],
        outcome="weights load; evaluated at crop 227; notebook 3 absent",
    ),
    Fixture(
        "keypoints_112", 110,
        ["another keypoint normalisation: data_load.Normalize computes (key_pts - 112) / 112, so pixel = "
         "value * 112 + 112 in the 224 frame (the notebooks un-normalise with * 112.0 + 112)"],
        style=Style(kp_mean=112, kp_std=112),
        data_load={"mean": 112, "std": 112},
        shims=["step_cap"],
        outcome="weights load; outputs read as value * 112 + 112",
    ),
    Fixture(
        "output_68x2", 111,
        ["forward returns (N, 68, 2) instead of (N, 136); the training loop compares it with the (N, 68, 2) "
         "keypoints without flattening"],
        style=Style(out_68x2=True),
        output_shape=[68, 2],
        shims=["step_cap"],
        outcome="weights load; (N, 68, 2) outputs reshaped to (N, 136)",
    ),
    Fixture(
        "renamed_notebooks", 112,
        ["notebooks under other names: '02 - Preprocessing and Network Training.ipynb' plays notebook 2 and "
         "'Facial_keypoints_and_Filters.ipynb' plays notebook 3 (CascadeClassifier + load_state_dict, then the "
         "first layer's filters on the photo)"],
        notebooks={"02 - Preprocessing and Network Training.ipynb": nbgen.nb2(Style()),
                   "Facial_keypoints_and_Filters.ipynb": nbgen.nb3(Style(), filters=True)},
        notebook2="02 - Preprocessing and Network Training.ipynb",
        notebook3="Facial_keypoints_and_Filters.ipynb",
        shims=["step_cap"],
        outcome="weights load; notebooks found by content",
    ),
    Fixture(
        "two_model_modules", 113,
        ["two model modules, both with a class Net: models.py (imported by '2. Define the Network "
         "Architecture.ipynb') and model_naimishnet.py (imported by '2. Define the Network Architecture - "
         "NaimishNet.ipynb')",
         "notebook 3 imports from model_naimishnet and loads saved_models/keypoints_model_naimish.pt, the only "
         "weights file, which fits model_naimishnet.Net and not models.Net"],
        style=Style(module="model_naimishnet", weights="saved_models/keypoints_model_naimish.pt"),
        notebooks={NB2: nbgen.nb2(Style()),
                   "2. Define the Network Architecture - NaimishNet.ipynb":
                       nbgen.nb2(Style(module="model_naimishnet", weights="saved_models/keypoints_model_naimish.pt")),
                   NB3: nbgen.nb3(Style(module="model_naimishnet", weights="saved_models/keypoints_model_naimish.pt"))},
        models_file="model_naimishnet.py", model_module="model_naimishnet",
        weights="saved_models/keypoints_model_naimish.pt",
        notebook2="2. Define the Network Architecture - NaimishNet.ipynb",
        shims=["step_cap"],
        outcome="weights load into model_naimishnet.Net (not models.Net)",
    ),
    Fixture(
        "unconditional_cuda", 114,
        ["CUDA without a check: net.cuda(), images.type(torch.cuda.FloatTensor), images.to(\"cuda\") in "
         "notebook 2; net.to('cuda') and torch.cuda.FloatTensor in notebook 3",
         "the weights were saved on the GPU too (storages tagged cuda:0)"],
        style=Style(device="cuda"),
        weights_format="cuda",
        shims=["cuda", "step_cap"],
        outcome="weights load with map_location='cpu'; notebooks need the cuda shim",
    ),
    Fixture(
        "as_matrix_workspace_utils", 115,
        ["pandas' removed DataFrame.as_matrix(): in data_load.py's __getitem__ and in a notebook 2 cell",
         "from workspace_utils import active_session / with active_session(): train_net(n_epochs), and "
         "workspace_utils.py is not in the folder",
         "a !pip install line and !wget / !unzip lines in notebook 2 (the pip line has --no-index, so even an "
         "unshimmed run installs nothing; the URL's host does not exist)"],
        style=Style(as_matrix=True, workspace_utils=True, shell_lines=True),
        data_load={"as_matrix": True},
        shims=["as_matrix", "workspace_utils", "shell_lines", "step_cap"],
        outcome="weights load; notebook 2 needs three shims",
    ),
    Fixture(
        "long_training_loop", 116,
        ["a hard-coded long run: n_epochs = 500 and DataLoader(..., num_workers=4) for both loaders"],
        style=Style(n_epochs=500, num_workers=4),
        shims=["num_workers", "step_cap"],
        outcome="weights load; notebook 2 runs only with the step cap",
    ),
    Fixture(
        "no_notebooks", 117,
        ["no notebook and no script at all: models.py, data_load.py and saved_models/ only",
         "nothing says how the student cropped: the grader falls back to its canonical Rescale(250) + centre "
         "crop 224, which the net accepts"],
        status={"2": "absent", "3": "absent"},
        notebook2=None, notebook3=None,
        eval_transform={"rescale": 250, "crop": 224}, input_size=224,
        outcome="weights load; notebooks absent",
    ),
    Fixture(
        "script_exports", 118,
        ["Python scripts instead of notebooks: define_network_architecture.py and facial_keypoint_detection.py, "
         "nbconvert --to script exports (# In[n]: markers, magics as get_ipython() calls), no .ipynb",
         "they play notebooks 2 and 3: a grader rebuilds cells at the # In[n]: markers and runs them in a kernel "
         "(statuses below are for such a run)"],
        scripts={"define_network_architecture.py": nbgen.nb2(Style()),
                 "facial_keypoint_detection.py": nbgen.nb3(Style())},
        notebook2="define_network_architecture.py", notebook3="facial_keypoint_detection.py",
        shims=["step_cap"],
        outcome="weights load; scripts found and run as notebooks",
    ),
    Fixture(
        "untouched_template", 119,
        ["the course's starting point, never completed: Net.__init__ has one conv layer and there is no forward, "
         "no weights file, notebook 2 keeps data_transform = None (its assert fails), criterion = None",
         "notebook 3 keeps its TODOs: the load_state_dict line is commented out, so it runs without predicting"],
        style=Style(template=True),
        weights=None, weights_accepted=False, weights_format="none",
        input_size=None, eval_transform=None, output_shape=None,
        status={"2": "error", "3": "ok"},
        outcome="nothing to evaluate: no forward, no weights; notebook 2 fails at its assert",
    ),
    Fixture(
        "net_in_notebook", 120,
        ["models.py has imports only; the network class Net is defined in a cell of notebook 2 (model.module "
         "names that notebook) and the weights fit it",
         "notebook 3 still does from models import Net and fails with ImportError"],
        style=Style(class_cell=sources.NOTEBOOK_NET),
        model_module=NB2,
        shims=["step_cap"],
        status={"2": "ok", "3": "error"},
        outcome="weights load into the notebook's Net; notebook 3 fails (ImportError)",
    ),
    Fixture(
        "stale_weights", 121,
        ["the weights predate the last edit of models.py (conv1 had 8 filters, now 16): load_state_dict raises "
         "a size mismatch",
         "only notebook 3 is in the folder; run against the committed weights it fails at load_state_dict"],
        notebooks={NB3: nbgen.nb3(Style())},
        notebook2=None,
        weights_format="stale", weights_accepted=False,
        status={"2": "absent", "3": "error"},
        outcome="weights refused (size mismatch); notebook 3 fails",
    ),
    Fixture(
        "whole_model_pickle", 122,
        ["torch.save(net, ...): the file holds the whole pickled module (class models.Net), not a state_dict",
         "torch.load(weights_only=True), the default since torch 2.6, refuses it, so notebook 3's "
         "net = torch.load(path) fails too; a grader must not unpickle it"],
        style=Style(save="whole"),
        weights_format="whole", weights_accepted=False,
        shims=["step_cap"],
        status={"2": "ok", "3": "error"},
        outcome="weights refused (a pickled module); notebook 3 fails",
    ),
]


def _default_notebooks():
    for fx in FIXTURES:
        if not fx.notebooks and not fx.scripts and fx.notebook2 == NB2 and fx.notebook3 == NB3:
            fx.notebooks = nb23(fx.style)


_default_notebooks()


# --------------------------------------------------------------------------------------------- model code

@contextlib.contextmanager
def fixture_on_path(folder: Path):
    """Import a fixture's modules (models, data_load, ...) by their plain names, then forget them."""
    names = {p.stem for p in folder.glob("*.py")}

    def purge():
        for name in names:
            sys.modules.pop(name, None)

    purge()
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        purge()


def build_net(fx: Fixture, source_edit=None) -> nn.Module:
    """The fixture's network, built the way its notebooks build it."""
    if fx.model_module.endswith(".ipynb"):
        namespace: dict = {"__name__": "__notebook__"}
        exec(compile(fx.style.class_cell, f"{fx.name}/{fx.model_module}", "exec"), namespace)
        return namespace[fx.cls](*fx.args, **fx.kwargs)
    if source_edit is not None:
        source = source_edit((fx.folder / fx.models_file).read_text())
        namespace = {"__name__": fx.model_module}
        exec(compile(source, f"{fx.name}/{fx.models_file} (earlier version)", "exec"), namespace)
        return namespace[fx.cls](*fx.args, **fx.kwargs)
    module = importlib.import_module(fx.model_module)
    return getattr(module, fx.cls)(*fx.args, **fx.kwargs)


def head_bias(fx: Fixture) -> torch.Tensor:
    """The mean training face in the fixture's frame and keypoint scaling, flattened to 136 values."""
    s = fx.style
    shape = torch.tensor(MEAN_SHAPE_224, dtype=torch.float64)
    frame = (shape + 13.0) * (s.rescale / 250.0) - (s.rescale - s.crop) / 2.0
    return ((frame - s.kp_mean) / s.kp_std).reshape(-1).float()


def init_net(fx: Fixture, net: nn.Module) -> nn.Module:
    """Shrink the last linear layer and point its bias at the mean face; give BatchNorm real statistics."""
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    head = linears[-1]
    assert head.out_features == 136, (fx.name, head)
    with torch.no_grad():
        head.weight.mul_(0.1)
        head.bias.copy_(head_bias(fx))
    if any(isinstance(m, nn.BatchNorm2d) for m in net.modules()):
        net.train()
        with torch.no_grad():
            for _ in range(3):
                net(torch.rand(4, 1, fx.style.crop, fx.style.crop))
    net.eval()
    return net


# --------------------------------------------------------------------------------------------- weight writers

def save_legacy_without_counters(state_dict: dict, path: Path) -> None:
    """What PyTorch <= 0.4.0 wrote: the pre-zip format, no num_batches_tracked, no _metadata.

    The legacy format names each storage by its memory address and writes the storages sorted by
    that name, so two runs differ. Here the names become fixed address-like numbers in the order the
    tensors appear, and the storages follow in that order, so that the file is the same on every run.
    Layout: pickles of the magic number, the protocol version, sys_info, the object (storages as
    persistent ids), the sorted list of storage names; then each storage as an int64 element count
    and its raw bytes.
    """
    plain = collections.OrderedDict((k, v) for k, v in state_dict.items() if not k.endswith("num_batches_tracked"))
    assert not hasattr(plain, "_metadata")
    buffer = io.BytesIO()
    torch.save(plain, buffer, _use_new_zipfile_serialization=False)
    data = buffer.getvalue()

    stream = io.BytesIO(data)
    for _ in range(3):
        pickle.load(stream)
    object_start = stream.tell()
    order, nbytes = [], {}
    element_size = {"FloatStorage": 4, "DoubleStorage": 8, "LongStorage": 8, "IntStorage": 4, "HalfStorage": 2}

    class Scan(pickle.Unpickler):
        def persistent_load(self, pid):
            _, storage_type, key, _location, numel, _view = pid
            if key not in nbytes:
                order.append(key)
                nbytes[key] = 8 + numel * element_size[storage_type]
            return None

        def find_class(self, module, name):
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            if module == "torch" and name.endswith("Storage"):
                return name
            return lambda *args, **kwargs: None

    Scan(stream).load()
    object_end = stream.tell()
    sorted_keys = pickle.load(stream)
    assert sorted_keys == sorted(order), (sorted_keys, order)
    blobs, offset = {}, stream.tell()
    for key in sorted_keys:
        blobs[key] = data[offset:offset + nbytes[key]]
        offset += nbytes[key]
    assert offset == len(data), (offset, len(data))

    obj = data[object_start:object_end]
    names = {}
    for index, key in enumerate(order):
        names[key] = str(94_000_000_000_000 + 4096 * index)
        old = b"X" + len(key).to_bytes(4, "little") + key.encode()
        new = b"X" + len(names[key]).to_bytes(4, "little") + names[key].encode()
        assert obj.count(old) == 1, (key, obj.count(old))  # memoised: written once
        obj = obj.replace(old, new)
    keys = pickle.dumps(sorted(names.values()), protocol=2)
    path.write_bytes(data[:object_start] + obj + keys + b"".join(blobs[key] for key in order))


def retag_storages_cuda(path: Path) -> None:
    """Rewrite a zip-format torch file so that its storages say cuda:0 instead of cpu (as a GPU save does).

    data.pkl names the location as a BINUNICODE string: opcode 'X', a 4-byte little-endian length, the
    text. It is memoised, so it occurs once; the new string carries its own length.
    """
    reader = torch._C.PyTorchFileReader(str(path))
    records = [(name, bytes(reader.get_record(name))) for name in reader.get_all_records()
               if name not in ("version", ".data/serialization_id")]  # the writer adds these two itself
    del reader
    old, new = b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"
    writer = torch._C.PyTorchFileWriter(str(path))  # same path: same archive name as torch.save wrote
    for name, data in records:
        if name == "data.pkl":
            assert data.count(old) == 1, data.count(old)
            data = data.replace(old, new)
        writer.write_record(name, data, len(data))
    writer.write_end_of_file()
    del writer


def checkpoint_of(fx: Fixture, net: nn.Module) -> dict:
    """A training checkpoint after one Adam step on a fixed random batch."""
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    images = torch.rand(4, 1, fx.style.crop, fx.style.crop)
    target = head_bias(fx).expand(4, 136)
    net.train()
    loss = nn.MSELoss()(net(images).view(4, -1), target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    net.eval()
    return {"epoch": 50, "model_state_dict": net.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
            "loss": round(loss.item(), 6)}


def write_weights(fx: Fixture) -> nn.Module:
    path = fx.folder / fx.weights
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(fx.seed)
    if fx.weights_format == "stale":
        def earlier(source: str) -> str:
            edited = source.replace("nn.Conv2d(1, 16, 5, stride=2)", "nn.Conv2d(1, 8, 5, stride=2)")
            edited = edited.replace("nn.Conv2d(16, 8, 3, stride=2)", "nn.Conv2d(8, 8, 3, stride=2)")
            assert edited.count("nn.Conv2d(1, 8,") == 1 and edited.count("nn.Conv2d(8, 8,") == 1
            return edited
        net = init_net(fx, build_net(fx, source_edit=earlier))
    else:
        net = init_net(fx, build_net(fx))
    if fx.weights_format in ("state_dict", "stale"):
        torch.save(net.state_dict(), path)
    elif fx.weights_format == "legacy_no_nbt":
        save_legacy_without_counters(net.state_dict(), path)
    elif fx.weights_format == "checkpoint":
        torch.save(checkpoint_of(fx, net), path)
    elif fx.weights_format == "module_prefix":
        torch.save(nn.DataParallel(net).state_dict(), path)
    elif fx.weights_format == "cuda":
        torch.save(net.state_dict(), path)
        retag_storages_cuda(path)
    elif fx.weights_format == "whole":
        torch.save(net, path)
    else:
        raise ValueError(fx.weights_format)
    return net


# --------------------------------------------------------------------------------------------- checks

def unwrap(obj):
    """A checkpoint dict -> its state_dict; 'module.' prefixes stripped."""
    if isinstance(obj, dict):
        for key in ("model_state_dict", "state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if isinstance(obj, dict) and obj and all(k.startswith("module.") for k in obj):
        obj = collections.OrderedDict((k[len("module."):], v) for k, v in obj.items())
    return obj


def check_weights(fx: Fixture, written: nn.Module) -> str:
    """Load the weights the way the student's code would; compare with weights_accepted and with the
    network that was written. Returns a note."""
    path = fx.folder / fx.weights
    net = build_net(fx)
    try:
        net.load_state_dict(unwrap(torch.load(path, map_location="cpu")))
        accepted, note = True, "accepted"
        reference = written.state_dict()
        for key, value in net.state_dict().items():
            if not key.endswith("num_batches_tracked"):
                assert torch.equal(value, reference[key]), (fx.name, key)
    except Exception as error:  # noqa: BLE001 - any refusal counts
        accepted, note = False, f"refused: {type(error).__name__}: {str(error).splitlines()[0][:90]}"
    assert accepted == fx.weights_accepted, (fx.name, note)

    if fx.weights_format == "legacy_no_nbt":  # the student's exact line, no unwrapping
        raw = torch.load(path, map_location="cpu")
        assert not hasattr(raw, "_metadata") and not any("num_batches_tracked" in k for k in raw), list(raw)
        build_net(fx).load_state_dict(raw)
        assert not __import__("zipfile").is_zipfile(path)
    if fx.weights_format == "cuda":
        assert not torch.cuda.is_available()
        try:
            torch.load(path)
        except RuntimeError as error:
            assert "CUDA" in str(error), error
        else:
            raise AssertionError(f"{path}: torch.load without map_location should fail on a CPU-only machine")
        build_net(fx).load_state_dict(torch.load(path, map_location="cpu"))
    if fx.weights_format == "whole":  # (called with the fixture's folder on sys.path)
        assert isinstance(torch.load(path, map_location="cpu", weights_only=False), nn.Module)
    if accepted:
        net.eval()
        with torch.no_grad():
            out = net(torch.rand(2, 1, fx.style.crop, fx.style.crop))
        assert list(out.shape) == [2, *fx.output_shape], (fx.name, out.shape)
    return note


# --------------------------------------------------------------------------------------------- writing

def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text, encoding="utf-8")


def write_fixture(fx: Fixture) -> str:
    assert set(fx.shims) <= set(SHIMS) and set(fx.status.values()) <= set(STATUSES), fx.name
    write_text(fx.folder / "data_load.py", sources.data_load(**fx.data_load))
    for name, cells in fx.notebooks.items():
        write_text(fx.folder / name, nbgen.nbformat.writes(nbgen.notebook(name, cells)))
    for name, cells in fx.scripts.items():
        write_text(fx.folder / name, nbgen.to_script(nbgen.notebook(name, cells)))
    with fixture_on_path(fx.folder):
        if fx.weights:
            note = check_weights(fx, write_weights(fx))
        else:
            build_net(fx)  # it must at least build
            note = "no weights"
    write_text(fx.folder / "expected.json", json.dumps(fx.expected(), indent=2))
    return note


README_HEAD = """\
# Classic-layout fixture submissions

Submissions in the course's own layout, as students left their repositories: `models.py`,
`data_load.py` and the notebooks at the top of the folder, weights in `saved_models/`, no
`transforms.py`, no `student/` folder. Every file is written by us (nothing is copied from a student's
repository). The grader must discover each student's choices from these files; each fixture's
`expected.json` says what a correct grader finds:

- `roles`: which file plays which part (null when absent); `model`: the module (or, for a class defined
  in a notebook cell, the notebook), class and constructor arguments; `input_size`, `output_shape`;
  `keypoints`: pixel = value * std + mean in the frame the net sees; `eval_transform`: Rescale size and
  (centre) crop size; `weights_accepted`: whether the student's own
  `net.load_state_dict(torch.load(f, map_location="cpu"))` accepts the file once a checkpoint dict is
  unwrapped and a `module.` prefix stripped; `shims`: compatibility shims a grading run needs;
  `notebooks`: the status a grading-mode run of notebooks 2 and 3 ends with (`ok`, `error`, `absent`),
  the grader providing `data/`, `images/` and `detector_architectures/` and capping training steps.

`build.py` writes everything here except `models.py` / `model_naimishnet.py` (hand-written): the
notebooks (from `notebooks.py`), `data_load.py` (from `sources.py`), `expected.json`, this table and
the weights (seeded, byte-identical on every run). The weights are untrained except for the last
layer, whose bias is the mean training face in the fixture's own frame and scaling, so a correct
evaluation gives about the mean-shape NME (28.5 %). `tests/classic_nme.py` computes a fixture's test
NME independently of the grader: `.venv/bin/python tests/classic_nme.py template_faithful`.

| fixture | exercises | expected outcome | weights |
| --- | --- | --- | --- |
"""


def write_readme(rows: list[str]) -> None:
    write_text(HERE / "README.md", README_HEAD + "\n".join(rows))


def main(argv: list[str]) -> int:
    torch.set_num_threads(1)
    wanted = set(argv)
    unknown = wanted - {fx.name for fx in FIXTURES}
    if unknown:
        raise SystemExit(f"unknown fixtures: {sorted(unknown)}")
    rows = []
    for fx in FIXTURES:
        if not wanted or fx.name in wanted:
            note = write_fixture(fx)
            size = (fx.folder / fx.weights).stat().st_size if fx.weights else 0
            print(f"{fx.name:28s} {size / 1024:7.1f} KB  {note}")
        summary = "<br>".join(re.sub(r"\s+", " ", line).replace("|", "\\|") for line in fx.exercises)
        weights = f"`{fx.weights}` ({(fx.folder / fx.weights).stat().st_size / 1024:.0f} KB)" if fx.weights else "none"
        rows.append(f"| `{fx.name}` | {summary} | {fx.outcome} | {weights} |")
    write_readme(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
