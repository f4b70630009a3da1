"""Notebooks of the classic fixtures, written the way a student completes the course's templates.

Every notebook is built here from shared cells and a ``Style`` (one per fixture) that says what the
student did differently: the class name and constructor, the input size, the keypoint scaling, CUDA,
DataParallel, how the weights are saved and loaded, pandas' ``as_matrix``, ``workspace_utils``, shell
lines... ``build.py`` writes them with nbformat (v4, no outputs, deterministic cell ids).
All text and code here is ours.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NB2 = "2. Define the Network Architecture.ipynb"
NB3 = "3. Facial Keypoint Detection, Complete Pipeline.ipynb"
NB1 = "1. Load and Visualize Data.ipynb"


@dataclass
class Style:
    """What one student's notebooks look like."""

    module: str = "models"  # where notebook 2 and 3 import the network from
    cls: str = "Net"
    ctor: str = "Net()"  # the expression that builds the network
    rescale: int = 250
    crop: int = 224
    kp_mean: float = 100  # data_load.Normalize: (pts - kp_mean) / kp_std
    kp_std: float = 50
    n_epochs: int = 50
    batch_size: int = 10
    num_workers: int = 0
    device: str = "cpu"  # "cpu", "auto" (cuda if available) or "cuda" (unconditional)
    dataparallel: bool = False
    save: str = "state_dict"  # "state_dict", "checkpoint" or "whole" (torch.save(net, ...))
    weights: str = "saved_models/keypoints_model_1.pt"
    out_68x2: bool = False  # forward returns (N, 68, 2)
    as_matrix: bool = False  # a notebook cell uses DataFrame.as_matrix()
    workspace_utils: bool = False  # with active_session(): train_net(n_epochs)
    shell_lines: bool = False  # !pip / !wget / !unzip
    class_cell: str | None = None  # the network class defined in a notebook cell instead of a module
    template: bool = False  # the untouched course template: nothing filled in
    answers: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- helpers

def _cell_id(name: str, index: int) -> str:
    return hashlib.sha1(f"{name}:{index}".encode()).hexdigest()[:8]


def notebook(name: str, cells: list) -> nbformat.NotebookNode:
    """A v4 notebook from ("md" | "code", text) pairs: no outputs, no execution counts, stable ids."""
    nb = new_notebook()
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3", "file_extension": ".py",
                          "mimetype": "text/x-python", "nbconvert_exporter": "python"},
    }
    for index, (kind, text) in enumerate(cells):
        text = text.strip("\n")
        cell = new_markdown_cell(text) if kind == "md" else new_code_cell(text)
        cell.id = _cell_id(name, index)
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def to_script(nb: nbformat.NotebookNode) -> str:
    """The notebook as nbconvert's ``--to script`` writes it for a notebook that ran top to bottom."""
    from nbconvert import ScriptExporter

    nb = nbformat.from_dict(nb)
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            count += 1
            cell.execution_count = count
    body, _ = ScriptExporter().from_notebook_node(nb)
    return body


def md(text: str):
    return ("md", text)


def code(text: str):
    return ("code", text)


def _num(value: float) -> str:
    return f"{value:g}"


def _unnormalise(var: str, s: Style) -> str:
    """The student's line that turns normalised keypoints back into pixels of the frame."""
    if (s.kp_mean, s.kp_std) == (100, 50):
        return f"{var} = {var} * 50.0 + 100"
    return f"{var} = {var} * {_num(s.kp_std)}.0 + {_num(s.kp_mean)}"


def _net_ref(s: Style) -> str:
    return "net.module" if s.dataparallel else "net"


# --------------------------------------------------------------------------------------------- notebook 1

