# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/densenet_mobilenet_bagnet.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *DenseNet, MobileNet and BagNet*.

Grade them with ``make grade`` (or ``pytest tests/grading -k densenet_mobilenet_bagnet --impl=exercises``).
"""

import torch
from torch import nn


class DenseBlock(nn.ModuleDict):
    """A DenseNet-B block: (N, in_channels, H, W) -> (N, in_channels + num_layers * growth_rate, H, W).

    Layer i (0-based) is registered as denselayer{i+1} and holds, in order,
    norm1 = BatchNorm2d(c_i), relu1, conv1 = 1x1 conv to bn_size * growth_rate
    (no bias), norm2 = BatchNorm2d, relu2, conv2 = 3x3 conv (padding 1, no
    bias) to growth_rate maps, where c_i = in_channels + i * growth_rate.
    Layer i reads the concatenation of the block input and the outputs of
    layers 0..i-1; the block returns all of them concatenated.

    Hint: the block is an nn.ModuleDict, so self["denselayer1"] = nn.Sequential(...)
    with add_module("norm1", ...) etc. gives torchvision's names
    (denselayer1.norm1.weight, ...); keep a list of features and torch.cat it.
    """

    def __init__(self, num_layers, in_channels, growth_rate, bn_size=4):
        super().__init__()
        raise NotImplementedError('__init__: not implemented yet. see the chapter.')

    def forward(self, x):
        raise NotImplementedError('forward: not implemented yet. see the chapter.')


def separable_block(in_channels, out_channels, stride=1):
    """MobileNet v1's depthwise separable unit as an nn.Sequential (no biases).

    3x3 depthwise convolution (groups = in_channels, padding 1, the stride) -
    BatchNorm2d - ReLU - 1x1 pointwise convolution to out_channels -
    BatchNorm2d - ReLU. (N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride).

    Hint: nn.Conv2d(c, c, 3, stride, 1, groups=c, bias=False) is the depthwise part.
    """
    raise NotImplementedError('separable_block: not implemented yet. Hint: nn.Conv2d(c, c, 3, stride, 1, groups=c, bias=False) is the depthwise part.')
