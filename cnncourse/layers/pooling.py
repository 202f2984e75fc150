"""Pooling: max and average, fixed and adaptive, spatial pyramids, across channels.

Pooling summarises each window of a feature map by one number, shrinking the
map and making it less sensitive to small shifts (Boureau et al., 2010).
Signatures and semantics follow ``torch.nn.functional``; :func:`max_pool2d`
has a hand-written backward that routes each gradient to the remembered argmax.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers._args import check_tensor, pair
from cnncourse.layers.im2col import taps
from cnncourse.layers.kernels import torch_kernels


def _batched(fn, input):
    """Accept (C, H, W) like torch does: add the batch dimension, remember to drop it."""
    if isinstance(input, torch.Tensor) and input.dim() == 3:
        return input.unsqueeze(0), True
    check_tensor(fn, "input", input, 4, "(N, C, H, W) or (C, H, W)")
    return input, False


def _pool_geometry(fn, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Check the arguments; return kernel, stride, padding, dilation, output size, extra right/bottom pad."""
    kernel = pair(fn, "kernel_size", kernel_size)
    stride = kernel if stride is None or stride == [] else pair(fn, "stride", stride)
    padding = pair(fn, "padding", padding, minimum=0)
    dilation = pair(fn, "dilation", dilation)
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p > r // 2 for p, r in zip(padding, reach)):
        raise ValueError(f"{fn}: padding {padding} must be at most half the kernel's span {reach}")
    size = tuple(input.shape[-2:])
    out, extra = [], []
    for n, r, s, p in zip(size, reach, stride, padding):
        if r > n + 2 * p:
            raise ValueError(
                f"{fn}: kernel_size {kernel} (span {reach} with dilation {dilation}) is larger than "
                f"the padded input {tuple(m + 2 * q for m, q in zip(size, padding))}"
            )
        steps = (n + 2 * p - r) / s
        o = (math.ceil(steps) if ceil_mode else math.floor(steps)) + 1
        if ceil_mode and (o - 1) * s >= n + p:  # the last window must start inside the input
            o -= 1
        out.append(o)
        extra.append(max(0, (o - 1) * s + r - (n + 2 * p)))
    return kernel, stride, padding, dilation, tuple(out), tuple(extra)


def _padded(x, padding, extra, value=0.0):
    """``x`` with the pooling's padding, plus ceil_mode's extra bottom/right cells."""
    (ph, pw), (eh, ew) = padding, extra
    if ph or pw or eh or ew:
        x = F.pad(x, (pw, pw + ew, ph, ph + eh), value=value)
    return x


def _window_max(x, kernel, stride, dilation, out_size, with_indices):
    """The maximum of each window, one pass per kernel tap; optionally which tap held it.

    ``x`` is padded with -inf. The local index is the first tap holding the
    maximum, as PyTorch's kernel picks (it replaces the running maximum only
    by a strictly greater value).
    """
    views = list(taps(x, kernel, stride, dilation, out_size))
    values = views[0].clone()
    for view in views[1:]:
        torch.maximum(values, view, out=values)  # NaN wins, as in torch.max
    if not with_indices:
        return values, None
    local = torch.zeros(values.shape, dtype=torch.long, device=x.device)
    for t in range(len(views) - 1, 0, -1):  # backwards, so that the first tap to match is written last
        local.masked_fill_(views[t] == values, t)
    return values, local


