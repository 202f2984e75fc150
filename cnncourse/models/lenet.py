"""LeNet-5 (LeCun et al., 1998), as published, and a modern variant.

The published network maps a 32x32 image through C1 (6 maps, 5x5), S2
(2x2 subsampling with a trainable coefficient and bias per map, then a
squashing function), C3 (16 maps, each seeing the subset of S2's maps given by
``C3_TABLE``, the paper's Table I), S4, C5 (120 maps, a 5x5 convolution that
covers the whole 5x5 input) and F6 (84 units). The squashing function is
``1.7159 tanh(2x/3)``. The paper's output layer of Euclidean RBF units is
replaced by a linear layer. The modern variant uses ReLU, max pooling and a
full C3.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import Conv2d, MaxPool2d, avg_pool2d
from cnncourse.models.registry import register

# Which S2 maps (columns) each C3 map (rows) sees: Table I of LeCun et al. (1998).
C3_TABLE = [
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
]


class ScaledTanh(nn.Module):
    """LeNet's squashing function 1.7159 tanh(2x/3)."""

    def forward(self, x):
        return 1.7159 * torch.tanh(2 * x / 3)


class Subsampling(nn.Module):
    """S2/S4: the sum of each 2x2 block times a trainable coefficient, plus a trainable bias, per map.

    Its window (``kernel_size``, ``stride``) is declared like a pooling
    layer's, so receptive-field arithmetic sees it as the downsampling it is.
    """

    kernel_size, stride, padding = (2, 2), (2, 2), (0, 0)

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return 4 * avg_pool2d(x, self.kernel_size, self.stride) * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class SparseConv2d(Conv2d):
    """A convolution whose output channel o sees only the input channels listed in ``table[o]``."""

    def __init__(self, in_channels, out_channels, kernel_size, table):
        super().__init__(in_channels, out_channels, kernel_size)
        mask = torch.zeros(out_channels, in_channels, 1, 1)
        for o, inputs in enumerate(table):
            mask[o, list(inputs)] = 1
        self.register_buffer("mask", mask)

    def _conv_forward(self, input, weight, bias):
        return super()._conv_forward(input, weight * self.mask, bias)

    def connections(self) -> int:
        """Trainable weights actually used (the masked-out ones never receive a gradient)."""
        return int(self.mask.sum()) * self.kernel_size[0] * self.kernel_size[1] + self.out_channels


class LeNet5(nn.Module):
    """LeNet-5: (N, 1, 32, 32) -> (N, 10). ``variant`` is 'paper' or 'modern'."""

    def __init__(self, num_classes=10, in_channels=1, variant="paper"):
        super().__init__()
        if variant not in ("paper", "modern"):
            raise ValueError(f"LeNet5: variant must be 'paper' or 'modern'; got {variant!r}")
        paper = variant == "paper"
        act = ScaledTanh if paper else nn.ReLU
        pool = Subsampling if paper else (lambda c: MaxPool2d(2))
        c3 = SparseConv2d(6, 16, 5, C3_TABLE) if paper and in_channels == 1 else Conv2d(6, 16, 5)
        self.features = nn.Sequential(
            Conv2d(in_channels, 6, 5), act(), pool(6), act() if paper else nn.Identity(),   # C1, S2
            c3, act(), pool(16), act() if paper else nn.Identity(),                        # C3, S4
            Conv2d(16, 120, 5), act(),                                                     # C5
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(120, 84), act(), nn.Linear(84, num_classes))

    def forward(self, x):
        if x.shape[-2:] != (32, 32):
            raise ValueError(f"LeNet5: input must be (N, C, 32, 32); got {tuple(x.shape)} (resize, e.g. cnncourse.data.digits(size=32))")
        return self.classifier(self.features(x))


register("lenet5", lambda **kw: LeNet5(variant="paper", **kw), doc="LeNet-5 as published (tanh, trainable subsampling, sparse C3)",
         input_size=32)
register("lenet5_modern", lambda **kw: LeNet5(variant="modern", **kw), doc="LeNet-5 with ReLU and max pooling",
         input_size=32)
