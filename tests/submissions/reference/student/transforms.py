"""Reference transforms: one random affine warp per training sample, a deterministic eval path.

Both produce ``{'image': 1x224x224 float tensor in [0, 1], 'keypoints': (68, 2) float tensor}``
with keypoints normalised as ``(pixel - 100) / 50`` (see ``data_load.Normalize``).

Training geometry: the canonical eval frame (short side 250, centre crop 224) composed with a
random rotation, scale, shift and horizontal flip, applied with a single ``cv2.warpAffine``.
A flip must also swap left and right landmarks (``FLIP_ORDER``), or the eyes swap labels.
Built on numpy and cv2 only; images may have 1, 3 or 4 channels and any size.
"""
import cv2
import numpy as np
from torchvision import transforms

from data_load import CenterCrop, Normalize, ToTensor
from models import FLIP_ORDER  # iBUG 68 points of a mirrored face: its point k is the original's FLIP_ORDER[k]

SHORT_SIDE = 250
CROP = 224


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1), RGB (H, W, 3) or RGBA (H, W, 4) -> (H, W) grayscale, same dtype."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    return cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)


def short_side_size(h: int, w: int, short_side: int = SHORT_SIDE) -> tuple:
    """(new_h, new_w) with the short side at ``short_side``, rounded like ``data_load.Rescale``."""
    if h > w:
        return int(round(short_side * h / w)), short_side
    return short_side, int(round(short_side * w / h))


class ToGray:
    """Any 1/3/4-channel image -> (H, W) grayscale; keypoints untouched."""

    def __call__(self, sample: dict) -> dict:
        return {"image": to_gray(sample["image"]), "keypoints": sample["keypoints"]}


class ShortSideResize:
    """Short side to ``size`` (INTER_AREA when shrinking, like the grader's canonical transform).

    ``shrink_only`` leaves smaller images alone: the training cache keeps their original pixels
    and lets the single random warp do the up-scaling.
    """

    def __init__(self, size: int = SHORT_SIDE, shrink_only: bool = False):
        self.size, self.shrink_only = size, shrink_only

    def __call__(self, sample: dict) -> dict:
        image, key_pts = sample["image"], np.asarray(sample["keypoints"], np.float32)
        h, w = image.shape[:2]
        if self.shrink_only and min(h, w) <= self.size:
            return {"image": image, "keypoints": key_pts}
        new_h, new_w = short_side_size(h, w, self.size)
        interpolation = cv2.INTER_AREA if new_w < w else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
        scale = np.array([new_w / w, new_h / h], np.float32)
        return {"image": image, "keypoints": key_pts * scale}


def canonical_matrix(h: int, w: int, pixel_centres: bool = False) -> np.ndarray:
    """3x3 map from an (h, w) image to its eval frame: short side 250, then centre crop 224.

    Labels scale as ``x * s`` (``data_load.Rescale`` and the grader), but ``cv2.resize`` samples
    pixel centres, ``(x + 0.5) * s - 0.5``; ``pixel_centres=True`` gives the matrix for the
    image so the warped pixels match what the eval transform produces.
    """
    new_h, new_w = short_side_size(h, w)
    sx, sy = new_w / w, new_h / h
    left, top = (new_w - CROP) // 2, (new_h - CROP) // 2
    if pixel_centres:
        left, top = left - 0.5 * (sx - 1), top - 0.5 * (sy - 1)
    return np.array([[sx, 0, -left], [0, sy, -top], [0, 0, 1]], np.float64)


def jitter_matrix(rng, max_degrees: float, max_scale: float, max_shift: float, flip: bool) -> np.ndarray:
    """3x3 random rotation/scale/shift (and mirror) about the centre of the 224 frame."""
    centre = (CROP - 1) / 2.0  # pixel centres: column 0 mirrors onto column 223
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees))
    scale = np.exp(rng.uniform(np.log(1 - max_scale), np.log(1 + max_scale)))
    shift = rng.uniform(-max_shift, max_shift, size=2)
    cos, sin = scale * np.cos(angle), scale * np.sin(angle)
    mirror = -1.0 if flip else 1.0
    linear = np.array([[cos * mirror, -sin], [sin * mirror, cos]])
    offset = centre + shift - linear @ np.array([centre, centre])
    return np.vstack([np.hstack([linear, offset[:, None]]), [0, 0, 1]])


class RandomAffineCrop:
    """Canonical eval framing + random rotation, scale, shift and flip, in one warp to 224x224."""

    def __init__(self, max_degrees=15.0, max_scale=0.15, max_shift=12.0, flip_prob=0.5):
        self.max_degrees, self.max_scale = max_degrees, max_scale
        self.max_shift, self.flip_prob = max_shift, flip_prob

    def __call__(self, sample: dict) -> dict:
        image, key_pts = sample["image"], np.asarray(sample["keypoints"], np.float64)  # (68, 2)
        flip = np.random.random_sample() < self.flip_prob
        jitter = jitter_matrix(np.random, self.max_degrees, self.max_scale, self.max_shift, flip)
        image_matrix = (jitter @ canonical_matrix(*image.shape[:2], pixel_centres=True))[:2]  # (2, 3)
        points_matrix = (jitter @ canonical_matrix(*image.shape[:2]))[:2]  # (2, 3)
        image = cv2.warpAffine(image, image_matrix, (CROP, CROP), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        key_pts = key_pts @ points_matrix[:, :2].T + points_matrix[:, 2]  # (68, 2)
        if flip:
            key_pts = key_pts[FLIP_ORDER]
        return {"image": image, "keypoints": key_pts.astype(np.float32)}


class BrightnessContrast:
    """Random contrast (about the image mean), brightness and gamma on a [0, 1] float image."""

    def __init__(self, contrast=0.3, brightness=0.1, gamma=0.25):
        self.contrast, self.brightness, self.gamma = contrast, brightness, gamma

    def __call__(self, sample: dict) -> dict:
        image = sample["image"]
        mean = image.mean()
        image = (image - mean) * np.random.uniform(1 - self.contrast, 1 + self.contrast) + mean
        image = image + np.random.uniform(-self.brightness, self.brightness)
        image = np.clip(image, 0.0, 1.0) ** np.exp(np.random.uniform(-self.gamma, self.gamma))
        return {"image": image.astype(np.float32), "keypoints": sample["keypoints"]}


# Deterministic part, cacheable once per image (train.py keeps its output in memory).
preload_transform = transforms.Compose([ToGray(), ShortSideResize(SHORT_SIDE, shrink_only=True)])
# Random part, run on every draw of a sample.
augment_transform = transforms.Compose([RandomAffineCrop(), Normalize(), BrightnessContrast(), ToTensor()])

data_transform = transforms.Compose([preload_transform, augment_transform])

eval_transform = transforms.Compose([ToGray(), ShortSideResize(SHORT_SIDE), CenterCrop(CROP), Normalize(), ToTensor()])
