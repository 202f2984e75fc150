"""Depthwise convolution as a sum over the kernel's taps, not as im2col.

A depthwise convolution (``groups`` = input channels; Howard et al., 2017)
filters each channel on its own: output channel ``c m + k`` is input channel
``c`` correlated with its own k x k kernel, for a channel multiplier ``m``
(``C_out = m C_in``). im2col serves it badly: it copies every pixel k^2
times to feed one tiny matrix product per channel. Turned inside out, the
same sums visit every *tap* (i, j) of the kernel once:

    out[:, c] = sum over taps (i, j) of  w[c, i, j] * x_tap(i, j)[:, c]

where ``x_tap(i, j)`` is the input under that tap at every output position,
a strided view of the padded input with the output's shape
(:func:`~cnncourse.layers.im2col.taps`). That is k^2 multiply-adds of whole
maps by one number per channel: nothing is copied, and each pass streams
through memory once, which is what a layer with so little arithmetic per
value is bound by. :func:`depthwise_conv2d_loops` writes the definition with
a loop over channels; :func:`depthwise_conv2d` vectorises it over channels
and hand-writes its backward with the same views. :func:`~cnncourse.layers.conv2d`
calls it whenever ``groups`` equals the input channels.
"""

from __future__ import annotations

import torch

from cnncourse.layers._args import prepare_conv
from cnncourse.layers.im2col import taps

CHUNK_BYTES = 4 * 2**20  # input values a group of channels brings into the cache


def _prepare(fn, input, weight, bias, stride, padding, dilation):
    """conv2d's checks with groups = the input's channels; the padded input and the settings."""
    c = input.shape[1] if isinstance(input, torch.Tensor) and input.dim() == 4 else 1
    return prepare_conv(fn, input, weight, bias, stride, padding, dilation, c)