def nb1(s: Style) -> list:
    return [
        md("""
# Load and Visualize Data

A first look at the data: the keypoints CSV, one face with its 68 points, and what the transforms in
`data_load.py` do to a sample.
"""),
        code("""
import glob
import os

import cv2
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
%matplotlib inline
"""),
        code("""
key_pts_frame = pd.read_csv('data/training_frames_keypoints.csv')

n = 0
image_name = key_pts_frame.iloc[n, 0]
key_pts = key_pts_frame.iloc[n, 1:].values
key_pts = key_pts.astype('float').reshape(-1, 2)

print('Image name: ', image_name)
print('Landmarks shape: ', key_pts.shape)
print('First 4 key pts: {}'.format(key_pts[:4]))
print('Number of images: ', key_pts_frame.shape[0])
"""),
        code("""
def show_keypoints(image, key_pts):
    \"\"\"An image with its keypoints on top.\"\"\"
    plt.imshow(image)
    plt.scatter(key_pts[:, 0], key_pts[:, 1], s=20, marker='.', c='m')


plt.figure(figsize=(5, 5))
show_keypoints(mpimg.imread(os.path.join('data/training/', image_name)), key_pts)
plt.show()
"""),
        md("""
## The dataset class and the transforms

`FacialKeypointsDataset` and the transforms live in `data_load.py`.
"""),
        code(f"""
from torchvision import transforms

from data_load import FacialKeypointsDataset, Normalize, RandomCrop, Rescale, ToTensor

face_dataset = FacialKeypointsDataset(csv_file='data/training_frames_keypoints.csv',
                                      root_dir='data/training/')
print('Length of dataset: ', len(face_dataset))

data_transform = transforms.Compose([Rescale({s.rescale}), RandomCrop({s.crop}), Normalize(), ToTensor()])

transformed_dataset = FacialKeypointsDataset(csv_file='data/training_frames_keypoints.csv',
                                             root_dir='data/training/',
                                             transform=data_transform)
for i in range(3):
    sample = transformed_dataset[i]
    print(i, sample['image'].size(), sample['keypoints'].size())
"""),
    ]


# --------------------------------------------------------------------------------------------- notebook 2

def _nb2_intro(s: Style) -> list:
    return [
        md("""
# Define the Convolutional Neural Network

The network is defined in `models.py`; here it is trained on the transformed training images and its
weights are saved in `saved_models/`. The questions are at the end.
"""),
        code("""
import cv2
import matplotlib.pyplot as plt
import numpy as np
%matplotlib inline

# re-import models.py automatically when it changes
%load_ext autoreload
%autoreload 2
"""),
    ]


def _nb2_shell(s: Style) -> list:
    if not s.shell_lines:
        return []
    # --no-index: should a run ever execute this line unshimmed, pip cannot download or install anything
    # (the line as a student wrote it, without that flag, installed torch into whatever pip came first on
    # PATH when we tried it)
    return [
        md("The workspace's torchvision is too old for me, and the data must be downloaded first."),
        code("""
!pip install --no-index -q torchvision==0.2.1
!wget -nc -P data/ https://data.example.org/facial-keypoints/train-test-data.zip
!unzip -n -q data/train-test-data.zip -d data
"""),
    ]


def _nb2_net(s: Style) -> list:
    cells = []
    if s.class_cell:
        cells.append(md("""
## The network

I wrote the network here instead of in `models.py`.
"""))
        cells.append(code(s.class_cell))
        head = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
    else:
        head = f"import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\nfrom {s.module} import {s.cls}\n\n"
    body = f"net = {s.ctor}\n"
    if s.dataparallel:
        body += "\n# train on all the GPUs of the workspace\nnet = nn.DataParallel(net)\n"
    if s.device == "auto":
        body += "\ndevice = torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')\nnet.to(device)\nprint(device)\n"
    elif s.device == "cuda":
        body += "\n# train on the GPU\nnet.cuda()\n"
    body += "print(net)"
    cells.append(code(head + body))
    return cells