class _MaxPool2d(torch.autograd.Function):
    """Max pooling whose backward sends each output gradient to its input argmax."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, extra, out_size):
        n, c, h, w = x.shape
        padded = _padded(x, padding, extra, float("-inf"))
        values, local = _window_max(padded, kernel, stride, dilation, out_size, with_indices=True)
        offsets, corners = _window_index(w, kernel, stride, padding, dilation, out_size, x.device)
        indices = offsets[local] + corners
        ctx.save_for_backward(indices)
        ctx.input_shape = (n, c, h, w)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved_tensors
        return _to_argmax(grad_values, indices, ctx.input_shape), None, None, None, None, None, None


@functools.lru_cache(maxsize=64)
def _window_index(w, kernel, stride, padding, dilation, out_size, device):
    """Local argmax -> flat index into the unpadded H x W input: (offsets (kH kW,), corners (H_out, W_out)).

    The index is the window's top-left corner plus the offset of the winning
    tap inside the window. Cached: a network pools the same shapes every step.
    """
    a = torch.arange(kernel[0], device=device).view(-1, 1) * dilation[0]
    b = torch.arange(kernel[1], device=device).view(1, -1) * dilation[1]
    top = torch.arange(out_size[0], device=device).view(-1, 1) * stride[0] - padding[0]
    left = torch.arange(out_size[1], device=device).view(1, -1) * stride[1] - padding[1]
    return (a * w + b).flatten(), top * w + left


class _WindowSum(torch.autograd.Function):
    """The sum of each window, one addition per kernel tap; the backward adds back through the same views."""

    @staticmethod
    def forward(ctx, x, kernel, stride, out_size):
        views = taps(x, kernel, stride, (1, 1), out_size)
        sums = next(views).clone()
        for view in views:
            sums += view
        ctx.geometry = x.shape, kernel, stride, out_size
        return sums

    @staticmethod
    def backward(ctx, grad):
        shape, kernel, stride, out_size = ctx.geometry
        grad_x = grad.new_zeros(shape)
        for view in taps(grad_x, kernel, stride, (1, 1), out_size):
            view += grad
        return grad_x, None, None, None


def max_pool2d_backward(grad_output, indices, input_shape):
    """Gradient of max pooling: each output's gradient goes to the input position it came from.

    ``indices`` are the flat H x W positions :func:`max_pool2d` returned; windows
    that overlap may send several gradients to one input, which are summed.
    """
    n, c, h, w = input_shape
    if indices.shape != grad_output.shape:
        raise ValueError(
            f"max_pool2d_backward: indices {tuple(indices.shape)} must match grad_output "
            f"{tuple(grad_output.shape)}: pass the indices of the same max_pool2d call"
        )
    if indices.numel() and (indices.min() < 0 or indices.max() >= h * w):
        raise ValueError(
            f"max_pool2d_backward: indices range over [{int(indices.min())}, {int(indices.max())}], "
            f"outside an input of {h} x {w}: they come from a different pooling call"
        )
    return _to_argmax(grad_output, indices, input_shape)


def _to_argmax(grad_output, indices, input_shape):
    """max_pool2d_backward without the checks, for indices this module computed."""
    n, c, h, w = input_shape
    grad = grad_output.new_zeros(n, c, h * w)
    grad.scatter_add_(2, indices.reshape(n, c, -1), grad_output.reshape(n, c, -1))
    return grad.view(n, c, h, w)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2D max pooling, like ``F.max_pool2d``: (N, C, H, W) -> (N, C, H_out, W_out).

    With ``return_indices`` also returns, for each output, the flat index into
    the input's H x W plane of the maximum (what :func:`max_unpool2d` needs).
    """
    x, unbatched = _batched("max_pool2d", input)
    kernel, stride, padding, dilation, out_size, extra = _pool_geometry(
        "max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode
    )
    if return_indices or (torch.is_grad_enabled() and x.requires_grad):
        values, indices = _MaxPool2d.apply(x, kernel, stride, padding, dilation, extra, out_size)
    else:  # inference: no argmax to remember
        padded = _padded(x, padding, extra, float("-inf"))
        values, indices = _window_max(padded, kernel, stride, dilation, out_size, with_indices=False)
    if unbatched:
        values, indices = values[0], None if indices is None else indices[0]
    return (values, indices) if return_indices else values


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """2D average pooling, like ``F.avg_pool2d``: (N, C, H, W) -> (N, C, H_out, W_out)."""
    x, unbatched = _batched("avg_pool2d", input)
    kernel, stride, padding, _, out_size, extra = _pool_geometry(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode
    )
    sums = _WindowSum.apply(_padded(x, padding, extra), kernel, stride, out_size)
    (ph, pw), (eh, ew) = padding, extra
    if divisor_override is not None:
        out = sums / divisor_override
    elif not (eh or ew) and (count_include_pad or not (ph or pw)):
        out = sums / (kernel[0] * kernel[1])  # every window counts all its cells
    else:
        # Count what each window covers: the input, plus the zero padding if asked,
        # never the extra cells that ceil_mode hangs over the edge.
        ones = x.new_ones(1, 1, *x.shape[-2:])
        counted = F.pad(ones, (pw, pw, ph, ph), value=1.0 if count_include_pad else 0.0)
        counts = _WindowSum.apply(F.pad(counted, (0, ew, 0, eh)), kernel, stride, out_size)
        out = sums / counts
    return out[0] if unbatched else out


