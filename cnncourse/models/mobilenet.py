"""MobileNet v1 (Howard et al., 2017) and v2 (Sandler et al., 2018), from their tables.

v1 is a 3x3 stem followed by depthwise separable convolutions, listed in
``V1`` as (output channels, stride) from the paper's Table 1; the width
multiplier scales every layer. v2 stacks inverted residual blocks listed in
``V2`` as (expansion t, channels c, repeats n, stride s), Table 2 of its
paper, with torchvision's layout so ``mobilenet_v2`` loads its weights.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d, ConvBNAct
from cnncourse.models.registry import register

V1 = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
V2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def make_divisible(value, divisor=8):
    """Round a channel count to a multiple of ``divisor``, never down by more than 10% (torchvision's rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class MobileNetV1(nn.Module):
    """3x3/2 convolution, 13 depthwise separable convolutions, global average pooling, fc."""

    def __init__(self, num_classes=1000, in_channels=3, width_mult=1.0):
        super().__init__()
        width = lambda c: max(8, int(c * width_mult))  # noqa: E731
        layers, channels = [ConvBNAct(in_channels, width(32), 3, 2)], width(32)
        for out, stride in V1:
            layers += [ConvBNAct(channels, channels, 3, stride, groups=channels),  # depthwise
                       ConvBNAct(channels, width(out), 1)]                         # pointwise
            channels = width(out)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).mean(dim=(2, 3)))


class InvertedResidual(nn.Module):
    """1x1 expansion by t (ReLU6), 3x3 depthwise (ReLU6), linear 1x1 projection; a skip when shapes allow."""

    def __init__(self, in_channels, out_channels, stride, expand_ratio):
        super().__init__()
        hidden = int(round(in_channels * expand_ratio))
        self.use_res_connect = stride == 1 and in_channels == out_channels
        layers = [ConvBNAct(in_channels, hidden, 1, activation=nn.ReLU6)] if expand_ratio != 1 else []
        layers += [ConvBNAct(hidden, hidden, 3, stride, groups=hidden, activation=nn.ReLU6),
                   Conv2d(hidden, out_channels, 1, bias=False), BatchNorm2d(out_channels)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """Stem, inverted residual stages from ``V2``, 1x1 to 1280 channels, global pool, dropout, fc."""

    def __init__(self, num_classes=1000, in_channels=3, width_mult=1.0, dropout=0.2):
        super().__init__()
        channels, last = make_divisible(32 * width_mult), make_divisible(1280 * max(1.0, width_mult))
        layers = [ConvBNAct(in_channels, channels, 3, 2, activation=nn.ReLU6)]
        for t, c, n, s in V2:
            out = make_divisible(c * width_mult)
            for i in range(n):
                layers.append(InvertedResidual(channels, out, s if i == 0 else 1, t))
                channels = out
        layers.append(ConvBNAct(channels, last, 1, activation=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x).mean(dim=(2, 3), keepdim=True), 1))


register("mobilenet_v1", MobileNetV1, doc="MobileNet v1 (width multiplier: width_mult=...)")
register("mobilenet_v2", MobileNetV2, torchvision="mobilenet_v2", doc="MobileNet v2, torchvision-compatible")