def _nb2_data(s: Style) -> list:
    if s.template:
        transform = """
# TODO: define the data_transform using transforms.Compose([all tx's, . , .])
# order matters! i.e. rescaling should come before a smaller crop
data_transform = None

# testing that you've defined a transform
assert(data_transform is not None), 'Define a data_transform'
"""
    else:
        transform = f"""
# rescale, crop a random {s.crop} x {s.crop} window, grayscale + normalise, to a tensor
data_transform = transforms.Compose([Rescale({s.rescale}),
                                     RandomCrop({s.crop}),
                                     Normalize(),
                                     ToTensor()])

assert(data_transform is not None), 'Define a data_transform'
"""
    cells = [
        md("""
## The transformed dataset

Every training image is rescaled, randomly cropped to a square, turned into normalised grayscale and
made a tensor: the transforms of `data_load.py`.
"""),
        code("""
from torch.utils.data import Dataset, DataLoader
from torchvision import transforms, utils

from data_load import FacialKeypointsDataset
from data_load import Rescale, RandomCrop, Normalize, ToTensor
""" + transform),
    ]
    if s.as_matrix:
        cells.append(code("""
import pandas as pd

# one row of the CSV, to see the numbers
key_pts_frame = pd.read_csv('data/training_frames_keypoints.csv')
n = 0
image_name = key_pts_frame.iloc[n, 0]
key_pts = key_pts_frame.iloc[n, 1:].as_matrix()
key_pts = key_pts.astype('float').reshape(-1, 2)
print('Image name: ', image_name)
print('Landmarks shape: ', key_pts.shape)
"""))
    cells += [
        code("""
transformed_dataset = FacialKeypointsDataset(csv_file='data/training_frames_keypoints.csv',
                                             root_dir='data/training/',
                                             transform=data_transform)

print('Number of images: ', len(transformed_dataset))

# the sizes of a few samples
for i in range(4):
    sample = transformed_dataset[i]
    print(i, sample['image'].size(), sample['keypoints'].size())
"""),
        code(f"""
batch_size = {s.batch_size}

train_loader = DataLoader(transformed_dataset,
                          batch_size=batch_size,
                          shuffle=True,
                          num_workers={s.num_workers})
"""),
        md("""
## The test data

The test images show how the network does on faces it has not seen.
"""),
        code(f"""
test_dataset = FacialKeypointsDataset(csv_file='data/test_frames_keypoints.csv',
                                      root_dir='data/test/',
                                      transform=data_transform)

test_loader = DataLoader(test_dataset,
                         batch_size=batch_size,
                         shuffle=True,
                         num_workers={s.num_workers})
"""),
    ]
    return cells


def _nb2_sample_output(s: Style) -> list:
    if s.device == "auto":
        to_device, back = "images = images.type(torch.FloatTensor).to(device)", "output_pts = net(images).cpu()"
        ret = "return images.cpu(), output_pts, key_pts"
    elif s.device == "cuda":
        to_device, back = 'images = images.to("cuda").float()', "output_pts = net(images).cpu()"
        ret = "return images.cpu(), output_pts, key_pts"
    else:
        to_device, back = "images = images.type(torch.FloatTensor)", "output_pts = net(images)"
        ret = "return images, output_pts, key_pts"
    return [
        md("""
## The network on a test batch

Before training the predictions are noise; run this again after training.
"""),
        code(f"""
def net_sample_output():
    # the first batch of test images
    for i, sample in enumerate(test_loader):

        images = sample['image']
        key_pts = sample['keypoints']

        {to_device}

        # forward pass
        {back}

        # (batch_size, 68, 2), whatever shape the network returns
        output_pts = output_pts.view(output_pts.size()[0], 68, -1)

        if i == 0:
            {ret}
"""),
        code("""
test_images, test_outputs, gt_pts = net_sample_output()

print(test_images.data.size())
print(test_outputs.data.size())
print(gt_pts.size())
"""),
        code(f"""
def show_all_keypoints(image, predicted_key_pts, gt_pts=None):
    \"\"\"A face with the predicted keypoints (magenta) and, when given, the true ones (green).\"\"\"
    plt.imshow(image, cmap='gray')
    plt.scatter(predicted_key_pts[:, 0], predicted_key_pts[:, 1], s=20, marker='.', c='m')
    if gt_pts is not None:
        plt.scatter(gt_pts[:, 0], gt_pts[:, 1], s=20, marker='.', c='g')


def visualize_output(test_images, test_outputs, gt_pts=None, batch_size=10):
    plt.figure(figsize=(20, 10))
    for i in range(min(batch_size, len(test_images))):
        ax = plt.subplot(1, batch_size, i + 1)

        image = test_images[i].data.numpy()
        image = np.transpose(image, (1, 2, 0))  # C x H x W -> H x W x C

        predicted_key_pts = test_outputs[i].data.numpy()
        # undo the keypoint normalisation of Normalize()
        {_unnormalise("predicted_key_pts", s)}

        ground_truth_pts = None
        if gt_pts is not None:
            ground_truth_pts = gt_pts[i].numpy()
            {_unnormalise("ground_truth_pts", s)}

        show_all_keypoints(np.squeeze(image), predicted_key_pts, ground_truth_pts)
        plt.axis('off')

    plt.show()


visualize_output(test_images, test_outputs, gt_pts)
"""),
    ]


