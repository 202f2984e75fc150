"""Depthwise convolution as a sum over the kernel's taps, not as im2col.

A depthwise convolution (``groups`` = input channels; Howard et al., 2017)
filters each channel on its own: output channel ``c m + k`` is input channel
``c`` correlated with its own k x k kernel, for a channel multiplier ``m``
(``C_out = m C_in``). im2col serves it badly: it copies every pixel k^2
times to feed one tiny matrix product per channel. Turned inside out, the
same sums visit every *tap* (i, j) of the kernel once:

    out[:, c] = sum over taps (i, j) of  w[c, i, j] * x_tap(i, j)[:, c]

where ``x_tap(i, j)`` is the input under that tap at every output position,
with the output's shape. That is k^2 multiply-adds of whole maps by one
number per channel, and such a layer is bound by how fast those passes
stream through memory. :func:`depthwise_conv2d_loops` writes the definition
with a loop over channels; :func:`depthwise_conv2d` vectorises it over
channels and hand-writes its backward with the same views, in one of two ways:

* In general, ``x_tap(i, j)`` is a strided view of the zero-padded input
  (:func:`~cnncourse.layers.im2col.taps`).
* When the output has the input's size divided by the stride (``'same'``
  padding, as in MobileNet), nothing is padded: the input is split into its
  *phases* (the pixels ``x[a::s, b::s]``; at stride 1, the input itself),
  each of which has the output's grid, and a tap reads one phase shifted by
  whole rows and columns. Flattened, a shift is a contiguous run of values,
  and a run of a map with no padding would carry a row's last pixels into
  the next row's first: those wrapped columns, which the tap never reads
  legitimately, are zeroed in a copy of the phase, one copy per column
  shift (:func:`_sources`).
  Long contiguous runs are what the CPU's vector units stream fastest.

:func:`~cnncourse.layers.conv2d` calls it whenever ``groups`` equals the
input channels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from cnncourse.layers._args import prepare_conv
from cnncourse.layers.im2col import taps


def _prepare(fn, input, weight, bias, stride, padding, dilation):
    """conv2d's checks with groups = the input's channels; the input, settings, output size and padding."""
    c = input.shape[1] if isinstance(input, torch.Tensor) and input.dim() == 4 else 1
    return prepare_conv(fn, input, weight, bias, stride, padding, dilation, c, pad=False)


def depthwise_conv2d_loops(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise convolution by a loop over channels and kernel taps (for exposition).

    Shapes: ``input`` (N, C, H, W), ``weight`` (C m, 1, kH, kW), ``bias`` (C m,)
    -> (N, C m, H_out, W_out); equal to ``F.conv2d(..., groups=C)``.
    """
    x, stride, dilation, out_size, pads = _prepare("depthwise_conv2d_loops", input, weight, bias, stride,
                                                   padding, dilation)
    x, c, kernel = F.pad(x, pads), x.shape[1], tuple(weight.shape[2:])
    m = weight.shape[0] // c
    out = x.new_zeros(x.shape[0], weight.shape[0], *out_size)
    for o in range(weight.shape[0]):
        channel = x[:, o // m : o // m + 1]  # the one input channel filter o sees
        for t, view in enumerate(taps(channel, kernel, stride, dilation, out_size)):
            out[:, o] += weight[o, 0].flatten()[t] * view[:, 0]
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def grid_taps(size, kernel, stride, dilation, pads, out_size):
    """Each tap as (phase row a, phase column b, row shift, column shift), or None.

    None unless every phase of the input has the output's grid: each side a
    multiple of its stride, divided by it. Tap ``i`` along an axis reads
    input pixel ``s y + i d - p`` for output ``y``, which is pixel
    ``y + (i d - p) // s`` of phase ``(i d - p) % s``.
    """
    axes = []
    for n, k, s, d, p, o in zip(size, kernel, stride, dilation, pads[2::-2], out_size):
        if n % s or o != n // s:
            return None
        axes.append([((i * d - p) % s, (i * d - p) // s) for i in range(k)])
    return [(a, b, di, dj) for a, di in axes[0] for b, dj in axes[1]]


def _phases(x, stride):
    """(N, C, H, W) -> {(a, b): (N, C, H/sH * W/sW)}: the pixels x[:, :, a::sH, b::sW], flattened."""
    (sh, sw), (n, c, h, w) = stride, x.shape
    return {(a, b): x[:, :, a::sh, b::sw].reshape(n, c, (h // sh) * (w // sw))  # a copy, unless s = 1
            for a in range(sh) for b in range(sw)}


def _unwrap(flat, width, dj):
    """Zero, in place, the columns a shift of ``dj`` columns would carry across a row's end."""
    rows = flat.view(*flat.shape[:-1], -1, width)
    (rows[..., max(0, width + dj) :] if dj < 0 else rows[..., : min(dj, width)]).zero_()
    return flat


def _sources(phases, grid, width):
    """What each tap reads, by (a, b, dj): the phase, or for a column shift a copy whose
    wrapped columns are zeroed (:func:`_unwrap`)."""
    keys = dict.fromkeys((a, b, dj) for a, b, _, dj in grid)
    return {(a, b, dj): phases[a, b] if dj == 0 else _unwrap(phases[a, b].clone(), width, dj) for a, b, dj in keys}


def _run(di, dj, width, size):
    """A shift by di rows and dj columns of a flattened map of ``size`` values:
    (first, last, shift), output values first:last read source values first + shift:last + shift.
    Rows shifted in from beyond the map read nothing."""
    shift = di * width + dj
    first = max(max(0, -di) * width, -shift)
    return first, max(first, min(size - max(0, di) * width, size - shift)), shift


def _tap_sum(out, sources, grid, weights, width):
    """``out`` (N, C, H W) = the sum over taps (a, b, di, dj) of their weight times
    source (a, b, dj) shifted by di rows and dj columns (maps flattened, rows of ``width``)."""
    size, started = out.shape[2], False
    # An unshifted tap covers the whole map: it goes first and writes.
    for (a, b, di, dj), w in sorted(zip(grid, weights), key=lambda tap: tap[0][2:] != (0, 0)):
        first, last, shift = _run(di, dj, width, size)
        source = sources[a, b, dj][..., first + shift : last + shift]
        if not started and (first, last) == (0, size):
            torch.mul(source, w, out=out)
        else:
            if not started:
                out.zero_()
            out[..., first:last].addcmul_(source, w)
        started = True
    if not started:
        out.zero_()


class _Grid(torch.autograd.Function):
    """Depthwise convolution (multiplier 1) of an unpadded input on the output's grid (module docstring).

    The input's gradient is the same kind of sum: each phase of it gathers
    the taps that read that phase, shifted back, from the output's gradient.
    """

    @staticmethod
    def forward(ctx, x, weight, stride, grid, out_size):
        x = x.contiguous()
        n, c = x.shape[:2]
        phases = _phases(x, stride)
        out = x.new_empty(n, c, out_size[0] * out_size[1])
        _tap_sum(out, _sources(phases, grid, out_size[1]), grid, _per_tap(weight, 3), out_size[1])
        ctx.save_for_backward(weight, *phases.values())  # the phases hold x, rearranged
        ctx.geometry = x.shape, stride, grid, out_size, list(phases)
        return out.view(n, c, *out_size)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        weight, *saved = ctx.saved_tensors
        (n, c, h, w), stride, grid, (h_out, w_out), keys = ctx.geometry
        sh, sw = stride
        x_phases = dict(zip(keys, saved))
        grad = grad.reshape(n, c, h_out * w_out)
        grad_w = grad_x = None
        if ctx.needs_input_grad[1]:
            # The forward's zero-wrapped copies are made again: memory is kept for x alone.
            sources, grad_w = _sources(x_phases, grid, w_out), weight.new_empty(c, len(grid))
            for t, (a, b, di, dj) in enumerate(grid):
                first, last, shift = _run(di, dj, w_out, h_out * w_out)
                source = sources[a, b, dj][..., first + shift : last + shift]
                grad_w[:, t] = (grad[..., first:last] * source).sum((0, 2))
        if ctx.needs_input_grad[0]:
            w_taps, phases = _per_tap(weight, 3), grad.new_empty(n, c, sh, sw, h_out * w_out)
            back = [(0, 0, -di, -dj) for _, _, di, dj in grid]  # each tap, shifted back onto its phase
            sources = _sources({(0, 0): grad}, back, w_out)
            for a in range(sh):
                for b in range(sw):
                    reading = [t for t, tap in enumerate(grid) if tap[:2] == (a, b)]  # the taps on phase (a, b)
                    _tap_sum(phases[:, :, a, b], sources, [back[t] for t in reading], w_taps[reading], w_out)
            grad_x = phases.view(n, c, sh, sw, h_out, w_out).permute(0, 1, 4, 2, 5, 3).reshape(n, c, h, w)
        return grad_x, None if grad_w is None else grad_w.view_as(weight), None, None, None


class _Strided(torch.autograd.Function):
    """Depthwise convolution (multiplier 1) of an already padded input over strided views of its taps."""

    @staticmethod
    def forward(ctx, x, weight, stride, dilation, out_size):
        views = list(taps(x, tuple(weight.shape[2:]), stride, dilation, out_size))
        w = _per_tap(weight, 4)
        out = views[0] * w[0]
        for view, w_t in zip(views[1:], w[1:]):
            out.addcmul_(view, w_t)
        ctx.save_for_backward(x, weight)
        ctx.geometry = stride, dilation, out_size
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        stride, dilation, out_size = ctx.geometry
        kernel = tuple(weight.shape[2:])
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            # Each tap sent view * w forward, so it sends grad * w back to the same view.
            grad_x = torch.zeros_like(x)
            for view, w_t in zip(taps(grad_x, kernel, stride, dilation, out_size), _per_tap(weight, 4)):
                view.addcmul_(grad, w_t)
        if ctx.needs_input_grad[1]:
            views = taps(x, kernel, stride, dilation, out_size)
            grad_w = torch.stack([(grad * view).sum((0, 2, 3)) for view in views], -1).view_as(weight)
        return grad_x, grad_w, None, None, None


def _per_tap(weight, dim):
    """(C, 1, kH, kW) -> (taps, 1, C, 1, ...): each tap's weights, broadcast over a ``dim``-D map."""
    c = weight.shape[0]
    return weight.reshape(c, -1).t().contiguous().view(-1, 1, c, *[1] * (dim - 2))


def depthwise(x, weight, stride, pads, dilation, out_size):
    """The kernel behind :func:`depthwise_conv2d`, for callers that checked the arguments already.

    ``x`` is the unpadded input, ``pads`` the padding ``(left, right, top, bottom)``.
    """
    m = weight.shape[0] // x.shape[1]
    if m > 1:  # a channel multiplier: filter o reads input channel o // m
        x = x.repeat_interleave(m, dim=1)
    grid = grid_taps(x.shape[2:], weight.shape[2:], stride, dilation, pads, out_size)
    if grid is not None:
        return _Grid.apply(x, weight, stride, grid, out_size)
    return _Strided.apply(F.pad(x, pads), weight, stride, dilation, out_size)


def depthwise_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """Depthwise convolution as k^2 multiply-adds of shifted maps, with a hand-written backward.

    Shapes: ``input`` (N, C, H, W), ``weight`` (C m, 1, kH, kW), ``bias`` (C m,)
    -> (N, C m, H_out, W_out); equal to ``F.conv2d(..., groups=C)``.
    """
    x, stride, dilation, out_size, pads = _prepare("depthwise_conv2d", input, weight, bias, stride, padding,
                                                   dilation)
    out = depthwise(x, weight, stride, pads, dilation, out_size)
    return out if bias is None else out + bias.view(1, -1, 1, 1)
