"""Your data transforms.

``data_transform`` is applied to every training sample ``{'image', 'keypoints'}``; it must
produce a ``1 x 224 x 224`` float tensor in [0, 1] and ``(68, 2)`` normalised keypoints.
Build it from the classes in ``data_load.py``: Rescale, RandomCrop, Normalize, ToTensor.

Optionally define ``eval_transform`` too: a deterministic transform the grader uses on the
test images (for example Rescale + CenterCrop instead of RandomCrop). Without one, the
grader uses its own: short side to 250, centre crop 224, grayscale, /255.
"""
from torchvision import transforms  # noqa: F401  (transforms.Compose chains steps)

from data_load import Normalize, RandomCrop, Rescale, ToTensor  # noqa: F401

# TODO: define the data_transform using transforms.Compose([...])
data_transform = None
