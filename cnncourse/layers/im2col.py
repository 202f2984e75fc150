"""Sliding windows without copying, and im2col.

``Tensor.unfold(dim, size, step)`` returns every window along one dimension
as a *view*: no data moves, only strides change. Unfolding height then width
gives all kH x kW windows of an image, shaped (N, C, H_out, W_out, kH, kW).
The copy happens only when :func:`im2col` lays them out as the columns of a
matrix, the layout a matrix multiplication needs (Chellapilla et al., 2006).
"""

from __future__ import annotations

import torch


def windows(x: torch.Tensor, kernel_size, stride=(1, 1), dilation=(1, 1)) -> torch.Tensor:
    """All sliding windows of ``x`` (N, C, H, W) as a view (N, C, H_out, W_out, kH, kW).

    Arguments are already-checked tuples; ``x`` is already padded.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    # Unfold a window spanning d * (k - 1) + 1 pixels, then keep every d-th tap.
    x = x.unfold(2, dh * (kh - 1) + 1, sh)[..., ::dh]    # (N, C, H_out, W, kH)
    return x.unfold(3, dw * (kw - 1) + 1, sw)[..., ::dw]  # (N, C, H_out, W_out, kH, kW)


def im2col(x: torch.Tensor, kernel_size, stride=(1, 1), dilation=(1, 1)) -> torch.Tensor:
    """Windows as columns: (N, C * kH * kW, H_out * W_out), the layout of ``F.unfold``."""
    view = windows(x, kernel_size, stride, dilation)
    n, c, h_out, w_out, kh, kw = view.shape
    cols = view.permute(0, 1, 4, 5, 2, 3)  # (N, C, kH, kW, H_out, W_out), still a view
    return cols.reshape(n, c * kh * kw, h_out * w_out)  # the copy


def taps(x: torch.Tensor, kernel_size, stride, dilation, out_size):
    """The input under each kernel tap, for all output positions at once.

    Yields, for taps (i, j) in row-major order, the strided view
    ``x[:, :, i dH : : sH, j dW : : sW]`` of shape (N, C, H_out, W_out):
    element (n, c, y, x) is the pixel that tap (i, j) of the window at
    output (y, x) covers. A window operation is then one elementwise pass
    per tap (:mod:`cnncourse.layers.depthwise`, the pooling layers), and
    the same views of a zero tensor accumulate the gradient. ``x`` is
    already padded.
    """
    (kh, kw), (sh, sw), (dh, dw), (h_out, w_out) = kernel_size, stride, dilation, out_size
    for i in range(kh):
        for j in range(kw):
            yield x[:, :, i * dh : i * dh + (h_out - 1) * sh + 1 : sh, j * dw : j * dw + (w_out - 1) * sw + 1 : sw]
