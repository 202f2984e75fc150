"""DenseNet (Huang et al., 2017): every layer sees the feature maps of all earlier layers of its block.

``BLOCKS`` is the paper's Table 1 (layers per dense block); the growth rate k
is the number of feature maps each layer adds. The modules follow
torchvision's layout, so ``densenet121``/``169``/``201`` load its weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers import AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d
from cnncourse.models.registry import register

BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32), 161: (6, 12, 36, 24)}


class DenseLayer(nn.Module):
    """BN-ReLU-1x1 conv (to bn_size * k maps), BN-ReLU-3x3 conv (to k maps): the DenseNet-B layer."""

    def __init__(self, in_channels, growth_rate, bn_size=4):
        super().__init__()
        self.norm1 = BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = Conv2d(in_channels, bn_size * growth_rate, 1, bias=False)
        self.norm2 = BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)

    def forward(self, features):  # a list of all earlier maps of the block
        x = self.conv1(self.relu1(self.norm1(torch.cat(features, 1))))
        return self.conv2(self.relu2(self.norm2(x)))


class DenseBlock(nn.ModuleDict):
    """``n`` dense layers; the block outputs the input concatenated with every layer's k new maps."""

    def __init__(self, n, in_channels, growth_rate, bn_size=4):
        super().__init__({f"denselayer{i + 1}": DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size) for i in range(n)})

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """BN-ReLU-1x1 conv halving the channels (compression 0.5), then 2x2 average pooling."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.norm = BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = Conv2d(in_channels, out_channels, 1, bias=False)
        self.pool = AvgPool2d(2, 2)


class DenseNet(nn.Module):
    """Stem (7x7/2 conv, 3x3/2 max pool), dense blocks joined by transitions, BN, global pool, fc."""

    def __init__(self, blocks=(6, 12, 24, 16), growth_rate=32, init_features=64, bn_size=4, num_classes=1000, in_channels=3):
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module("conv0", Conv2d(in_channels, init_features, 7, 2, 3, bias=False))
        self.features.add_module("norm0", BatchNorm2d(init_features))
        self.features.add_module("relu0", nn.ReLU(inplace=True))
        self.features.add_module("pool0", MaxPool2d(3, 2, 1))
        channels = init_features
        for i, n in enumerate(blocks, start=1):
            self.features.add_module(f"denseblock{i}", DenseBlock(n, channels, growth_rate, bn_size))
            channels += n * growth_rate
            if i < len(blocks):
                self.features.add_module(f"transition{i}", Transition(channels, channels // 2))
                channels //= 2
        self.features.add_module("norm5", BatchNorm2d(channels))
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = F.relu(self.features(x))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


for _depth, _blocks in BLOCKS.items():
    _k, _init = (48, 96) if _depth == 161 else (32, 64)
    register(f"densenet{_depth}", lambda blocks=_blocks, k=_k, init=_init, **kw: DenseNet(blocks, k, init, **kw),
             torchvision=f"densenet{_depth}", doc=f"DenseNet-{_depth} (growth rate {_k}), torchvision-compatible")
