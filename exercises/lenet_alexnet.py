# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/lenet_alexnet.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *LeNet and AlexNet*.

Grade them with ``make grade`` (or ``pytest tests/grading -k lenet_alexnet --impl=exercises``).
"""

import torch


def ten_crops(images, size):
    """AlexNet's ten test-time patches of every image: (N, C, H, W) -> (N, 10, C, size, size).

    The four corner crops and the centre crop of size x size, and the
    left-right mirror image of each of these five. Any order will do (AlexNet
    averages the ten predictions). For the centre crop of an H x W image,
    start at row (H - size + 1) // 2 and column (W - size + 1) // 2 (half the
    margin, rounded up). Raise ValueError when size is larger than H or W.

    Hint: slice the five windows out of images, stack them on dim 1, and do
    the same for images.flip(-1); torch.cat the two stacks.
    """
    raise NotImplementedError('ten_crops: not implemented yet. Hint: slice the five windows out of images, stack them on dim 1, and do the same for images.flip(-1); torch.cat the two stacks.')


def lenet_c3_params(table, kernel_size=5):
    """Trainable parameters of a sparsely connected convolution like LeNet-5's C3.

    table[o] lists the input maps that output map o sees. Each connection has
    one kernel_size x kernel_size kernel; each output map has one bias.
    LeNet-5's table (cnncourse.models.lenet.C3_TABLE) gives 1,516.

    Hint: sum the connections over the output maps.
    """
    raise NotImplementedError('lenet_c3_params: not implemented yet. Hint: sum the connections over the output maps.')
