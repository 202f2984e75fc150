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

from cnncourse.layers._args import check_tensor, conv_padding, pair
from cnncourse.layers.im2col import im2col
from cnncourse.layers.kernels import torch_kernels

BAND_BYTES = 4 * 2**20  # size of the column matrix built at once (see conv2d)


def _prepare(fn, input, weight, bias, stride, padding, dilation, groups):
    """Check every argument; return the padded input and the normalised settings."""
    check_tensor(fn, "input", input, 4, "(N, C_in, H, W)")
    check_tensor(fn, "weight", weight, 4, "(C_out, C_in / groups, kH, kW)")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int; got {groups!r}")
    c_in, c_out = input.shape[1], weight.shape[0]
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{fn}: groups={groups} must divide both the input channels ({c_in}) "
            f"and the output channels ({c_out})"
        )
    if weight.shape[1] * groups != c_in:
        raise ValueError(
            f"{fn}: weight of shape {tuple(weight.shape)} with groups={groups} expects "
            f"{weight.shape[1] * groups} input channels; input of shape "
            f"{tuple(input.shape)} has {c_in}"
        )
    if bias is not None and (not isinstance(bias, torch.Tensor) or bias.shape != (c_out,)):
        got = tuple(bias.shape) if isinstance(bias, torch.Tensor) else type(bias).__name__
        raise ValueError(f"{fn}: bias must have shape ({c_out},) (one per filter); got {got}")
    kernel = tuple(weight.shape[2:])
    stride = pair(fn, "stride", stride)
    dilation = pair(fn, "dilation", dilation)
    pads = conv_padding(fn, padding, kernel, stride, dilation)
    padded = (input.shape[2] + pads[2] + pads[3], input.shape[3] + pads[0] + pads[1])
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if reach[0] > padded[0] or reach[1] > padded[1]:
        raise ValueError(
            f"{fn}: kernel {kernel} with dilation {dilation} spans {reach}, larger than "
            f"the padded input {padded} (input {tuple(input.shape[2:])}, padding {padding!r})"
        )
    out = tuple((p - r) // s + 1 for p, r, s in zip(padded, reach, stride))
    return F.pad(input, pads), stride, dilation, out


def conv2d_loops(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2D convolution by explicit loops over output channels and positions.

    For exposition on tiny inputs only. Shapes: ``input`` (N, C_in, H, W),
    ``weight`` (C_out, C_in/groups, kH, kW), ``bias`` (C_out,) -> (N, C_out, H_out, W_out).
    """
    x, (sh, sw), (dh, dw), (h_out, w_out) = _prepare(
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
    x, stride, dilation, (h_out, w_out) = _prepare(
        "conv2d", input, weight, bias, stride, padding, dilation, groups
    )
    n = x.shape[0]
    c_out, c_per_group, kh, kw = weight.shape
    filters = weight.reshape(groups, c_out // groups, c_per_group * kh * kw)
    # One column per receptive field. For a 3x3 kernel the columns hold nine
    # copies of every pixel, so we build them for a band of output rows at a
    # time: each band's matrix stays small enough to live in the CPU's cache.
    rows = max(1, BAND_BYTES // (n * x.shape[1] * kh * kw * w_out * x.element_size()))
    bands = []
    for top in range(0, h_out, rows):
        bottom = min(top + rows, h_out)
        band = x[:, :, top * stride[0] : (bottom - 1) * stride[0] + dilation[0] * (kh - 1) + 1]
        cols = im2col(band, (kh, kw), stride, dilation)  # (N, C_in * kH * kW, rows * W_out)
        cols = cols.view(n, groups, c_per_group * kh * kw, -1)
        bands.append(filters @ cols)  # (N, groups, C_out / groups, rows * W_out)
    out = torch.cat(bands, dim=-1)
    out = out.reshape(n, c_out, h_out, w_out)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


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
