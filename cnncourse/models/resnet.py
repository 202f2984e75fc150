"""ResNet (He et al., 2016), its plain counterparts, ResNeXt (Xie et al., 2017).

The stage table below is the paper's Table 1: block type and blocks per stage.
``resnet18`` ... ``resnet152`` and ``resnext50_32x4d`` build modules whose
state_dict has torchvision's keys and shapes, so torchvision's weights load
with ``strict=True``.

* ``skip=False`` gives the *plain* network of the same depth (the degradation
  experiment: a deeper plain network trains worse);
* ``cifar_resnet(depth)`` is the 6n+2-layer network of the paper's CIFAR-10
  experiments (Section 4.2), small enough to train on the embedded data;
* ``shortcut="zeros"`` uses option A of the paper (identity, subsampled, with
  zero channels appended) instead of the 1x1 projection (option B).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers import AvgPool2d, BatchNorm2d, Conv2d, ConvBNAct, MaxPool2d
from cnncourse.models.registry import register

# depth -> (block, blocks per stage); Table 1 of He et al. (2016)
STAGES = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
WIDTHS = (64, 128, 256, 512)  # channels of each stage's 3x3 convolutions (before expansion)
CIFAR_DEPTHS = (8, 14, 20, 32, 44, 56, 110)  # 6n + 2: n basic blocks in each of three stages
CIFAR_WIDTHS = (16, 32, 64)


def _init_convs(model):
    """He initialisation with fan_out for every convolution, as torchvision's ResNet does."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


class ZeroPadShortcut(nn.Module):
    """Option A: subsample by the stride and append zero channels. No parameters."""

    def __init__(self, out_channels, stride):
        super().__init__()
        self.out_channels, self.stride = out_channels, stride

    def forward(self, x):
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.out_channels - x.shape[1]))


