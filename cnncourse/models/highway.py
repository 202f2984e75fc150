"""Highway networks (Srivastava et al., 2015): a skip connection with a learned gate.

``y = H(x) * T(x) + x * (1 - T(x))`` with the transform gate ``T = sigmoid(conv(x))``.
The gate's bias starts negative, so that every block begins close to the
identity and information flows through a deep stack from the first step;
a ResNet is the special case with both paths always fully open.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d
from cnncourse.models.registry import register


class HighwayBlock(nn.Module):
    """(N, C, H, W) -> (N, C, H, W): a gated mix of a 3x3 conv-BN-ReLU transform and the input."""

    def __init__(self, channels, gate_bias=-2.0):
        super().__init__()
        self.transform = nn.Sequential(Conv2d(channels, channels, 3, padding=1, bias=False), BatchNorm2d(channels), nn.ReLU(inplace=True))
        self.gate = Conv2d(channels, channels, 3, padding=1)
        nn.init.constant_(self.gate.bias, gate_bias)

    def forward(self, x):
        t = torch.sigmoid(self.gate(x))
        return self.transform(x) * t + x * (1 - t)


class HighwayNet(nn.Module):
    """A stem, ``depth`` highway blocks at constant width, global average pooling and a linear classifier."""

    def __init__(self, depth=10, width=32, num_classes=10, in_channels=3, gate_bias=-2.0):
        super().__init__()
        self.stem = nn.Sequential(Conv2d(in_channels, width, 3, padding=1, bias=False), BatchNorm2d(width), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*[HighwayBlock(width, gate_bias) for _ in range(depth)])
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))


register("highway", HighwayNet, doc="A convolutional highway network (gated skips)", input_size=32)
