import glob
import os

import cv2
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset


class FacialKeypointsDataset(Dataset):
    """Faces and their 68 keypoints, listed in a CSV file."""

    def __init__(self, csv_file, root_dir, transform=None):
        """
        Args:
            csv_file (string): the CSV with one row per image: its file name, then x0, y0, x1, y1, ...
            root_dir (string): the folder that holds the images.
            transform (callable, optional): applied to each sample.
        """
        self.key_pts_frame = pd.read_csv(csv_file)
        self.root_dir = root_dir
        self.transform = transform

    def __len__(self):
        return len(self.key_pts_frame)

    def __getitem__(self, idx):
        image_name = os.path.join(self.root_dir, self.key_pts_frame.iloc[idx, 0])
        image = mpimg.imread(image_name)

        # some images are grayscale, some have an alpha channel: make them all RGB
        if image.ndim == 2:
            image = np.stack([image, image, image], axis=2)
        if image.shape[2] == 4:
            image = image[:, :, 0:3]

        key_pts = self.key_pts_frame.iloc[idx, 1:].values
        key_pts = key_pts.astype('float').reshape(-1, 2)
        sample = {'image': image, 'keypoints': key_pts}

        if self.transform:
            sample = self.transform(sample)

        return sample


# transforms

class Normalize(object):
    """Turn a color image into grayscale values in [0, 1] and scale the keypoints to about [-1, 1]."""

    def __call__(self, sample):
        image, key_pts = sample['image'], sample['keypoints']

        image_copy = np.copy(image)
        key_pts_copy = np.copy(key_pts)

        # RGB -> grayscale
        image_copy = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)

        # pixel values from [0, 255] to [0, 1]
        image_copy = image_copy / 255.0

        # keypoints centred around 0: mean = 100, std = 50
        key_pts_copy = (key_pts_copy - 100) / 50.0

        return {'image': image_copy, 'keypoints': key_pts_copy}


class Rescale(object):
    """Resize the image in a sample.

    Args:
        output_size (tuple or int): an int sets the smaller edge (the aspect ratio is kept),
            a tuple (h, w) sets both.
    """

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        self.output_size = output_size

    def __call__(self, sample):
        image, key_pts = sample['image'], sample['keypoints']

        h, w = image.shape[:2]
        if isinstance(self.output_size, int):
            if h > w:
                new_h, new_w = self.output_size * h / w, self.output_size
            else:
                new_h, new_w = self.output_size, self.output_size * w / h
        else:
            new_h, new_w = self.output_size

        new_h, new_w = int(new_h), int(new_w)

        img = cv2.resize(image, (new_w, new_h))

        # the keypoints scale with the image
        key_pts = key_pts * [new_w / w, new_h / h]

        return {'image': img, 'keypoints': key_pts}


class RandomCrop(object):
    """Crop a random square (or (h, w)) window out of the image of a sample.

    Args:
        output_size (tuple or int): the size of the window; an int makes it square.
    """

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        if isinstance(output_size, int):
            self.output_size = (output_size, output_size)
        else:
            assert len(output_size) == 2
            self.output_size = output_size

    def __call__(self, sample):
        image, key_pts = sample['image'], sample['keypoints']

        h, w = image.shape[:2]
        new_h, new_w = self.output_size

        top = np.random.randint(0, h - new_h)
        left = np.random.randint(0, w - new_w)

        image = image[top: top + new_h,
                      left: left + new_w]

        key_pts = key_pts - [left, top]

        return {'image': image, 'keypoints': key_pts}


class ToTensor(object):
    """numpy arrays of a sample -> torch tensors (the image becomes C x H x W)."""

    def __call__(self, sample):
        image, key_pts = sample['image'], sample['keypoints']

        # a grayscale image has no channel axis yet: add one
        if len(image.shape) == 2:
            image = image.reshape(image.shape[0], image.shape[1], 1)

        # numpy image: H x W x C, torch image: C x H x W
        image = image.transpose((2, 0, 1))

        return {'image': torch.from_numpy(image),
                'keypoints': torch.from_numpy(key_pts)}