def depthwise_conv2d_loops(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise convolution by a loop over channels and kernel taps (for exposition).

    Shapes: ``input`` (N, C, H, W), ``weight`` (C m, 1, kH, kW), ``bias`` (C m,)
    -> (N, C m, H_out, W_out); equal to ``F.conv2d(..., groups=C)``.
    """
    x, stride, dilation, out_size = _prepare("depthwise_conv2d_loops", input, weight, bias, stride, padding, dilation)
    c, kernel = x.shape[1], tuple(weight.shape[2:])
    m = weight.shape[0] // c
    out = x.new_zeros(x.shape[0], weight.shape[0], *out_size)
    for o in range(weight.shape[0]):
        channel = x[:, o // m : o // m + 1]  # the one input channel filter o sees
        for t, view in enumerate(taps(channel, kernel, stride, dilation, out_size)):
            out[:, o] += weight[o, 0].flatten()[t] * view[:, 0]
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def _runs(x, kernel, dilation, out_size):
    """Stride 1: the input under each tap as one contiguous run per channel, (N, C, L) views.

    Each padded channel is flattened to H_p W_p values; the pixel under tap
    (i, j) at output (y, x) then sits at a fixed *offset*, ``i dH W_p + j dW``,
    from position ``y W_p + x``. Computing the output on the padded width
    (the last columns of each row are discarded at the end), every tap reads
    one contiguous run of
    ``L = (H_out - 1) W_p + W_out`` values: no strided access at all, which
    matters on small maps, where rows of a strided view are only a few values long.
    """
    (kh, kw), (dh, dw) = kernel, dilation
    n, c, _, wp = x.shape
    flat = x.flatten(2)  # (N, C, H_p W_p), a view: x is contiguous within each channel
    length = (out_size[0] - 1) * wp + out_size[1]
    shape, strides = (n, c, length), (flat.stride(0), flat.stride(1), 1)
    return [flat.as_strided(shape, strides, flat.storage_offset() + i * dh * wp + j * dw)
            for i in range(kh) for j in range(kw)]


class _Depthwise(torch.autograd.Function):
    """Forward and backward of a depthwise convolution (multiplier 1) on an already padded input.

    With stride 1 the taps read contiguous runs (:func:`_runs`); with a larger
    stride, strided views (:func:`~cnncourse.layers.im2col.taps`). Channels go
    in groups that fit in the cache: all taps on one group, then the next.
    """

    @staticmethod
    def forward(ctx, x, weight, stride, dilation, out_size):
        x = x.contiguous()
        n, c, hp, wp = x.shape
        kernel, runs = tuple(weight.shape[2:]), stride == (1, 1)
        # The output on the grid the taps' views have: the padded width for runs.
        out = x.new_empty(n, c, hp * wp) if runs else x.new_empty(n, c, *out_size)
        for chunk in _chunks(n, c, hp * wp, x.element_size()):
            views = _views(x[:, chunk], kernel, stride, dilation, out_size)
            w = _per_tap(weight[chunk], views[0].dim())
            result = out[:, chunk, : views[0].shape[2]] if runs else out[:, chunk]
            torch.mul(views[0], w[0], out=result)
            for view, w_t in zip(views[1:], w[1:]):
                result.addcmul_(view, w_t)
        ctx.save_for_backward(x, weight)
        ctx.geometry = stride, dilation, out_size
        if runs:  # back from the padded width to W_out columns
            out = out.view(n, c, hp, wp)[:, :, : out_size[0], : out_size[1]].contiguous()
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        stride, dilation, out_size = ctx.geometry
        n, c, hp, wp = x.shape
        kernel, runs = tuple(weight.shape[2:]), stride == (1, 1)
        if runs:  # the output gradient on the padded width, zero on the discarded columns
            padded = grad.new_zeros(n, c, out_size[0], wp)
            padded[..., : out_size[1]] = grad
            grad = padded.flatten(2)[..., : (out_size[0] - 1) * wp + out_size[1]]
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            # Each tap sent view * w forward, so it sends grad * w back to the same view.
            grad_x = torch.zeros_like(x)
            for chunk in _chunks(n, c, hp * wp, x.element_size()):
                views = _views(grad_x[:, chunk], kernel, stride, dilation, out_size)
                for view, w_t in zip(views, _per_tap(weight[chunk], views[0].dim())):
                    view.addcmul_(grad[:, chunk], w_t)
        if ctx.needs_input_grad[1]:
            views = _views(x, kernel, stride, dilation, out_size)
            dims = [0] + list(range(2, grad.dim()))
            grad_w = torch.stack([(grad * view).sum(dims) for view in views], -1).view_as(weight)
        return grad_x, grad_w, None, None, None


def _views(x, kernel, stride, dilation, out_size):
    """The input under each tap: contiguous runs at stride 1, strided views otherwise."""
    if stride == (1, 1):
        return _runs(x, kernel, dilation, out_size)
    return list(taps(x, kernel, stride, dilation, out_size))


def _per_tap(weight, dim):
    """(C, 1, kH, kW) -> (taps, 1, C, 1, ...): each tap's weights, broadcast over a ``dim``-D view."""
    c = weight.shape[0]
    return weight.reshape(c, -1).t().contiguous().view(-1, 1, c, *[1] * (dim - 2))


def _chunks(n, c, p, itemsize):
    """Slices of channels whose padded maps fill CHUNK_BYTES: they stay in the CPU's cache
    while every tap passes over them."""
    step = max(1, CHUNK_BYTES // (n * p * itemsize))
    return [slice(c0, min(c0 + step, c)) for c0 in range(0, c, step)]


def depthwise(x, weight, stride, dilation, out_size):
    """The kernel behind :func:`depthwise_conv2d`, for callers that checked and padded already."""
    m = weight.shape[0] // x.shape[1]
    if m > 1:  # a channel multiplier: filter o reads input channel o // m
        x = x.repeat_interleave(m, dim=1)
    return _Depthwise.apply(x, weight, stride, dilation, out_size)


def depthwise_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise convolution as k^2 multiply-adds of shifted views, with a hand-written backward.

    Shapes: ``input`` (N, C, H, W), ``weight`` (C m, 1, kH, kW), ``bias`` (C m,)
    -> (N, C m, H_out, W_out); equal to ``F.conv2d(..., groups=C)``.
    """
    x, stride, dilation, out_size = _prepare("depthwise_conv2d", input, weight, bias, stride, padding, dilation)
    out = depthwise(x, weight, stride, dilation, out_size)
    return out if bias is None else out + bias.view(1, -1, 1, 1)
