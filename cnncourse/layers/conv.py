"""2D (and 1D) convolution from scratch, twice.

Both versions share ``torch.nn.functional.conv2d``'s signature and semantics
(stride, padding as int/tuple/'valid'/'same', dilation, groups, bias):

* :func:`conv2d_loops` slides the filters over the input one output position at
  a time: slow, but it is the definition (LeCun et al., 1998).
* :func:`conv2d` is the im2col formulation (Chellapilla et al., 2006): lay
  every receptive field out as a column, then one matrix multiplication.

Like every deep-learning library, "convolution" here is cross-correlation: the
kernel is not flipped (see the chapter for the difference).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers._args import check_tensor, pair, prepare_conv
from cnncourse.layers.depthwise import depthwise
from cnncourse.layers.im2col import windows
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

    Shapes: ``input`` (N, C_in, H, W), ``weight`` (C_out, C_in/groups, kH, kW),
    ``bias`` (C_out,) -> (N, C_out, H_out, W_out), where
    ``H_out = (H + pad_top + pad_bottom - dilation * (kH - 1) - 1) // stride + 1``.
    """
    x, stride, dilation, (h_out, w_out) = prepare_conv(
        "conv2d", input, weight, bias, stride, padding, dilation, groups
    )
    n = x.shape[0]
    c_out, c_per_group, kh, kw = weight.shape
    if c_per_group == 1 and groups > 1:  # depthwise: a sum over the taps, no columns
        out = depthwise(x, weight, stride, dilation, (h_out, w_out))
    elif (kh, kw) == (1, 1) and groups == 1:
        # A 1x1 convolution's receptive fields are single pixels: the input is
        # already the column matrix, and the layer one matrix product per image.
        x = x[:, :, :: stride[0], :: stride[1]].reshape(n, x.shape[1], h_out * w_out)
        # (torch.matmul would broadcast the weight too, but it picks a slower
        # path when the weight requires grad, as a model's parameters do.)
        out = torch.bmm(weight.view(1, c_out, c_per_group).expand(n, -1, -1), x)  # (N, C_out, H_out * W_out)
    else:
        out = _im2col_conv(x, weight, stride, dilation, (h_out, w_out), groups)
    out = out.view(n, c_out, h_out, w_out)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def _im2col_conv(x, weight, stride, dilation, out_size, groups):
    """The im2col product on a padded input: (N, C_out, H_out * W_out).

    One column per receptive field. For a 3x3 kernel the columns hold nine
    copies of every pixel, so we build them for a band of output rows at a
    time: each band's matrix stays small enough for the CPU's cache. A matrix
    product is fast when its matrices are wide, so on small maps (late layers,
    7x7 or 14x14) the columns of all images go side by side into one product
    per band; on large maps each image's band is wide enough on its own.
    """
    n, c_in = x.shape[:2]
    (h_out, w_out), (sh, _), (dh, _) = out_size, stride, dilation
    c_out, c_per_group, kh, kw = weight.shape
    k = c_per_group * kh * kw  # the length of one column: a receptive field in one group
    filters = weight.reshape(groups, c_out // groups, k)
    together = h_out * w_out <= SMALL_MAP
    out = x.new_empty(n, groups, c_out // groups, h_out * w_out)
    rows = max(1, BAND_BYTES // (n * c_in * kh * kw * w_out * x.element_size()))
    for top in range(0, h_out, rows):
        bottom = min(top + rows, h_out)
        band = x[:, :, top * sh : (bottom - 1) * sh + dh * (kh - 1) + 1]
        fields = windows(band, (kh, kw), stride, dilation)  # (N, C_in, rows, W_out, kH, kW), a view
        if together:  # the copy: (groups, K, N * rows * W_out)
            cols = fields.permute(1, 4, 5, 0, 2, 3).reshape(groups, k, -1)
            product = torch.bmm(filters, cols).view(groups, c_out // groups, n, -1).permute(2, 0, 1, 3)
        else:  # the copy: (N groups, K, rows * W_out)
            cols = fields.permute(0, 1, 4, 5, 2, 3).reshape(n * groups, k, -1)
            product = torch.bmm(filters.expand(n, -1, -1, -1).flatten(0, 1), cols)
            product = product.view(n, groups, c_out // groups, -1)
        out[..., top * w_out : bottom * w_out] = product
    return out.view(n, c_out, h_out * w_out)


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
