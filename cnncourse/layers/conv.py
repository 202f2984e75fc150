"""2D (and 1D) convolution from scratch, twice.

Both versions share ``torch.nn.functional.conv2d``'s signature and semantics
(stride, padding as int/tuple/'valid'/'same', dilation, groups, bias):

* :func:`conv2d_loops` slides the filters over the input one output position at
  a time: slow, but it is the definition (LeCun et al., 1998).
* :func:`conv2d` is the im2col formulation (Chellapilla et al., 2006): lay
  every receptive field out as a column, then one matrix multiplication.
  Two shapes get their own: a 1x1 convolution needs no columns (the input is
  already the matrix), and a depthwise one (``groups`` = input channels) is
  a sum over the kernel's taps (:mod:`cnncourse.layers.depthwise`).

Like every deep-learning library, "convolution" here is cross-correlation: the
kernel is not flipped (see the chapter for the difference).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers._args import check_tensor, pair, prepare_conv
from cnncourse.layers.depthwise import depthwise
from cnncourse.layers.im2col import taps, windows
from cnncourse.layers.kernels import torch_kernels

BAND_BYTES = 4 * 2**20  # size of the column matrix built at once (see conv2d)
SMALL_MAP = 28 * 28  # output positions up to which all images share one matrix product


def conv2d_loops(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2D convolution by explicit loops over output channels and positions.

    For exposition on tiny inputs only. Shapes: ``input`` (N, C_in, H, W),
    ``weight`` (C_out, C_in/groups, kH, kW), ``bias`` (C_out,) -> (N, C_out, H_out, W_out).
    """
    x, (sh, sw), (dh, dw), (h_out, w_out) = prepare_conv(
        "conv2d_loops", input, weight, bias, stride, padding, dilation, groups
    )
    c_out, c_per_group, kh, kw = weight.shape
    out_per_group = c_out // groups
    rows = []
    for i in range(h_out):
        cols = []
        for j in range(w_out):
            # The receptive field of output (i, j): (N, C_in, kH, kW).
            patch = x[:, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw]
            values = []
            for o in range(c_out):
                g = o // out_per_group  # the group of input channels filter o sees
                seen = patch[:, g * c_per_group : (g + 1) * c_per_group]
                values.append((seen * weight[o]).sum(dim=(1, 2, 3)))  # (N,)
            cols.append(torch.stack(values, dim=1))  # (N, C_out)
        rows.append(torch.stack(cols, dim=2))  # (N, C_out, W_out)
    out = torch.stack(rows, dim=2)  # (N, C_out, H_out, W_out)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2D convolution as im2col: receptive fields as columns, then a matrix product.

    1x1 kernels skip the columns, depthwise layers go to
    :func:`~cnncourse.layers.depthwise.depthwise` (the module docstring).

    Shapes: ``input`` (N, C_in, H, W), ``weight`` (C_out, C_in/groups, kH, kW),
    ``bias`` (C_out,) -> (N, C_out, H_out, W_out), where
    ``H_out = (H + pad_top + pad_bottom - dilation * (kH - 1) - 1) // stride + 1``.
    """
    x, stride, dilation, (h_out, w_out), pads = prepare_conv(
        "conv2d", input, weight, bias, stride, padding, dilation, groups, pad=False
    )
    n = x.shape[0]
    c_out, c_per_group, kh, kw = weight.shape
    if c_per_group == 1 and groups > 1:  # depthwise: a sum over the taps, no columns
        return _biased(depthwise(x, weight, stride, pads, dilation, (h_out, w_out)), bias)
    x = F.pad(x, pads)
    if (kh, kw) == (1, 1) and groups == 1:
        # A 1x1 convolution's receptive fields are single pixels: the input is
        # already the column matrix, and the layer one matrix product per image.
        x = x[:, :, :: stride[0], :: stride[1]].reshape(n, x.shape[1], h_out * w_out)
        # (torch.matmul would broadcast the weight too, but it picks a slower
        # path when the weight requires grad, as a model's parameters do.)
        out = torch.bmm(weight.view(1, c_out, c_per_group).expand(n, -1, -1), x)  # (N, C_out, H_out * W_out)
    else:
        out = _Im2colConv.apply(x, weight, stride, dilation, (h_out, w_out), groups)
    return _biased(out.view(n, c_out, h_out, w_out), bias)


def _biased(out, bias):
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def _bands(x, weight, stride, dilation, out_size):
    """Bands of output rows whose columns fill about BAND_BYTES: (top, bottom, the input rows they read)."""
    n, c_in = x.shape[:2]
    (h_out, w_out), (sh, _), (dh, _), (kh, kw) = out_size, stride, dilation, weight.shape[2:]
    rows = max(1, BAND_BYTES // (n * c_in * kh * kw * w_out * x.element_size()))
    for top in range(0, h_out, rows):
        bottom = min(top + rows, h_out)
        yield top, bottom, slice(top * sh, (bottom - 1) * sh + dh * (kh - 1) + 1)


def _columns(band, weight, stride, dilation, groups, together):
    """im2col of one band: (groups, K, N * rows * W_out) together, else (N groups, K, rows * W_out)."""
    fields = windows(band, tuple(weight.shape[2:]), stride, dilation)  # (N, C_in, rows, W_out, kH, kW), a view
    k = weight[0].numel()  # the length of one column: a receptive field in one group
    if together:
        return fields.permute(1, 4, 5, 0, 2, 3).reshape(groups, k, -1)  # the copy
    return fields.permute(0, 1, 4, 5, 2, 3).reshape(band.shape[0] * groups, k, -1)  # the copy


class _Im2colConv(torch.autograd.Function):
    """im2col convolution of a padded input, (N, C_out, H_out * W_out), band by band.

    One column per receptive field. For a 3x3 kernel the columns hold nine
    copies of every pixel, so we build them for a band of output rows at a
    time: each band's matrix stays small enough for the CPU's cache. A matrix
    product is fast when its matrices are wide, so on small maps (late layers,
    7x7 or 14x14) the columns of all images go side by side into one product
    per band; on large maps each image's band is wide enough on its own. (So
    are a few filters on a small map: side by side pays a second copy, of the
    output, which only many filters or many groups repay.)

    The backward runs band by band too (autograd through the bands would give
    every band a gradient the size of the whole input): the weights' gradient
    is ``grad @ columns^T``, the columns' gradient ``filters^T @ grad``, and
    each kernel tap adds its share of that back onto the input pixels it read
    (col2im, the transpose of im2col).
    """

    @staticmethod
    def forward(ctx, x, weight, stride, dilation, out_size, groups):
        n, c_out = x.shape[0], weight.shape[0]
        w_out, m = out_size[1], c_out // groups
        filters = weight.reshape(groups, m, -1)  # (groups, C_out / groups, K)
        together = out_size[0] * w_out <= SMALL_MAP and (groups > 1 or c_out >= 128)
        out = x.new_empty(n, groups, m, out_size[0] * w_out)
        for top, bottom, rows in _bands(x, weight, stride, dilation, out_size):
            cols = _columns(x[:, :, rows], weight, stride, dilation, groups, together)
            if together:
                product = torch.bmm(filters, cols).view(groups, m, n, -1).permute(2, 0, 1, 3)
            else:
                product = torch.bmm(filters.expand(n, -1, -1, -1).flatten(0, 1), cols).view(n, groups, m, -1)
            out[..., top * w_out : bottom * w_out] = product
        ctx.save_for_backward(x, weight)
        ctx.geometry = stride, dilation, out_size, groups, together
        return out.view(n, c_out, -1)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        stride, dilation, out_size, groups, together = ctx.geometry
        n, c_in = x.shape[:2]
        (kh, kw), w_out = weight.shape[2:], out_size[1]
        filters = weight.reshape(groups, weight.shape[0] // groups, -1)
        grad = grad.reshape(n, groups, filters.shape[1], -1)  # (N, groups, C_out / groups, H_out W_out)
        grad_x = torch.zeros_like(x) if ctx.needs_input_grad[0] else None
        grad_w = torch.zeros_like(filters) if ctx.needs_input_grad[1] else None
        for top, bottom, rows in _bands(x, weight, stride, dilation, out_size):
            g = grad[..., top * w_out : bottom * w_out]
            if together:  # (groups, C_out / groups, N rows W_out), matching the columns
                g = g.permute(1, 2, 0, 3).reshape(groups, filters.shape[1], -1)
                f = filters
            else:  # (N groups, C_out / groups, rows W_out)
                g = g.reshape(n * groups, filters.shape[1], -1)
                f = filters.expand(n, -1, -1, -1).flatten(0, 1)
            if grad_w is not None:
                cols = _columns(x[:, :, rows], weight, stride, dilation, groups, together)
                product = torch.bmm(g, cols.transpose(1, 2))
                grad_w += product if together else product.view(n, *filters.shape).sum(0)
            if grad_x is not None:
                grad_cols = torch.bmm(f.transpose(1, 2), g)  # (.., K, ..): the columns' gradient
                if together:  # (C_in, kH, kW, N, rows, W_out) -> (N, C_in, kH, kW, rows, W_out)
                    grad_cols = grad_cols.view(c_in, kh, kw, n, bottom - top, w_out).permute(3, 0, 1, 2, 4, 5)
                else:
                    grad_cols = grad_cols.view(n, c_in, kh, kw, bottom - top, w_out)
                views = taps(grad_x[:, :, rows], (kh, kw), stride, dilation, (bottom - top, w_out))
                for t, view in enumerate(views):  # col2im: each tap's gradient back onto its pixels
                    view += grad_cols[:, :, t // kw, t % kw]
        return grad_x, None if grad_w is None else grad_w.view_as(weight), None, None, None, None


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1D convolution, as :func:`conv2d` on a height-1 image.

    Shapes: ``input`` (N, C_in, L), ``weight`` (C_out, C_in/groups, K) -> (N, C_out, L_out).
    """
    check_tensor("conv1d", "input", input, 3, "(N, C_in, L)")
    check_tensor("conv1d", "weight", weight, 3, "(C_out, C_in / groups, K)")
    if not isinstance(padding, str):
        padding = (0, pair("conv1d", "padding", padding, minimum=0, n=1)[0])
    stride = (1, pair("conv1d", "stride", stride, n=1)[0])
    dilation = (1, pair("conv1d", "dilation", dilation, n=1)[0])
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, stride, padding, dilation, groups)
    return out.squeeze(2)


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` computed by :func:`conv2d`; same parameters and state_dict."""

    def _conv_forward(self, input, weight, bias):
        if torch_kernels():
            return super()._conv_forward(input, weight, bias)
        if self.padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: only padding_mode='zeros'; got {self.padding_mode!r}")
        return conv2d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(nn.Conv1d):
    """``nn.Conv1d`` computed by :func:`conv1d`; same parameters and state_dict."""

    def _conv_forward(self, input, weight, bias):
        if torch_kernels():
            return super()._conv_forward(input, weight, bias)
        if self.padding_mode != "zeros":
            raise NotImplementedError(f"Conv1d: only padding_mode='zeros'; got {self.padding_mode!r}")
        return conv1d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)