def _train_net(s: Style) -> str:
    if s.device == "auto":
        cast = ("            images = images.type(torch.FloatTensor).to(device)\n"
                "            key_pts = key_pts.type(torch.FloatTensor).to(device)\n")
    elif s.device == "cuda":
        cast = ("            images = images.type(torch.cuda.FloatTensor)\n"
                "            key_pts = key_pts.type(torch.cuda.FloatTensor)\n")
    else:
        cast = ("            images = images.type(torch.FloatTensor)\n"
                "            key_pts = key_pts.type(torch.FloatTensor)\n")
    if s.out_68x2:
        flatten = "            # the network returns (N, 68, 2) like the keypoints: nothing to flatten\n"
    else:
        flatten = "            # (N, 68, 2) -> (N, 136) like the network's output\n            key_pts = key_pts.view(key_pts.size(0), -1)\n"
    ret = "    return loss.item()\n" if s.save == "checkpoint" else ""
    return f"""
def train_net(n_epochs):

    net.train()

    for epoch in range(n_epochs):

        running_loss = 0.0

        for batch_i, data in enumerate(train_loader):
            images = data['image']
            key_pts = data['keypoints']

{flatten}
            # float tensors for the regression loss
{cast}
            output_pts = net(images)
            loss = criterion(output_pts, key_pts)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            running_loss += loss.item()
            if batch_i % 10 == 9:    # every 10 batches
                print('Epoch: {{}}, Batch: {{}}, Avg. Loss: {{}}'.format(epoch + 1, batch_i + 1, running_loss / 10))
                running_loss = 0.0

    print('Finished Training')
{ret}"""


def _nb2_training(s: Style) -> list:
    if s.template:
        loss_cell = """
## TODO: Define the loss and optimization
import torch.optim as optim

criterion = None

optimizer = None
"""
    else:
        loss_cell = """
import torch.optim as optim

# keypoints are numbers: a regression loss
criterion = nn.MSELoss()

optimizer = optim.Adam(net.parameters(), lr=0.001)
"""
    call = "last_loss = train_net(n_epochs)" if s.save == "checkpoint" else "train_net(n_epochs)"
    if s.workspace_utils:
        run = f"""
from workspace_utils import active_session

n_epochs = {s.n_epochs}

# keep the workspace awake while it trains
with active_session():
    {call}
"""
    else:
        run = f"""
# train the network
n_epochs = {s.n_epochs}

{call}
"""
    return [
        md("""
## Training

The loss function and the optimizer, then the training loop over `train_loader`.
"""),
        code(loss_cell),
        code(_train_net(s)),
        code(run),
        md("## The network on a test batch, after training"),
        code("""
test_images, test_outputs, gt_pts = net_sample_output()

print(test_images.data.size())
print(test_outputs.data.size())
print(gt_pts.size())
"""),
        code("visualize_output(test_images, test_outputs, gt_pts)"),
    ]


def _nb2_save(s: Style) -> list:
    model_dir, model_name = s.weights.rsplit("/", 1)
    if s.save == "checkpoint":
        saver = """torch.save({'epoch': n_epochs,
            'model_state_dict': net.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(),
            'loss': last_loss}, model_dir + model_name)"""
    elif s.save == "whole":
        saver = "# the whole network, so notebook 3 does not need models.py\ntorch.save(net, model_dir + model_name)"
    else:
        saver = "torch.save(net.state_dict(), model_dir + model_name)"
    return [
        md("Once the network is trained, save its parameters: notebook 3 loads them."),
        code(f"""
model_dir = '{model_dir}/'
model_name = '{model_name}'

{saver}
"""),
    ]


_DEFAULT_ANSWERS = {
    1: "**Answer**: MSE loss, because the keypoints are continuous coordinates, and Adam with lr 0.001, "
       "which trained faster than plain SGD in a few test epochs.",
    2: "**Answer**: I started from one convolution and a linear layer, then added a second convolution "
       "and pooling to shrink the feature maps until the linear layer was small enough.",
    3: "**Answer**: batch size 10 fitted in memory; I trained until the loss stopped going down.",
    4: "**Answer**: filter 0 looks like a vertical edge detector: the filtered image is bright along "
       "the sides of the face and the nose.",
}

