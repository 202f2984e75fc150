"""Where the course runs: device, seeds and the experiment profile.

Two profiles size every experiment in the course:

* ``quick``: small enough that each notebook runs in about a minute on a
  2-core CPU (continuous integration, a laptop, a first read);
* ``full``: the sizes meant for the published book, on a GPU.

``CNNCOURSE_PROFILE=quick|full`` chooses one; unset, the course uses ``full``
when CUDA is available and ``quick`` otherwise.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

PROFILES = ("quick", "full")
T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    """The experiment profile; ``pick`` chooses a setting by profile."""

    name: str

    @property
    def quick(self) -> bool:
        return self.name == "quick"

    def pick(self, *, quick: T, full: T) -> T:
        """Return ``quick`` or ``full`` depending on the active profile."""
        return quick if self.quick else full

    def __str__(self) -> str:
        return self.name


def profile() -> Profile:
    """The active profile, from ``CNNCOURSE_PROFILE`` (or the hardware)."""
    name = os.environ.get("CNNCOURSE_PROFILE", "").strip().lower()
    if not name:
        return Profile("full" if torch.cuda.is_available() else "quick")
    if name not in PROFILES:
        raise ValueError(
            f"CNNCOURSE_PROFILE must be one of {', '.join(PROFILES)} (or unset); "
            f"got {os.environ['CNNCOURSE_PROFILE']!r}"
        )
    return Profile(name)


def device() -> torch.device:
    """The fastest available device: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and torch (all devices); ask for deterministic kernels.

    ``torch.use_deterministic_algorithms(True, warn_only=True)`` makes torch
    pick deterministic implementations where it has them and warn (rather than
    fail) where it does not.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    return seed


def setup(seed: int = 0) -> Profile:
    """Seed everything and print what this notebook runs on; return the profile.

    Every chapter notebook calls this first, so a reader always sees the
    profile, the device and the library versions behind the figures.
    """
    import cnncourse

    seed_everything(seed)
    active = profile()
    dev = device()
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type
    print(
        f"cnncourse {cnncourse.__version__} | profile: {active} | device: {name} "
        f"| torch {torch.__version__} | seed {seed}"
    )
    return active