def _shortcut(in_channels, out_channels, stride, kind):
    if in_channels == out_channels and stride == 1:
        return None
    if kind == "zeros":
        return ZeroPadShortcut(out_channels, stride)
    return nn.Sequential(Conv2d(in_channels, out_channels, 1, stride, bias=False), BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions; output = ReLU(F(x) + x). (N, C_in, H, W) -> (N, planes, H/s, W/s)."""

    expansion = 1

    def __init__(self, in_channels, planes, stride=1, groups=1, base_width=64, skip=True, shortcut="projection"):
        super().__init__()
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock: groups and base_width apply to bottleneck blocks only")
        self.conv1 = Conv2d(in_channels, planes, 3, stride, 1, bias=False)
        self.bn1 = BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = BatchNorm2d(planes)
        self.skip = skip
        self.downsample = _shortcut(in_channels, planes, stride, shortcut) if skip else None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.skip:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (grouped for ResNeXt), 1x1 expand by 4; output = ReLU(F(x) + x)."""

    expansion = 4

    def __init__(self, in_channels, planes, stride=1, groups=1, base_width=64, skip=True, shortcut="projection"):
        super().__init__()
        width = int(planes * base_width / 64) * groups
        out_channels = planes * self.expansion
        self.conv1 = Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = BatchNorm2d(width)
        self.conv2 = Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = BatchNorm2d(width)
        self.conv3 = Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.skip = skip
        self.downsample = _shortcut(in_channels, out_channels, stride, shortcut) if skip else None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.skip:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


class ResNet(nn.Module):
    """The ImageNet ResNet: 7x7/2 stem, 3x3/2 max pool, four stages, global average pool, fc.

    ``blocks`` gives the blocks per stage, ``block`` their type. (N, C, H, W) -> (N, num_classes).
    """

    def __init__(self, block="basic", blocks=(2, 2, 2, 2), num_classes=1000, in_channels=3,
                 groups=1, width_per_group=64, skip=True, shortcut="projection", widths=WIDTHS):
        super().__init__()
        if shortcut not in ("projection", "zeros"):
            raise ValueError(f"ResNet: shortcut must be 'projection' or 'zeros'; got {shortcut!r}")
        unit = BLOCKS[block]
        self.conv1 = Conv2d(in_channels, widths[0], 7, 2, 3, bias=False)
        self.bn1 = BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = MaxPool2d(3, 2, 1)
        channels = widths[0]
        for stage, (planes, n) in enumerate(zip(widths, blocks), start=1):
            layers = []
            for i in range(n):
                stride = 2 if stage > 1 and i == 0 else 1
                layers.append(unit(channels, planes, stride, groups, width_per_group, skip, shortcut))
                channels = planes * unit.expansion
            setattr(self, f"layer{stage}", nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)
        _init_convs(self)

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


class CifarResNet(nn.Module):
    """The CIFAR ResNet of He et al. (2016), Section 4.2: 6n + 2 layers, for 32x32 inputs.

    A 3x3 convolution to 16 maps, three stages of n basic blocks with 16, 32
    and 64 maps (the last two start with stride 2), global average pooling
    and a linear classifier; option-A (zero-padding) shortcuts, so the plain
    network (``skip=False``) has exactly the same parameters.
    (N, C, H, W) -> (N, num_classes).
    """

    def __init__(self, depth=20, num_classes=10, in_channels=3, skip=True, shortcut="zeros", widths=CIFAR_WIDTHS):
        super().__init__()
        if depth not in CIFAR_DEPTHS:
            raise ValueError(f"CifarResNet: depth must be 6n + 2, one of {CIFAR_DEPTHS}; got {depth!r}")
        n = (depth - 2) // 6
        self.stem = ConvBNAct(in_channels, widths[0], 3)
        blocks, channels = [], widths[0]
        for stage, planes in enumerate(widths):
            for i in range(n):
                blocks.append(BasicBlock(channels, planes, 2 if stage > 0 and i == 0 else 1, skip=skip, shortcut=shortcut))
                channels = planes
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(channels, num_classes)
        _init_convs(self)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def resnet(depth, **kwargs) -> ResNet:
    """A ResNet of a depth in Table 1 of the paper (18, 34, 50, 101, 152)."""
    if depth not in STAGES:
        raise ValueError(f"resnet: depth must be one of {sorted(STAGES)}; got {depth!r}")
    block, blocks = STAGES[depth]
    return ResNet(block, blocks, **kwargs)


for _depth in STAGES:
    register(f"resnet{_depth}", lambda depth=_depth, **kw: resnet(depth, **kw), torchvision=f"resnet{_depth}",
             doc=f"ResNet-{_depth} (He et al., 2016), torchvision-compatible")
    register(f"plain{_depth}", lambda depth=_depth, **kw: resnet(depth, skip=False, **kw),
             doc=f"ResNet-{_depth} without shortcuts: the plain network of the degradation experiment")
for _depth in CIFAR_DEPTHS:
    register(f"cifar_resnet{_depth}", lambda depth=_depth, **kw: CifarResNet(depth, **kw),
             doc=f"CIFAR ResNet-{_depth} (6n+2 layers, He et al. 2016, Section 4.2)", input_size=32)
    register(f"cifar_plain{_depth}", lambda depth=_depth, **kw: CifarResNet(depth, skip=False, **kw),
             doc=f"CIFAR ResNet-{_depth} without shortcuts (the plain network)", input_size=32)
register("resnext50_32x4d", lambda **kw: ResNet("bottleneck", (3, 4, 6, 3), groups=32, width_per_group=4, **kw),
         torchvision="resnext50_32x4d", doc="ResNeXt-50 32x4d (Xie et al., 2017), torchvision-compatible")
register("resnext101_32x8d", lambda **kw: ResNet("bottleneck", (3, 4, 23, 3), groups=32, width_per_group=8, **kw),
         torchvision="resnext101_32x8d", doc="ResNeXt-101 32x8d, torchvision-compatible")