_QUESTIONS = {
    1: "### Question 1: Which loss function and which optimizer did you pick, and why?",
    2: "### Question 2: How did you arrive at your network's architecture? What did you start from and what did you change?",
    3: "### Question 3: How did you choose the number of epochs and the batch size?",
    4: "### Question 4: Pick one filter of the first layer. What kind of feature does it seem to respond to in the filtered image?",
}


def _answer(s: Style, number: int) -> str:
    if s.template:
        return "**Answer**: write your answer in this cell"
    return s.answers.get(number, _DEFAULT_ANSWERS[number])


def _nb2_questions(s: Style) -> list:
    cells = []
    for number in (1, 2, 3):
        cells += [md(_QUESTIONS[number]), md(_answer(s, number))]
    return cells


def _nb2_filters(s: Style) -> list:
    cpu = ".cpu()" if s.device in ("auto", "cuda") else ""
    if s.template:
        filtered = """
# TODO: filter an image with one of the filters above using cv2.filter2D, show both
"""
    else:
        filtered = """
# a test image, filtered with that filter
image = test_images[0].data.numpy().squeeze()

filtered = cv2.filter2D(image, -1, w[filter_index][0])

fig = plt.figure(figsize=(10, 5))
ax = fig.add_subplot(1, 2, 1)
ax.imshow(image, cmap='gray')
ax.set_title('test image')
ax = fig.add_subplot(1, 2, 2)
ax.imshow(filtered, cmap='gray')
ax.set_title('filtered with filter {}'.format(filter_index))
plt.show()
"""
    return [
        md("""
## Feature visualization

The first convolutional layer's filters, and what one of them does to an image.
"""),
        code(f"""
# the weights of the first convolutional layer
weights1 = {_net_ref(s)}.conv1.weight.data{cpu}

w = weights1.numpy()

filter_index = 0

print(w[filter_index][0])
print(w[filter_index][0].shape)

plt.imshow(w[filter_index][0], cmap='gray')
plt.show()
"""),
        code(filtered),
        md(_QUESTIONS[4]),
        md(_answer(s, 4)),
    ]


def nb2(s: Style) -> list:
    return (_nb2_intro(s) + _nb2_shell(s) + _nb2_net(s) + _nb2_data(s) + _nb2_sample_output(s)
            + _nb2_training(s) + _nb2_save(s) + _nb2_questions(s) + _nb2_filters(s))


def train_and_test(s: Style) -> list:
    """One notebook that trains, saves and then scores the network on the whole test set."""
    return (_nb2_intro(s) + _nb2_net(s) + _nb2_data(s) + _nb2_sample_output(s) + _nb2_training(s)
            + _nb2_save(s) + [
                md("""
## Test

The average loss over the whole test set.
"""),
                code("""
net.eval()
test_loss = 0.0
with torch.no_grad():
    for data in test_loader:
        images = data['image'].type(torch.FloatTensor)
        key_pts = data['keypoints'].type(torch.FloatTensor)
        key_pts = key_pts.view(key_pts.size(0), -1)
        output_pts = net(images)
        test_loss += criterion(output_pts, key_pts).item() * images.size(0)

print('Test loss: {:.4f}'.format(test_loss / len(test_dataset)))
"""),
            ] + _nb2_questions(s) + _nb2_filters(s))


# --------------------------------------------------------------------------------------------- notebook 3

def _nb3_load(s: Style) -> str:
    path = s.weights
    head = "import torch\n"
    if s.dataparallel:
        head += "import torch.nn as nn\n"
    if s.class_cell:
        head += f"from {s.module} import {s.cls}\n"  # the class is not in models.py: this line fails
    elif s.save != "whole":
        head += f"from {s.module} import {s.cls}\n"
    head += "\n"
    if s.template:
        return head + f"""net = {s.ctor}

# TODO: load the saved model parameters: uncomment the line below and put in the name of your file
# net.load_state_dict(torch.load('{path}'))

# evaluation mode: no dropout
net.eval()
"""
    if s.save == "whole":
        return head + f"""# the whole network was saved, not just its parameters
net = torch.load('{path}')

net.eval()
"""
    build = f"net = nn.DataParallel({s.ctor})" if s.dataparallel else f"net = {s.ctor}"
    if s.save == "checkpoint":
        load = f"checkpoint = torch.load('{path}')\nnet.load_state_dict(checkpoint['model_state_dict'])"
    else:
        load = f"net.load_state_dict(torch.load('{path}'))"
    tail = ""
    if s.device == "cuda":
        tail = "\nnet.to('cuda')\n"
    return head + f"""{build}

# the parameters saved in notebook 2
{load}
{tail}
# evaluation mode: no dropout
net.eval()
"""


