# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/pooling.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Pooling*.

Grade them with ``make grade`` (or ``pytest tests/grading -k pooling --impl=exercises``).
"""

import torch


def max_pool2d_forward(x, kernel_size, stride):
    """Max pooling without padding; also return where each maximum came from.

    x: (N, C, H, W); kernel_size, stride: ints. Returns (out, indices), both
    (N, C, H_out, W_out) with H_out = (H - kernel_size) // stride + 1. indices
    holds the flat position row * W + col of each maximum in x's H x W plane,
    as F.max_pool2d(..., return_indices=True) does.

    Hint: loop over the output positions (i, j); take the window
    x[:, :, i*s : i*s + k, j*s : j*s + k], flatten its last two dims and use
    .max(dim=-1) to get values and local positions; turn a local position p
    into (i*s + p // k) * W + (j*s + p % k).
    """
    raise NotImplementedError('max_pool2d_forward: not implemented yet. Hint: loop over the output positions (i, j); take the window x[:, :, i*s : i*s + k, j*s : j*s + k], flatten its last two dims and use .max(dim=-1) to get values and local positions; turn a local position p into (i*s + p // k) * W + (j*s + p % k).')


def max_pool2d_backward(grad_out, indices, input_shape):
    """The gradient of max pooling with respect to its input.

    grad_out and indices: (N, C, H_out, W_out); input_shape: (N, C, H, W).
    Every output's gradient flows to the input position its maximum came
    from; positions that were the maximum of several windows collect the sum.

    Hint: start from zeros of shape (N, C, H * W) and use scatter_add_ along
    the last dimension with the flattened indices.
    """
    raise NotImplementedError('max_pool2d_backward: not implemented yet. Hint: start from zeros of shape (N, C, H * W) and use scatter_add_ along the last dimension with the flattened indices.')
