"""Stride-1 convolution as k^2 matrix products on shifted inputs: im2col without the copy.

im2col (:func:`~cnncourse.layers.conv2d`) copies every pixel k^2 times so
that one matrix product can do the work. The copy is not needed. Lay the
padded input out channel by channel, each channel's images one after the
other in a flat row of values. The pixel under kernel tap (i, j) of the
window at output position q then sits at ``q + i dH W_p + j dW``: every tap
reads the *same* matrix (C_in, positions), shifted by a constant offset, and
a shifted slice of a row-major matrix is still a matrix a matrix product can
read in place. So

    out (C_out, positions) = sum over taps t of  W_t (C_out, C_in) @ x[:, q + offset_t]

k^2 products of the undisturbed input ("implicit GEMM", the idea behind
cuDNN's and oneDNN's fastest direct convolutions). Outputs are computed at
every position of the padded grid, and those that fall outside the output
(the last columns of each row, the last rows of each image) are dropped at
the end. Positions go in bands, so that a band of the output stays in the
cache while the k^2 products add into it. The backward pass uses the same
shifted slices: the input's gradient is k^2 products ``W_t^T @ grad`` added
into them, the weights' gradient k^2 products ``grad @ x_t^T``.
"""

from __future__ import annotations

import torch

BAND_BYTES = 4 * 2**20  # output and input columns a band keeps in the cache


def _layout(x, kernel, dilation, groups):
    """The padded input as (groups, C_in / groups, N H_p W_p + reach) and each tap's offset."""
    (kh, kw), (dh, dw) = kernel, dilation
    n, c, hp, wp = x.shape
    offsets = [i * dh * wp + j * dw for i in range(kh) for j in range(kw)]
    flat = x.new_empty(c, n * hp * wp + offsets[-1])
    flat[:, : n * hp * wp].view(c, n, hp * wp).copy_(x.view(n, c, hp * wp).transpose(0, 1))
    flat[:, n * hp * wp :] = 0  # read only by positions that are dropped
    return flat.view(groups, c // groups, -1), offsets


def _tap_weights(weight, groups):
    """(C_out, C_in / groups, kH, kW) -> (taps, groups, C_out / groups, C_in / groups)."""
    c_out, c_per_group = weight.shape[:2]
    return weight.reshape(groups, c_out // groups, c_per_group, -1).permute(3, 0, 1, 2).contiguous()


def _bands(total, rows):
    """Column slices of ``total`` positions, each about BAND_BYTES for ``rows`` rows of values."""
    step = max(256, BAND_BYTES // (4 * rows))
    return [slice(b, min(b + step, total)) for b in range(0, total, step)]


class _Shifted(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, dilation, out_size, groups):
        n, c, hp, wp = x.shape
        total = n * hp * wp
        flat, offsets = _layout(x.contiguous(), tuple(weight.shape[2:]), dilation, groups)
        w = _tap_weights(weight, groups)  # (taps, G, M, K)
        out = x.new_empty(groups, weight.shape[0] // groups, total)
        for band in _bands(total, c + weight.shape[0]):
            result = out[:, :, band]
            for t, offset in enumerate(offsets):
                shifted = flat[:, :, band.start + offset : band.stop + offset]
                result.baddbmm_(w[t], shifted, beta=1.0 if t else 0.0)
        ctx.save_for_backward(flat, weight)
        ctx.geometry = x.shape, offsets, out_size, groups
        out = out.view(weight.shape[0], n, hp, wp)[:, :, : out_size[0], : out_size[1]]
        return out.transpose(0, 1).contiguous()  # (N, C_out, H_out, W_out)

    @staticmethod
    def backward(ctx, grad):
        flat, weight = ctx.saved_tensors
        (n, c, hp, wp), offsets, out_size, groups = ctx.geometry
        total, c_out = n * hp * wp, weight.shape[0]
        # The output's gradient on the padded grid, zero where outputs were dropped.
        g = grad.new_zeros(c_out, n, hp, wp)
        g[:, :, : out_size[0], : out_size[1]] = grad.transpose(0, 1)
        g = g.view(groups, c_out // groups, total)
        w = _tap_weights(weight, groups)
        grad_flat = torch.zeros_like(flat) if ctx.needs_input_grad[0] else None
        grad_w = torch.zeros_like(w) if ctx.needs_input_grad[1] else None
        for band in _bands(total, c + c_out):
            for t, offset in enumerate(offsets):
                shift = slice(band.start + offset, band.stop + offset)
                if grad_flat is not None:
                    grad_flat[:, :, shift].baddbmm_(w[t].transpose(1, 2), g[:, :, band])
                if grad_w is not None:
                    grad_w[t].baddbmm_(g[:, :, band], flat[:, :, shift].transpose(1, 2))
        grad_x = None
        if grad_flat is not None:
            grad_x = grad_flat.view(c, -1)[:, :total].view(c, n, hp, wp).transpose(0, 1)
        if grad_w is not None:
            grad_w = grad_w.permute(1, 2, 3, 0).reshape(weight.shape)
        return grad_x, grad_w, None, None, None


def shifted_conv2d(x, weight, dilation, out_size, groups=1):
    """Stride-1 convolution of an already padded ``x`` (N, C_in, H_p, W_p) -> (N, C_out, H_out, W_out)."""
    return _Shifted.apply(x, weight, dilation, out_size, groups)