def _nb3_keypoints(s: Style) -> str:
    size = s.crop
    if s.template:
        return """
image_copy = np.copy(image)

# loop over the faces the cascade found
for (x, y, w, h) in faces:

    # the face: the region of interest
    roi = image_copy[y:y + h, x:x + w]

    # TODO: convert the face to grayscale, scale its values to [0, 1]
    # TODO: resize it to the network's input size and reshape it into a tensor
    # TODO: predict its keypoints with net and show them on the face
"""
    if s.device == "cuda":
        to_tensor = "roi_tensor = roi_tensor.type(torch.cuda.FloatTensor)"
        out = "output_pts = output_pts.view(68, 2).cpu().data.numpy()"
    else:
        to_tensor = "roi_tensor = roi_tensor.type(torch.FloatTensor)"
        out = "output_pts = output_pts.view(68, 2).data.numpy()"
    return f"""
image_copy = np.copy(image)

# a margin around each box, so that the crop is framed like the training images
padding = 50

for (x, y, w, h) in faces:

    roi = image_copy[max(y - padding, 0):y + h + padding, max(x - padding, 0):x + w + padding]

    # grayscale in [0, 1]
    roi = cv2.cvtColor(roi, cv2.COLOR_RGB2GRAY)
    roi = roi / 255.0

    # the network's input size
    roi = cv2.resize(roi, ({size}, {size}))

    # (H, W) -> (1, 1, H, W)
    roi_tensor = torch.from_numpy(roi.reshape(1, 1, {size}, {size}))
    {to_tensor}

    output_pts = net(roi_tensor)
    {out}
    # back to pixels of the {size} x {size} face
    {_unnormalise("output_pts", s)}

    plt.figure(figsize=(5, 5))
    plt.imshow(roi, cmap='gray')
    plt.scatter(output_pts[:, 0], output_pts[:, 1], s=20, marker='.', c='m')
    plt.axis('off')
    plt.show()
"""


def nb3(s: Style, filters: bool = False) -> list:
    cells = [
        md("""
# Face and Facial Keypoint detection

Find the faces in a photo with OpenCV's Haar cascade, then predict the keypoints of each face with the
network trained in notebook 2.
"""),
        code("""
import cv2
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
%matplotlib inline
"""),
        code("""
# the photo; OpenCV reads BGR, matplotlib wants RGB
image = cv2.imread('images/obamas.jpg')
image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)

fig = plt.figure(figsize=(9, 9))
plt.imshow(image)
"""),
        md("## Detect the faces"),
        code("""
# OpenCV's pre-trained frontal face detector
face_cascade = cv2.CascadeClassifier('detector_architectures/haarcascade_frontalface_default.xml')

# detectMultiScale(image, scaleFactor, minNeighbors): an (x, y, w, h) box per face
faces = face_cascade.detectMultiScale(image, 1.2, 2)

# the boxes, drawn on a copy of the photo
image_with_detections = image.copy()
for (x, y, w, h) in faces:
    cv2.rectangle(image_with_detections, (x, y), (x + w, y + h), (255, 0, 0), 3)

fig = plt.figure(figsize=(9, 9))
plt.imshow(image_with_detections)
"""),
        md("## Load the trained model"),
        code(_nb3_load(s)),
        md("## Keypoints for each face"),
        code(_nb3_keypoints(s)),
    ]
    if filters:
        cells += [
            md("## The filters of the first layer, applied to the photo"),
            code(f"""
weights = {_net_ref(s)}.conv1.weight.data.numpy()

fig = plt.figure(figsize=(12, 3))
for i in range(weights.shape[0]):
    ax = fig.add_subplot(1, weights.shape[0], i + 1)
    ax.imshow(weights[i][0], cmap='gray')
    ax.axis('off')
plt.show()

gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) / 255.0
filtered = cv2.filter2D(gray, -1, weights[0][0])
plt.figure(figsize=(9, 9))
plt.imshow(filtered, cmap='gray')
plt.show()
"""),
        ]
    return cells
