# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/fully_convolutional.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
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
    raise NotImplementedError('fc_to_conv: not implemented yet. Hint: the kernel covers the whole H x W map; its weight is linear.weight reshaped to (out_features, C, H, W). Copy weight and bias under torch.no_grad().')
