"""Exercises for the chapter *ResNet, ResNeXt and Highway networks*.

Grade them with ``make grade`` (or ``pytest tests/grading -k resnet --impl=exercises``).
"""

from torch import nn


def _projection(in_channels, out_channels, stride):
    """The option-B shortcut: 1x1 convolution with stride, then batch norm (None when shapes match)."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))


class BasicBlock(nn.Module):
    """ResNet's basic block: (N, in_channels, H, W) -> (N, planes, H / stride, W / stride).

    conv1 (3x3, stride, padding 1, no bias) - bn1 - ReLU - conv2 (3x3, padding
    1, no bias) - bn2, plus the shortcut, then ReLU. The shortcut is the
    input itself, or, when stride != 1 or in_channels != planes, a module
    named downsample: nn.Sequential(1x1 conv with stride and no bias, batch norm).

    Hint: the attribute names must be conv1, bn1, conv2, bn2, downsample (as in torchvision).
    """

    expansion = 1

    def __init__(self, in_channels, planes, stride=1):
        super().__init__()
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(in_channels, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _projection(in_channels, planes, stride)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))
        ### END SOLUTION


class Bottleneck(nn.Module):
    """ResNet's bottleneck block: (N, in_channels, H, W) -> (N, 4 * planes, H / stride, W / stride).

    conv1 (1x1) - bn1 - ReLU - conv2 (3x3, stride, padding 1) - bn2 - ReLU -
    conv3 (1x1 to 4 * planes) - bn3, plus the shortcut, then ReLU; no biases.
    The stride sits on the 3x3 convolution (as in torchvision, "ResNet v1.5").
    downsample as in BasicBlock, to 4 * planes channels.

    Hint: the names are conv1, bn1, conv2, bn2, conv3, bn3, downsample.
    """

    expansion = 4

    def __init__(self, in_channels, planes, stride=1):
        super().__init__()
        ### BEGIN SOLUTION
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _projection(in_channels, out_channels, stride)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))
        ### END SOLUTION
