"""Exercises for the chapter *VGG: depth from 3x3 convolutions*.

Grade them with ``make grade`` (or ``pytest tests/grading -k vgg --impl=exercises``).
"""

from torch import nn


def make_layers(config, in_channels=3, batch_norm=False):
    """VGG's convolutional part from a configuration list, as an nn.Sequential.

    An int n is a 3x3 convolution with n filters and padding 1, followed by
    nn.BatchNorm2d(n) when batch_norm is True, then nn.ReLU(inplace=True).
    "1x1-n" is the same with a 1x1 convolution and no padding. "M" is
    nn.MaxPool2d(2, 2). (Ignore "LRN".) The module order must match
    torchvision's VGG features, so that its state_dict loads strictly.

    Hint: keep track of the current number of channels; append modules to a
    list and return nn.Sequential(*modules).
    """
    ### BEGIN SOLUTION
    modules, channels = [], in_channels
    for item in config:
        if item == "M":
            modules.append(nn.MaxPool2d(2, 2))
            continue
        if item == "LRN":
            continue
        size, width = (1, int(item.split("-")[1])) if isinstance(item, str) else (3, item)
        modules.append(nn.Conv2d(channels, width, size, padding=size // 2))
        if batch_norm:
            modules.append(nn.BatchNorm2d(width))
        modules.append(nn.ReLU(inplace=True))
        channels = width
    return nn.Sequential(*modules)
    ### END SOLUTION


def vgg_conv_params(config, in_channels=3):
    """Parameters (weights and biases) of the convolutional part of a VGG configuration, without building it.

    Items are as in make_layers; "M" and "LRN" have no parameters.

    Hint: a k x k convolution from c_in to c_out channels has k*k*c_in*c_out weights and c_out biases.
    """
    ### BEGIN SOLUTION
    total, channels = 0, in_channels
    for item in config:
        if item in ("M", "LRN"):
            continue
        size, width = (1, int(item.split("-")[1])) if isinstance(item, str) else (3, item)
        total += size * size * channels * width + width
        channels = width
    return total
    ### END SOLUTION
