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
    ### BEGIN SOLUTION
    h, w = images.shape[-2:]
    if size > h or size > w:
        raise ValueError(f"ten_crops: size {size} is larger than the image ({h}x{w})")
    top, left = (h - size + 1) // 2, (w - size + 1) // 2
    corners = [(0, 0), (0, w - size), (h - size, 0), (h - size, w - size), (top, left)]

    def five(x):
        return torch.stack([x[..., i : i + size, j : j + size] for i, j in corners], dim=1)

    return torch.cat([five(images), five(images.flip(-1))], dim=1)
    ### END SOLUTION


def lenet_c3_params(table, kernel_size=5):
    """Trainable parameters of a sparsely connected convolution like LeNet-5's C3.

    table[o] lists the input maps that output map o sees. Each connection has
    one kernel_size x kernel_size kernel; each output map has one bias.
    LeNet-5's table (cnncourse.models.lenet.C3_TABLE) gives 1,516.

    Hint: sum the connections over the output maps.
    """
    ### BEGIN SOLUTION
    connections = sum(len(inputs) for inputs in table)
    return connections * kernel_size * kernel_size + len(table)
    ### END SOLUTION
