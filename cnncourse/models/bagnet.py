"""BagNet (Brendel & Bethge, 2019): a ResNet-50 whose receptive field is a small patch.

Most 3x3 convolutions of ResNet-50 become 1x1, and the remaining ones use no
padding, so each unit of the last layer sees only a 9x9, 17x17 or 33x33 patch.
The classifier is linear on the average of the last features, so the logits
are the average of per-patch class evidence: :meth:`BagNet.evidence` returns
that map. ``KERNEL3`` says, per stage, how many of its blocks keep a 3x3
convolution.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d
from cnncourse.models.registry import register

KERNEL3 = {9: (1, 1, 0, 0), 17: (1, 1, 1, 0), 33: (1, 1, 1, 1)}
BLOCKS, STRIDES, WIDTHS = (3, 4, 6, 3), (2, 2, 2, 1), (64, 128, 256, 512)


class BagBottleneck(nn.Module):
    """ResNet's bottleneck with a k x k (k = 1 or 3), unpadded middle convolution; the shortcut is cropped to fit."""

    def __init__(self, in_channels, planes, stride, kernel):
        super().__init__()
        out_channels = planes * 4
        self.conv1 = Conv2d(in_channels, planes, 1, bias=False)
        self.bn1 = BatchNorm2d(planes)
        self.conv2 = Conv2d(planes, planes, kernel, stride, 0, bias=False)
        self.bn2 = BatchNorm2d(planes)
        self.conv3 = Conv2d(planes, out_channels, 1, bias=False)
        self.bn3 = BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(Conv2d(in_channels, out_channels, 1, stride, bias=False), BatchNorm2d(out_channels))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        h, w = out.shape[-2:]
        return self.relu(out + residual[..., :h, :w])


class BagNet(nn.Module):
    """BagNet-``patch`` (9, 17 or 33): (N, C, H, W) -> (N, num_classes), the mean of per-patch evidence.

    ``widths``, ``blocks`` and ``strides`` (per stage) default to ResNet-50's;
    smaller values give a BagNet that trains on small images. The patch size
    assumes the first stage has stride 2 (the later strides only change how
    densely the patches are sampled).
    """

    def __init__(self, patch=17, num_classes=1000, in_channels=3, widths=WIDTHS, blocks=BLOCKS, strides=STRIDES):
        super().__init__()
        if patch not in KERNEL3:
            raise ValueError(f"BagNet: patch must be one of {sorted(KERNEL3)}; got {patch!r}")
        for arg, value in (("widths", widths), ("blocks", blocks), ("strides", strides)):
            if len(value) != 4:
                raise ValueError(f"BagNet: {arg} must have one entry per stage (4); got {tuple(value)!r}")
        if min(blocks) < 1:
            raise ValueError(f"BagNet: blocks must be >= 1 in every stage; got {tuple(blocks)!r}")
        if strides[0] != 2:
            raise ValueError(f"BagNet: strides[0] must be 2 for a {patch}x{patch} patch; got {tuple(strides)!r}")
        self.patch = patch
        self.conv1 = Conv2d(in_channels, widths[0], 1, bias=False)
        self.conv2 = Conv2d(widths[0], widths[0], 3, bias=False)  # no padding: the first 3x3 of the patch
        self.bn1 = BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        channels, stages = widths[0], []
        for planes, n, stride, k3 in zip(widths, blocks, strides, KERNEL3[patch]):
            stage = []
            for i in range(n):
                stage.append(BagBottleneck(channels, planes, stride if i == 0 else 1, 3 if i < k3 else 1))
                channels = planes * 4
            stages.append(nn.Sequential(*stage))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(channels, num_classes)

    def features(self, x):
        x = self.relu(self.bn1(self.conv2(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def evidence(self, x):
        """Class evidence of every patch: (N, num_classes, H', W'), on the CPU (for plotting).

        ``x`` (N, C, H, W) is moved to the model's device; the logits are the
        evidence's spatial mean.
        """
        f = self.features(x.to(self.fc.weight.device))
        return (torch.einsum("nchw,kc->nkhw", f, self.fc.weight) + self.fc.bias.view(1, -1, 1, 1)).cpu()

    def forward(self, x):
        min_size = self.patch
        if min(x.shape[-2:]) < min_size:
            raise ValueError(f"BagNet-{self.patch}: input must be at least {min_size}x{min_size}; got {tuple(x.shape[-2:])}")
        return self.fc(self.features(x).mean(dim=(2, 3)))


for _patch in KERNEL3:
    register(f"bagnet{_patch}", lambda patch=_patch, **kw: BagNet(patch, **kw), doc=f"BagNet with {_patch}x{_patch} patches")
