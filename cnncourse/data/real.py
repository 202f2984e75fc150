"""Real datasets through torchvision, strictly opt-in.

The course's default path never downloads. These helpers are for readers with
network access who want the classic benchmarks; offline they fail with a
message that says what to do.
"""

from __future__ import annotations

import os
from pathlib import Path

DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "cifar10": "CIFAR10", "cifar100": "CIFAR100"}
DEFAULT_ROOT = Path(os.environ.get("CNNCOURSE_DATA", Path.home() / ".cache" / "cnncourse"))


def real_dataset(name: str, train: bool = True, root=None, download: bool = False, transform=None):
    """A torchvision dataset by name (``mnist``, ``fashion-mnist``, ``cifar10``, ``cifar100``).

    Images become tensors in [0, 1] unless ``transform`` is given. Nothing is
    downloaded unless ``download=True``.
    """
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; available: {', '.join(DATASETS)}")
    import torchvision
    from torchvision.transforms import ToTensor

    root = Path(root) if root is not None else DEFAULT_ROOT
    cls = getattr(torchvision.datasets, DATASETS[name])
    try:
        return cls(root=str(root), train=train, download=download, transform=transform or ToTensor())
    except (RuntimeError, OSError) as error:
        if not download:
            raise FileNotFoundError(
                f"{name} is not in {root}. Pass download=True on a machine with internet access, "
                f"or copy torchvision's {DATASETS[name]} files into {root} (set CNNCOURSE_DATA to "
                f"use another folder). The course's default path needs no download: see "
                f"cnncourse.data.digits() and cnncourse.data.shapes()."
            ) from error
        raise ConnectionError(
            f"could not download {name} into {root} ({error}). This machine seems offline: download "
            f"it where there is network access and copy the folder to {root}, or use the embedded "
            f"datasets cnncourse.data.digits() and cnncourse.data.shapes()."
        ) from error
