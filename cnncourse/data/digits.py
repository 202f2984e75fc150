"""The 1,797 handwritten digits that ship with scikit-learn, as torch datasets.

Each original image is 8x8 with 17 grey levels (Alpaydin & Kaynak, 1998); we
resize to ``size`` x ``size`` (32 for LeNet-5, whose input is 32x32) and scale
to [0, 1]. The train/test split is stratified and fixed, so every run of the
course sees the same test set.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch.utils.data import TensorDataset

SPLIT_SEED = 0  # fixed: the test set must never change between runs


class Split(NamedTuple):
    train: TensorDataset
    test: TensorDataset


def digits(size: int = 32, test_fraction: float = 0.25) -> Split:
    """Train and test sets of ``(image, label)``: image (1, size, size) in [0, 1], label in 0..9."""
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"digits: size must be an int >= 8 (the originals are 8x8); got {size!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"digits: test_fraction must be in (0, 1); got {test_fraction!r}")
    raw = load_digits()
    images = torch.tensor(raw.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8)
    if size != 8:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    images = images.clamp_(0.0, 1.0)
    labels = torch.tensor(raw.target, dtype=torch.long)
    train_idx, test_idx = train_test_split(
        torch.arange(len(labels)).numpy(), test_size=test_fraction,
        stratify=raw.target, random_state=SPLIT_SEED,
    )
    train_idx, test_idx = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
    return Split(
        TensorDataset(images[train_idx], labels[train_idx]),
        TensorDataset(images[test_idx], labels[test_idx]),
    )
