"""student/data_load.py on the real dataset: counts, shapes and ranges for every kind of image."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from torchvision import transforms


def course_transform(dl):
    return transforms.Compose([dl.Rescale(250), dl.RandomCrop(224), dl.Normalize(), dl.ToTensor()])


def test_dataset_sizes_follow_the_csv(dataset_dir, data_load):
    train = data_load.FacialKeypointsDataset(dataset_dir / "training_frames_keypoints.csv", dataset_dir / "training")
    test = data_load.FacialKeypointsDataset(dataset_dir / "test_frames_keypoints.csv", dataset_dir / "test")
    assert (len(train), len(test)) == (3462, 770)
    sample = test[0]
    assert sample["keypoints"].shape == (68, 2)
    assert sample["image"].ndim == 3 and sample["image"].shape[2] == 3


def check_sample(sample):
    image, keypoints = sample["image"], sample["keypoints"]
    assert isinstance(image, torch.Tensor) and image.dtype == torch.float32
    assert tuple(image.shape) == (1, 224, 224)
    assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
    assert tuple(keypoints.shape) == (68, 2)
    assert keypoints.dtype == torch.float32


@pytest.mark.parametrize("kind", ["rgb", "rgba", "gray", "gray_hw1", "small", "non_square_tall", "non_square_wide"])
def test_course_transform_outputs(kind, dataset_dir, data_load):
    ds = data_load.FacialKeypointsDataset(dataset_dir / "training_frames_keypoints.csv", dataset_dir / "training")
    raw = ds[7]
    image, keypoints = raw["image"], raw["keypoints"]
    h, w = image.shape[:2]
    if kind == "rgba":
        image = np.dstack([image, np.full((h, w), 255, np.uint8)])
    elif kind == "gray":
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    elif kind == "gray_hw1":
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None]
    elif kind == "small":
        image = cv2.resize(image, (97, 90))
        keypoints = keypoints * np.array([97 / w, 90 / h], np.float32)
    elif kind == "non_square_tall":
        image = cv2.resize(image, (w, h * 2))
        keypoints = keypoints * np.array([1, 2], np.float32)
    elif kind == "non_square_wide":
        image = cv2.resize(image, (w * 3, h))
        keypoints = keypoints * np.array([3, 1], np.float32)
    np.random.seed(0)
    out = course_transform(data_load)({"image": image, "keypoints": keypoints})
    check_sample(out)


def test_random_crop_scales_up_images_smaller_than_the_crop(data_load):
    image = np.random.default_rng(0).integers(0, 255, (100, 150, 3), dtype=np.uint8)
    keypoints = np.tile(np.array([[50.0, 50.0]], np.float32), (68, 1))
    out = data_load.RandomCrop(224)({"image": image, "keypoints": keypoints})
    assert out["image"].shape[:2] == (224, 224)


def test_normalize_maps_keypoints_and_pixels(data_load):
    image = np.full((10, 10, 3), 255, np.uint8)
    keypoints = np.array([[100.0, 150.0]] * 68, np.float32)
    out = data_load.Normalize()({"image": image, "keypoints": keypoints})
    assert out["image"].shape == (10, 10) and np.allclose(out["image"], 1.0)
    assert np.allclose(out["keypoints"][0], [0.0, 1.0])


def test_whole_training_set_through_the_transform(dataset_dir, data_load):
    """Every 50th training image (70 of them, all sizes in the set) comes out 1x224x224 in [0, 1]."""
    ds = data_load.FacialKeypointsDataset(
        dataset_dir / "training_frames_keypoints.csv", dataset_dir / "training", transform=course_transform(data_load)
    )
    for index in range(0, len(ds), 50):
        check_sample(ds[index])
