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
    ### BEGIN SOLUTION
    x = F.pad(x, (padding, padding, padding, padding))
    n, _, h, w = x.shape
    n_filters, _, kh, kw = weight.shape
    h_out, w_out = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = x.new_zeros(n, n_filters, h_out, w_out)
    for f in range(n_filters):
        for i in range(h_out):
            for j in range(w_out):
                patch = x[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
                out[:, f, i, j] = (patch * weight[f]).sum(dim=(1, 2, 3))
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
    ### END SOLUTION


def im2col(x, kernel_size, stride=1):
    """Every kH x kW patch of x as one column, like F.unfold(x, kernel_size, stride=stride).

    x: (N, C, H, W); kernel_size: (kH, kW). Returns (N, C * kH * kW, L), where
    L = H_out * W_out patches, in row-major order; the rows are ordered by
    channel, then kernel row, then kernel column.

    Hint: do not loop over the L positions. Loop over the kH * kW kernel
    offsets (a, b) instead: for a fixed offset, the pixel every patch takes
    is one strided slice x[:, :, a : a + stride * H_out : stride, b : ...].
    """
    ### BEGIN SOLUTION
    kh, kw = kernel_size
    n, c, h, w = x.shape
    h_out, w_out = (h - kh) // stride + 1, (w - kw) // stride + 1
    offsets = [
        x[:, :, a : a + stride * (h_out - 1) + 1 : stride, b : b + stride * (w_out - 1) + 1 : stride]
        for a in range(kh)
        for b in range(kw)
    ]
    cols = torch.stack(offsets, dim=2)  # (N, C, kH * kW, H_out, W_out)
    return cols.reshape(n, c * kh * kw, h_out * w_out)
    ### END SOLUTION


def conv2d_im2col(x, weight, bias=None, stride=1, padding=0):
    """The same convolution as conv2d_loops, as im2col followed by one matrix product.

    Hint: pad, take cols = im2col(x, (kH, kW), stride) of shape (N, C*kH*kW, L),
    multiply by the filters flattened to (F, C*kH*kW), then reshape the
    (N, F, L) result to (N, F, H_out, W_out).
    """
    ### BEGIN SOLUTION
    x = F.pad(x, (padding, padding, padding, padding))
    n_filters, _, kh, kw = weight.shape
    h_out, w_out = (x.shape[2] - kh) // stride + 1, (x.shape[3] - kw) // stride + 1
    cols = im2col(x, (kh, kw), stride)
    out = weight.reshape(n_filters, -1) @ cols  # (N, F, L)
    out = out.reshape(x.shape[0], n_filters, h_out, w_out)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out
    ### END SOLUTION
