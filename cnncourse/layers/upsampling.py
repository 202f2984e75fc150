"""Undoing pooling and convolution: the upsampling layers of decoders.

* :func:`upsample_nearest`: copy each value into an s x s block;
* :func:`bed_of_nails`: put each value in the top-left corner of its block, zeros elsewhere;
* :func:`max_unpool2d`: put each value back where the max came from (SegNet; Zeiler & Fergus' DeconvNet);
* :func:`upsample_bilinear`: interpolate linearly in both directions (like ``F.interpolate``);
* :func:`conv_transpose2d`: the transposed convolution, from scratch;
* :func:`conv_matrix`: a convolution as the matrix W with conv(x) = W @ x, so that the
  transposed convolution is W.T @ y;
* :func:`bilinear_kernel` and :func:`bilinear_transposed_conv`: the transposed
  convolution that starts out as bilinear upsampling (FCN's initialisation).
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers._args import check_tensor, pair
from cnncourse.layers.conv import conv2d
from cnncourse.layers.kernels import torch_kernels


def upsample_nearest(input, scale_factor=2):
    """Nearest-neighbour upsampling by an integer factor: (N, C, H, W) -> (N, C, sH, sW)."""
    check_tensor("upsample_nearest", "input", input, 4, "(N, C, H, W)")
    sh, sw = pair("upsample_nearest", "scale_factor", scale_factor)
    return input.repeat_interleave(sh, dim=2).repeat_interleave(sw, dim=3)


def bed_of_nails(input, scale_factor=2):
    """"Bed of nails" upsampling: each value at the top-left of its s x s block, zeros elsewhere."""
    check_tensor("bed_of_nails", "input", input, 4, "(N, C, H, W)")
    sh, sw = pair("bed_of_nails", "scale_factor", scale_factor)
    n, c, h, w = input.shape
    out = input.new_zeros(n, c, h, sh, w, sw)
    out[:, :, :, 0, :, 0] = input
    return out.view(n, c, h * sh, w * sw)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max pooling, like ``F.max_unpool2d``: values go back to their argmax.

    ``indices`` are the flat H x W positions returned by ``max_pool2d(...,
    return_indices=True)``; every other output is zero.
    """
    check_tensor("max_unpool2d", "input", input, 4, "(N, C, H, W)")
    if not isinstance(indices, torch.Tensor) or indices.shape != input.shape:
        got = tuple(indices.shape) if isinstance(indices, torch.Tensor) else type(indices).__name__
        raise ValueError(f"max_unpool2d: indices must have the input's shape {tuple(input.shape)}; got {got}")
    kernel = pair("max_unpool2d", "kernel_size", kernel_size)
    stride = kernel if stride is None else pair("max_unpool2d", "stride", stride)
    padding = pair("max_unpool2d", "padding", padding, minimum=0)
    if output_size is None:
        out_h, out_w = ((n - 1) * s - 2 * p + k for n, s, p, k in zip(input.shape[-2:], stride, padding, kernel))
    else:
        out_h, out_w = tuple(output_size)[-2:]
    n, c = input.shape[:2]
    checkable = indices.numel() and indices.device.type != "meta"  # meta tensors (shape-only passes) hold no values
    if checkable and (indices.min() < 0 or indices.max() >= out_h * out_w):
        raise ValueError(
            f"max_unpool2d: indices reach {int(indices.max())}, outside the {out_h} x {out_w} output: "
            f"they come from a different pooling call, or output_size is wrong"
        )
    out = input.new_zeros(n, c, out_h * out_w)
    out = out.scatter(2, indices.reshape(n, c, -1), input.reshape(n, c, -1))
    return out.view(n, c, out_h, out_w)


