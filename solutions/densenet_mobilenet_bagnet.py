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
        ### BEGIN SOLUTION
        for i in range(num_layers):
            c = in_channels + i * growth_rate
            layer = self[f"denselayer{i + 1}"] = nn.Sequential()
            layer.add_module("norm1", nn.BatchNorm2d(c))
            layer.add_module("relu1", nn.ReLU())
            layer.add_module("conv1", nn.Conv2d(c, bn_size * growth_rate, 1, bias=False))
            layer.add_module("norm2", nn.BatchNorm2d(bn_size * growth_rate))
            layer.add_module("relu2", nn.ReLU())
            layer.add_module("conv2", nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        features = [x]
        for layer in self.values():
            features.append(layer(torch.cat(features, 1)))
        return torch.cat(features, 1)
        ### END SOLUTION


def separable_block(in_channels, out_channels, stride=1):
    """MobileNet v1's depthwise separable unit as an nn.Sequential (no biases).

    3x3 depthwise convolution (groups = in_channels, padding 1, the stride) -
    BatchNorm2d - ReLU - 1x1 pointwise convolution to out_channels -
    BatchNorm2d - ReLU. (N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride).

    Hint: nn.Conv2d(c, c, 3, stride, 1, groups=c, bias=False) is the depthwise part.
    """
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(in_channels, in_channels, 3, stride, 1, groups=in_channels, bias=False),
        nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
        nn.Conv2d(in_channels, out_channels, 1, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
    )
    ### END SOLUTION
