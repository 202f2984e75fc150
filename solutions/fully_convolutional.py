"""Exercises for the chapter *Becoming fully convolutional*.

Grade them with ``make grade`` (or ``pytest tests/grading -k fully_convolutional --impl=exercises``).
"""

import torch
from torch import nn


def fc_to_conv(linear, input_shape):
    """An nn.Conv2d that computes the same function as ``linear`` on a (C, H, W) feature map.

    linear reads the map flattened (C * H * W values). The convolution must
    give, on that map, an output of shape (out_features, 1, 1) equal to
    linear's output; on a larger map it slides that classifier over it.

    Hint: the kernel covers the whole H x W map; its weight is linear.weight
    reshaped to (out_features, C, H, W). Copy weight and bias under torch.no_grad().
    """
    ### BEGIN SOLUTION
    c, h, w = input_shape
    conv = nn.Conv2d(c, linear.out_features, kernel_size=(h, w), bias=linear.bias is not None)
    with torch.no_grad():
        conv.weight.copy_(linear.weight.reshape(linear.out_features, c, h, w))
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv
    ### END SOLUTION
