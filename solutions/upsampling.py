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
    ### BEGIN SOLUTION
    n, c_in, h, w = x.shape
    k = weight.shape[2]
    full_h, full_w = (h - 1) * stride + k, (w - 1) * stride + k
    out = x.new_zeros(n, weight.shape[1], full_h, full_w)
    for i in range(h):
        for j in range(w):
            # (N, C_in) x (C_in, C_out, k, k) -> (N, C_out, k, k)
            stamp = torch.einsum("nc,cokl->nokl", x[:, :, i, j], weight)
            out[:, :, i * stride : i * stride + k, j * stride : j * stride + k] += stamp
    return out[:, :, padding : full_h - padding, padding : full_w - padding]
    ### END SOLUTION
