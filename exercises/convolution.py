# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/convolution.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Convolution*.

Implement each function where it says so; grade your work with ``make grade``
(or ``pytest tests/grading -k convolution --impl=exercises``). Each function
must agree with ``torch.nn.functional.conv2d`` / ``unfold`` on random inputs,
values and gradients.
"""

import torch
import torch.nn.functional as F


def conv2d_loops(x, weight, bias=None, stride=1, padding=0):
    """Convolve (cross-correlate) a batch of images with a bank of filters, by loops.

    x: (N, C, H, W); weight: (F, C, kH, kW); bias: (F,) or None; stride and
    padding are ints. Returns (N, F, H_out, W_out), where
    H_out = (H + 2 * padding - kH) // stride + 1 (and likewise W_out).

    Hint: zero-pad x with F.pad, then loop over the filters and the output
    positions (i, j): output[:, f, i, j] is the sum of the patch
    x[:, :, i*stride : i*stride + kH, j*stride : j*stride + kW] times weight[f].
    """
    raise NotImplementedError('conv2d_loops: not implemented yet. Hint: zero-pad x with F.pad, then loop over the filters and the output positions (i, j): output[:, f, i, j] is the sum of the patch x[:, :, i*stride : i*stride + kH, j*stride : j*stride + kW] times weight[f].')


def im2col(x, kernel_size, stride=1):
    """Every kH x kW patch of x as one column, like F.unfold(x, kernel_size, stride=stride).

    x: (N, C, H, W); kernel_size: (kH, kW). Returns (N, C * kH * kW, L), where
    L = H_out * W_out patches, in row-major order; the rows are ordered by
    channel, then kernel row, then kernel column.

    Hint: do not loop over the L positions. Loop over the kH * kW kernel
    offsets (a, b) instead: for a fixed offset, the pixel every patch takes
    is one strided slice x[:, :, a : a + stride * H_out : stride, b : ...].
    """
    raise NotImplementedError('im2col: not implemented yet. Hint: do not loop over the L positions. Loop over the kH * kW kernel offsets (a, b) instead: for a fixed offset, the pixel every patch takes is one strided slice x[:, :, a : a + stride * H_out : stride, b : ...].')


def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    """The same convolution as conv2d_loops, as im2col followed by one matrix product.

    Hint: pad, take cols = im2col(x, (kH, kW), stride) of shape (N, C*kH*kW, L),
    multiply by the filters flattened to (F, C*kH*kW), then reshape the
    (N, F, L) result to (N, F, H_out, W_out).
    """
    raise NotImplementedError('conv2d_im2col: not implemented yet. Hint: pad, take cols = im2col(x, (kH, kW), stride) of shape (N, C*kH*kW, L), multiply by the filters flattened to (F, C*kH*kW), then reshape the (N, F, L) result to (N, F, H_out, W_out).')
