"""Data loading for the facial keypoints project (complete; students use it as is).

A sample is a dict ``{'image': HxW[xC] uint8/float array, 'keypoints': (68, 2) float array}``
in pixels of the image. The transforms below turn it into what the network eats:
a ``1 x 224 x 224`` float tensor in [0, 1] and keypoints in normalised units,
``(pixel - 100) / 50``.
"""
from __future__ import annotations

import os

import cv2
import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

N_KEYPOINTS = 68


def read_image_rgb(path: str) -> np.ndarray:
    """Read an image file as an RGB (H, W, 3) uint8 array; accepts gray, RGB and RGBA files."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f"{path}: cannot be read as an image (missing or not an image file)")
    return to_rgb(image, assume_bgr=True)


def to_rgb(image: np.ndarray, assume_bgr: bool = False) -> np.ndarray:
    """Return an (H, W, 3) array from a gray (H, W) / (H, W, 1), colour (H, W, 3) or RGBA (H, W, 4) one."""
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    channels = image.shape[2]
    if channels == 1:
        return np.repeat(image, 3, axis=2)
    if channels == 4:
        image = image[:, :, :3]  # the course's PNGs carry an always-opaque alpha channel
    elif channels != 3:
        raise ValueError(f"image has {channels} channels; expected 1, 3 or 4")
    return image[:, :, ::-1].copy() if assume_bgr else image


class FacialKeypointsDataset(Dataset):
    """Face images and their 68 keypoints, indexed by the CSV (never by the folder listing)."""

    def __init__(self, csv_file: str, root_dir: str, transform=None):
        self.key_pts_frame = pd.read_csv(csv_file)
        self.root_dir = root_dir
        self.transform = transform

    def __len__(self) -> int:
        return len(self.key_pts_frame)

    def __getitem__(self, idx: int) -> dict:
        name = self.key_pts_frame.iloc[idx, 0]
        image = read_image_rgb(os.path.join(self.root_dir, name))
        key_pts = self.key_pts_frame.iloc[idx, 1:].to_numpy(dtype=np.float32).reshape(-1, 2)  # (68, 2)
        sample = {"image": image, "keypoints": key_pts}
        if self.transform:
            sample = self.transform(sample)
        return sample


class Normalize:
    """Colour -> grayscale in [0, 1]; keypoints (pixel - 100) / 50 (centred near 0, roughly in [-1, 1])."""

    def __call__(self, sample: dict) -> dict:
        image, key_pts = sample["image"], sample["keypoints"]
        if image.ndim == 3 and image.shape[2] == 4:
            image = image[:, :, :3]
        if image.ndim == 3 and image.shape[2] == 3:
            image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        elif image.ndim == 3:
            image = image[:, :, 0]
        image_copy = image.astype(np.float32) / 255.0
        key_pts_copy = (np.asarray(key_pts, dtype=np.float32) - 100.0) / 50.0
        return {"image": image_copy, "keypoints": key_pts_copy}


class Rescale:
    """Rescale the image to ``output_size``.

    An int sets the shorter side (the aspect ratio is kept); a tuple (h, w) sets both.
    """

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        self.output_size = output_size

    def __call__(self, sample: dict) -> dict:
        image, key_pts = sample["image"], sample["keypoints"]
        h, w = image.shape[:2]
        if isinstance(self.output_size, int):
            if h > w:
                new_h, new_w = self.output_size * h / w, self.output_size
            else:
                new_h, new_w = self.output_size, self.output_size * w / h
        else:
            new_h, new_w = self.output_size
        new_h, new_w = int(round(new_h)), int(round(new_w))
        img = cv2.resize(image, (new_w, new_h))
        if image.ndim == 3 and img.ndim == 2:  # cv2 drops a single channel axis
            img = img[:, :, None]
        key_pts = np.asarray(key_pts, dtype=np.float32) * np.array([new_w / w, new_h / h], dtype=np.float32)
        return {"image": img, "keypoints": key_pts}


class RandomCrop:
    """Crop a random ``output_size`` window; an image smaller than that is first scaled up to fit."""

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        self.output_size = (output_size, output_size) if isinstance(output_size, int) else output_size

    def __call__(self, sample: dict) -> dict:
        new_h, new_w = self.output_size
        h, w = sample["image"].shape[:2]
        if h < new_h or w < new_w:
            scale = max(new_h / h, new_w / w)
            sample = Rescale((int(np.ceil(h * scale)), int(np.ceil(w * scale))))(sample)
            h, w = sample["image"].shape[:2]
        image, key_pts = sample["image"], sample["keypoints"]
        top = np.random.randint(0, h - new_h + 1)
        left = np.random.randint(0, w - new_w + 1)
        image = image[top : top + new_h, left : left + new_w]
        key_pts = np.asarray(key_pts, dtype=np.float32) - np.array([left, top], dtype=np.float32)
        return {"image": image, "keypoints": key_pts}


class CenterCrop(RandomCrop):
    """Crop the central ``output_size`` window (deterministic, for evaluation)."""

    def __call__(self, sample: dict) -> dict:
        new_h, new_w = self.output_size
        h, w = sample["image"].shape[:2]
        if h < new_h or w < new_w:
            return super().__call__(sample)
        top, left = (h - new_h) // 2, (w - new_w) // 2
        image = sample["image"][top : top + new_h, left : left + new_w]
        key_pts = np.asarray(sample["keypoints"], dtype=np.float32) - np.array([left, top], dtype=np.float32)
        return {"image": image, "keypoints": key_pts}


class ToTensor:
    """Numpy (H, W[, C]) image -> torch (C, H, W) float tensor; keypoints -> float tensor."""

    def __call__(self, sample: dict) -> dict:
        image, key_pts = sample["image"], sample["keypoints"]
        if image.ndim == 2:
            image = image[:, :, None]
        image = np.ascontiguousarray(image.transpose((2, 0, 1)), dtype=np.float32)  # (C, H, W)
        return {"image": torch.from_numpy(image), "keypoints": torch.from_numpy(np.asarray(key_pts, dtype=np.float32))}
