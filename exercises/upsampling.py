# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/upsampling.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Undoing pooling and convolution*.

Grade them with ``make grade`` (or ``pytest tests/grading -k upsampling --impl=exercises``).
"""

import torch


def conv_transpose2d(x, weight, stride=1, padding=0):
    """Transposed convolution (no bias, no groups, no dilation), as F.conv_transpose2d.

    x: (N, C_in, H, W); weight: (C_in, C_out, k, k). Output (N, C_out, H_out, W_out)
    with H_out = (H - 1) * stride - 2 * padding + k.

    Hint: every input pixel (i, j) stamps its kernel, weighted by the pixel's
    value and summed over C_in, onto the output at rows i*stride ... i*stride + k - 1
    (and likewise for columns) of an output that is 2 * padding larger; the
    stamps add up where they overlap. Finally crop padding from each side.
    """
    raise NotImplementedError("conv_transpose2d: not implemented yet. Hint: every input pixel (i, j) stamps its kernel, weighted by the pixel's value and summed over C_in, onto the output at rows i*stride ... i*stride + k - 1 (and likewise for columns) of an output that is 2 * padding larger; the stamps add up where they overlap. Finally crop padding from each side.")