def upsample_bilinear(input, size=None, scale_factor=None, align_corners=False):
    """Bilinear interpolation, like ``F.interpolate(mode='bilinear')``: (N, C, H, W) -> (N, C, H', W')."""
    check_tensor("upsample_bilinear", "input", input, 4, "(N, C, H, W)")
    if (size is None) == (scale_factor is None):
        raise ValueError("upsample_bilinear: give exactly one of size and scale_factor")
    h, w = input.shape[-2:]
    if size is not None:
        out_h, out_w = pair("upsample_bilinear", "size", size)
        scales = (h / out_h, w / out_w)
    else:
        fh, fw = (scale_factor, scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        out_h, out_w = int(h * fh), int(w * fw)
        scales = (1 / fh, 1 / fw)

    def source(n_in, n_out, scale):
        """Where each output coordinate samples the input, and the two neighbours with weights."""
        i = torch.arange(n_out, dtype=input.dtype, device=input.device)
        if align_corners:
            pos = i * ((n_in - 1) / (n_out - 1)) if n_out > 1 else torch.zeros_like(i)
        else:
            pos = ((i + 0.5) * scale - 0.5).clamp(min=0)
        lo = pos.floor().long().clamp(max=n_in - 1)
        hi = (lo + 1).clamp(max=n_in - 1)
        return lo, hi, pos - lo

    r0, r1, wr = source(h, out_h, scales[0])
    c0, c1, wc = source(w, out_w, scales[1])
    top = input[:, :, r0] * (1 - wr).view(-1, 1) + input[:, :, r1] * wr.view(-1, 1)  # (N, C, H', W)
    return top[..., c0] * (1 - wc) + top[..., c1] * wc


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution, like ``F.conv_transpose2d``.

    Shapes: ``input`` (N, C_in, H, W), ``weight`` (C_in, C_out / groups, kH, kW)
    -> (N, C_out, H_out, W_out), ``H_out = (H - 1) s - 2 p + d (kH - 1) + output_padding + 1``.
    Each input pixel stamps a copy of the kernel, scaled by its value, onto
    the output, and overlapping stamps add up: the gradient of conv2d with
    respect to its input.
    """
    fn = "conv_transpose2d"
    check_tensor(fn, "input", input, 4, "(N, C_in, H, W)")
    check_tensor(fn, "weight", weight, 4, "(C_in, C_out / groups, kH, kW)")
    n, c_in, h, w = input.shape
    if not isinstance(groups, int) or groups < 1 or c_in % groups:
        raise ValueError(f"{fn}: groups must be a positive int dividing the {c_in} input channels; got {groups!r}")
    if weight.shape[0] != c_in:
        raise ValueError(f"{fn}: weight of shape {tuple(weight.shape)} expects {weight.shape[0]} input channels; input of shape {tuple(input.shape)} has {c_in}")
    c_out = weight.shape[1] * groups
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(f"{fn}: bias must have shape ({c_out},); got {tuple(bias.shape)}")
    (sh, sw), (dh, dw) = pair(fn, "stride", stride), pair(fn, "dilation", dilation)
    (ph, pw), (oh, ow) = pair(fn, "padding", padding, minimum=0), pair(fn, "output_padding", output_padding, minimum=0)
    if oh >= max(sh, dh) or ow >= max(sw, dw):
        raise ValueError(f"{fn}: output_padding {(oh, ow)} must be smaller than the stride {(sh, sw)} or the dilation {(dh, dw)}")
    kh, kw = weight.shape[2:]
    full_h, full_w = (h - 1) * sh + dh * (kh - 1) + 1 + oh, (w - 1) * sw + dw * (kw - 1) + 1 + ow
    out_h, out_w = full_h - 2 * ph, full_w - 2 * pw
    if out_h < 1 or out_w < 1:
        raise ValueError(f"{fn}: padding {(ph, pw)} leaves no output from a {(full_h, full_w)} result")
    # stamps[n, g, o, a, b, i, j] = sum_c x[n, g, c, i, j] * weight[g, c, o, a, b]
    x = input.reshape(n, groups, c_in // groups, h, w)
    wg = weight.reshape(groups, c_in // groups, c_out // groups, kh, kw)
    stamps = torch.einsum("ngchw,gcoab->ngoabhw", x, wg).reshape(n, c_out, kh, kw, h, w)
    out = input.new_zeros(n, c_out, full_h, full_w)
    for a in range(kh):
        for b in range(kw):
            # Kernel tap (a, b) of input pixel (i, j) lands on output (i s + a d, j s + b d).
            rows = slice(a * dh, a * dh + (h - 1) * sh + 1, sh)
            cols = slice(b * dw, b * dw + (w - 1) * sw + 1, sw)
            out[:, :, rows, cols] += stamps[:, :, a, b]
    out = out[:, :, ph : ph + out_h, pw : pw + out_w]
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def conv_matrix(weight, input_shape, stride=1, padding=0, dilation=1, groups=1, max_entries=2**24):
    """The matrix W of a convolution: ``conv2d(x).flatten() == W @ x.flatten()`` for one image.

    ``input_shape`` is (C_in, H, W); W has shape (C_out * H_out * W_out, C_in * H * W).
    Column k of W is the convolution of the k-th unit image, which makes the
    construction exact by definition. ``W.T @ y`` is then the transposed
    convolution of ``y``.
    """
    check_tensor("conv_matrix", "weight", weight, 4, "(C_out, C_in / groups, kH, kW)")
    shape = tuple(input_shape)
    if len(shape) != 3 or any(not isinstance(v, int) or v < 1 for v in shape):
        raise ValueError(f"conv_matrix: input_shape must be (C_in, H, W) of positive ints; got {input_shape!r}")
    if shape[0] != weight.shape[1] * groups:
        raise ValueError(
            f"conv_matrix: weight {tuple(weight.shape)} with groups={groups} expects "
            f"{weight.shape[1] * groups} input channels; input_shape {shape} has {shape[0]}"
        )
    n_in = shape[0] * shape[1] * shape[2]
    n_out = conv2d(weight.new_zeros(1, *shape), weight, None, stride, padding, dilation, groups).numel()  # checks the geometry
    if n_out * n_in > max_entries:
        raise ValueError(
            f"conv_matrix: input_shape {shape} needs a {n_out} x {n_in} matrix, more than "
            f"max_entries={max_entries}; use a smaller input"
        )
    basis = torch.eye(n_in, dtype=weight.dtype, device=weight.device).view(n_in, *shape)
    columns = conv2d(basis, weight, None, stride, padding, dilation, groups)  # (n_in, C_out, H_out, W_out)
    return columns.reshape(n_in, -1).T


def bilinear_kernel(channels, scale_factor):
    """The weight (C, C, k, k) of a transposed convolution that upsamples bilinearly by ``scale_factor``.

    Long et al. (2015) initialise FCN's upsampling layers this way and let
    training refine them. The kernel has size k = 2f - f % 2 for a factor f;
    each output channel copies its own input channel (a diagonal weight), and
    the k x k stamp is the outer product of the 1-D tent
    ``1 - |i - c| / f`` (c the stamp's centre). With stride f and padding
    ``(k - f) // 2`` (:func:`bilinear_transposed_conv`) the output equals
    ``F.interpolate(..., mode="bilinear", align_corners=False)`` away from the
    border.
    """
    if not isinstance(scale_factor, int) or scale_factor < 1:
        raise ValueError(f"bilinear_kernel: scale_factor must be a positive int; got {scale_factor!r}")
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"bilinear_kernel: channels must be a positive int; got {channels!r}")
    f = scale_factor
    k = 2 * f - f % 2
    centre = f - 1 if k % 2 == 1 else f - 0.5
    tent = 1 - (torch.arange(k, dtype=torch.float32) - centre).abs() / f
    weight = torch.zeros(channels, channels, k, k)
    weight[range(channels), range(channels)] = tent[:, None] * tent[None, :]
    return weight


def bilinear_transposed_conv(channels, scale_factor):
    """A :class:`ConvTranspose2d` initialised to bilinear upsampling by ``scale_factor`` (see :func:`bilinear_kernel`)."""
    weight = bilinear_kernel(channels, scale_factor)
    k = weight.shape[-1]
    layer = ConvTranspose2d(channels, channels, k, stride=scale_factor, padding=(k - scale_factor) // 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(weight)
    return layer


class ConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` computed by :func:`conv_transpose2d`; same parameters and state_dict."""

    def forward(self, input, output_size=None):
        if torch_kernels():
            return super().forward(input, output_size)
        if self.padding_mode != "zeros":
            raise NotImplementedError(f"ConvTranspose2d: only padding_mode='zeros'; got {self.padding_mode!r}")
        output_padding = self._output_padding(input, output_size, self.stride, self.padding, self.kernel_size, 2, self.dilation)
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation)