def _as_1d(fn, pool, input, kernel_size, stride, padding, **kwargs):
    """Run a 2D pooling on (N, C, L) viewed as (N, C, 1, L)."""
    check_tensor(fn, "input", input, 3, "(N, C, L)")
    kernel = (1, pair(fn, "kernel_size", kernel_size, n=1)[0])
    stride = None if stride is None else (1, pair(fn, "stride", stride, n=1)[0])
    padding = (0, pair(fn, "padding", padding, minimum=0, n=1)[0])
    out = pool(input.unsqueeze(2), kernel, stride, padding, **kwargs)
    return tuple(o.squeeze(2) for o in out) if isinstance(out, tuple) else out.squeeze(2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1D max pooling, like ``F.max_pool1d``: (N, C, L) -> (N, C, L_out)."""
    return _as_1d("max_pool1d", max_pool2d, input, kernel_size, stride, padding,
                  dilation=(1, dilation), ceil_mode=ceil_mode, return_indices=return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1D average pooling, like ``F.avg_pool1d``: (N, C, L) -> (N, C, L_out)."""
    return _as_1d("avg_pool1d", avg_pool2d, input, kernel_size, stride, padding,
                  ceil_mode=ceil_mode, count_include_pad=count_include_pad)


def _bins(size, bins):
    """Adaptive pooling's bins along one axis: [floor(i n / b), ceil((i + 1) n / b))."""
    return [(i * size // bins, -(-(i + 1) * size // bins)) for i in range(bins)]


def _adaptive(fn, reduce, input, output_size):
    x, unbatched = _batched(fn, input)
    out_h, out_w = pair(fn, "output_size", output_size)
    h, w = x.shape[-2:]
    rows = [torch.stack([reduce(x[..., r0:r1, c0:c1]) for c0, c1 in _bins(w, out_w)], -1) for r0, r1 in _bins(h, out_h)]
    out = torch.stack(rows, -2)
    return out[0] if unbatched else out


def adaptive_avg_pool2d(input, output_size):
    """Average over a fixed grid of bins, whatever the input size (``F.adaptive_avg_pool2d``)."""
    return _adaptive("adaptive_avg_pool2d", lambda r: r.mean(dim=(-2, -1)), input, output_size)


def adaptive_max_pool2d(input, output_size):
    """Maximum over a fixed grid of bins, whatever the input size (``F.adaptive_max_pool2d``)."""
    return _adaptive("adaptive_max_pool2d", lambda r: r.amax(dim=(-2, -1)), input, output_size)


def global_avg_pool2d(input):
    """Mean of each feature map: (N, C, H, W) -> (N, C, 1, 1), as in GoogLeNet and ResNet."""
    check_tensor("global_avg_pool2d", "input", input, 4, "(N, C, H, W)")
    return input.mean(dim=(-2, -1), keepdim=True)


def spatial_pyramid_pool(input, levels=(1, 2, 4), mode="max"):
    """SPP-net's layer (He et al., 2014): a fixed-length vector from any input size.

    Each level ``l`` pools the map into an l x l grid of bins; the results of
    all levels are flattened and concatenated: (N, C, H, W) -> (N, C * sum(l^2)).
    """
    check_tensor("spatial_pyramid_pool", "input", input, 4, "(N, C, H, W)")
    if mode not in ("max", "avg"):
        raise ValueError(f"spatial_pyramid_pool: mode must be 'max' or 'avg'; got {mode!r}")
    if not levels or any(not isinstance(l, int) or l < 1 for l in levels):
        raise ValueError(f"spatial_pyramid_pool: levels must be positive ints; got {levels!r}")
    too_big = [l for l in levels if l > min(input.shape[-2:])]
    if too_big:
        raise ValueError(f"spatial_pyramid_pool: levels {too_big} have more bins than the input {tuple(input.shape[-2:])} has pixels")
    pool = adaptive_max_pool2d if mode == "max" else adaptive_avg_pool2d
    return torch.cat([pool(input, level).flatten(1) for level in levels], dim=1)


def cross_channel_max_pool(input, group_size):
    """Max over groups of ``group_size`` consecutive channels ("maxout"; Goodfellow et al., 2013).

    (N, C, H, W) -> (N, C / group_size, H, W). Pooling across filters rather than
    positions buys invariance to whatever distinguishes the filters of a group,
    e.g. the same edge at several orientations.
    """
    check_tensor("cross_channel_max_pool", "input", input, 4, "(N, C, H, W)")
    n, c, h, w = input.shape
    if not isinstance(group_size, int) or group_size < 1 or c % group_size:
        raise ValueError(f"cross_channel_max_pool: group_size must divide the {c} channels; got {group_size!r}")
    return input.view(n, c // group_size, group_size, h, w).amax(dim=2)


class MaxPool2d(nn.MaxPool2d):
    """``nn.MaxPool2d`` computed by :func:`max_pool2d`."""

    def forward(self, input):
        if torch_kernels():
            return super().forward(input)
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool2d(nn.AvgPool2d):
    """``nn.AvgPool2d`` computed by :func:`avg_pool2d`."""

    def forward(self, input):
        if torch_kernels():
            return super().forward(input)
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)


class SpatialPyramidPool(nn.Module):
    """Module form of :func:`spatial_pyramid_pool`."""

    def __init__(self, levels=(1, 2, 4), mode="max"):
        super().__init__()
        self.levels, self.mode = tuple(levels), mode

    def forward(self, input):
        return spatial_pyramid_pool(input, self.levels, self.mode)

    def extra_repr(self):
        return f"levels={self.levels}, mode={self.mode!r}"
