"""Where the course runs: device, seeds and the experiment profile.

Two profiles size every experiment in the course:

* ``quick``: small enough that each notebook runs in about a minute on a
  2-core CPU (continuous integration, a laptop, a first read);
* ``full``: the sizes meant for the published book, on a GPU.

``CNNCOURSE_PROFILE=quick|full`` chooses one; unset, the course uses ``full``
when it runs on a CUDA device and ``quick`` otherwise.

``CNNCOURSE_DEVICE=cpu|cuda|cuda:N|mps`` overrides the automatic choice of
device (a student on a GPU machine can force the CPU, say).

The device convention, followed by every function of the package that takes
a model and tensors (``train.evaluate``, ``timing.time_ms``,
``BagNet.evidence``, the ``viz`` methods...): the tensors go to the model's
device (:func:`device_of`), and results meant for plotting or printing come
back on the CPU.
"""

from __future__ import annotations

import contextlib
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
    """The active profile, from ``CNNCOURSE_PROFILE`` (or the device: full on CUDA)."""
    name = os.environ.get("CNNCOURSE_PROFILE", "").strip().lower()
    if not name:
        return Profile("full" if device().type == "cuda" else "quick")
    if name not in PROFILES:
        raise ValueError(
            f"CNNCOURSE_PROFILE must be one of {', '.join(PROFILES)} (or unset); "
            f"got {os.environ['CNNCOURSE_PROFILE']!r}"
        )
    return Profile(name)


def device() -> torch.device:
    """Where the course computes: ``CNNCOURSE_DEVICE`` if set, else the fastest
    available device (CUDA, then Apple's MPS, then the CPU)."""
    requested = os.environ.get("CNNCOURSE_DEVICE", "").strip()
    if requested:
        return _requested_device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _requested_device(requested: str) -> torch.device:
    """Parse and check ``CNNCOURSE_DEVICE``: a clear error if unknown or unavailable."""
    try:
        dev = torch.device(requested)
    except RuntimeError:
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"CNNCOURSE_DEVICE must be cpu, cuda, cuda:N or mps (or unset); got {requested!r}"
        )
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (dev.index or 0) >= count:
            raise RuntimeError(
                f"CNNCOURSE_DEVICE={requested!r}, but this machine has {count} CUDA "
                f"device(s); unset it or use cpu"
            )
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise RuntimeError(f"CNNCOURSE_DEVICE={requested!r}, but MPS is not available here; unset it or use cpu")
    return dev


def device_name(dev: torch.device | None = None) -> str:
    """A readable name for ``dev`` (default :func:`device`): the GPU's model for CUDA."""
    dev = device() if dev is None else torch.device(dev)
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type


def device_of(model: torch.nn.Module) -> torch.device:
    """The device a model's parameters (or buffers) live on; the CPU if it has none."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


@contextlib.contextmanager
def evaluating(model: torch.nn.Module):
    """Eval mode for the block; the model's train/eval mode comes back afterwards, even on an error."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


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
    print(
        f"cnncourse {cnncourse.__version__} | profile: {active} | device: {device_name()} "
        f"| torch {torch.__version__} | seed {seed}\n"
        f"(to switch: %env CNNCOURSE_PROFILE={'full' if active.quick else 'quick'} "
        f"or %env CNNCOURSE_DEVICE=cpu, then run this cell again)"
    )
    return active
