"""Which kernels the layer modules run: the course's own or PyTorch's.

Every module in :mod:`cnncourse.layers` (``Conv2d``, ``MaxPool2d``,
``BatchNorm2d``, ...) is a subclass of its ``torch.nn`` namesake with the same
parameters and state_dict. By default its ``forward`` calls the from-scratch
function of this package (``conv2d`` as im2col or a sum over taps,
``max_pool2d``, ...), so a model built from them runs the code the chapters
derive. Those functions are proven equal to PyTorch's in the tests. On a CPU
most layers take between about as long as PyTorch's optimised kernels and
twice as long; grouped and depthwise convolutions up to about four times as
long (``benchmarks/kernels.py`` times every layer of the course's networks,
``benchmarks/models.py`` whole networks, and ``benchmarks/kernel_floors.py``
the copies and passes over memory that those two formulations cannot
avoid). Training a deep network for many epochs can switch to PyTorch's
kernels without changing the model::

    with layers.use_kernels("torch"):
        fit(model, ...)

``use_kernels`` also works as a plain call (``layers.use_kernels("torch")``)
that stays in effect until the next one, like ``torch.set_grad_enabled``.
The environment variable ``CNNCOURSE_KERNELS`` sets the starting choice.
"""

from __future__ import annotations

import os

KERNELS = ("scratch", "torch")


def _checked(name):
    if name not in KERNELS:
        raise ValueError(f"use_kernels: kernels must be one of {KERNELS}; got {name!r}")
    return name


_active = _checked(os.environ.get("CNNCOURSE_KERNELS", "scratch"))


def kernels():
    """The kernels the layer modules run now: ``'scratch'`` or ``'torch'``."""
    return _active


def torch_kernels():
    """True when the modules should call PyTorch's kernels."""
    return _active == "torch"


class use_kernels:
    """Run the layer modules on ``'scratch'`` (this package's) or ``'torch'`` kernels.

    Takes effect at once; used in a ``with`` block, the previous choice comes
    back at its end.
    """

    def __init__(self, name):
        global _active
        self.previous, _active = _active, _checked(name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _active
        _active = self.previous
