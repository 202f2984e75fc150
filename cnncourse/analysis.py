"""Shape, size and cost arithmetic for CNNs.

* :func:`conv_output_size`: the output-size formula for convolution and pooling;
* :func:`receptive_field`: receptive field size and jump (effective stride) per layer;
* :func:`count_params` and :func:`count_macs`: what a model stores and computes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Output size of a convolution or pooling along one or more dimensions.

    ``out = floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1``.
    Every argument is an int or a tuple (one entry per dimension); ``padding``
    may also be ``'valid'`` (0) or ``'same'`` (output = input, stride 1 only).

    >>> conv_output_size(224, 7, stride=2, padding=3)
    112
    >>> conv_output_size((32, 32), 5)
    (28, 28)
    """
    scalar = isinstance(size, int)
    sizes = (size,) if scalar else tuple(size)
    n = len(sizes)

    def per_dim(name, value):
        values = (value,) * n if isinstance(value, int) else tuple(value)
        if len(values) != n:
            raise ValueError(f"conv_output_size: {name} has {len(values)} entries for {n} dims: {value!r}")
        return values

    kernel, strides, dilations = per_dim("kernel_size", kernel_size), per_dim("stride", stride), per_dim("dilation", dilation)
    if any(s < 1 for s in strides) or any(d < 1 for d in dilations) or any(k < 1 for k in kernel):
        raise ValueError(
            f"conv_output_size: kernel_size, stride and dilation must be positive; "
            f"got kernel_size={kernel_size!r}, stride={stride!r}, dilation={dilation!r}"
        )
    if padding == "same":
        if any(s != 1 for s in strides):
            raise ValueError(f"conv_output_size: padding='same' needs stride 1; got stride={stride!r}")
        return size
    pads = per_dim("padding", 0 if padding == "valid" else padding)
    out = []
    for s, k, st, p, d in zip(sizes, kernel, strides, pads, dilations):
        reach = d * (k - 1) + 1
        if reach > s + 2 * p:
            raise ValueError(
                f"conv_output_size: kernel {k} (dilation {d}) spans {reach} > padded input {s + 2 * p}"
            )
        out.append((s + 2 * p - reach) // st + 1)
    return out[0] if scalar else tuple(out)


def receptive_field(layers: Iterable[Sequence[int]]) -> list[tuple[int, int]]:
    """Receptive field size and jump after each layer of a stack.

    ``layers`` is a sequence of ``(kernel_size, stride)`` or
    ``(kernel_size, stride, dilation)``. Returns ``[(rf, jump), ...]``, where
    ``rf`` is how many input pixels (along one axis) one output unit sees and
    ``jump`` is how far apart in the input two neighbouring units are:
    ``rf_l = rf_{l-1} + dilation * (k - 1) * jump_{l-1}``, ``jump_l = jump_{l-1} * stride``.

    >>> receptive_field([(3, 1)] * 3)   # three stacked 3x3 convolutions see 7x7
    [(3, 1), (5, 1), (7, 1)]
    """
    rf, jump, result = 1, 1, []
    for i, layer in enumerate(layers):
        k, s, d = (tuple(layer) + (1,))[:3]
        if k < 1 or s < 1 or d < 1:
            raise ValueError(f"receptive_field: layer {i} needs positive (kernel, stride, dilation); got {layer!r}")
        rf += d * (k - 1) * jump
        jump *= s
        result.append((rf, jump))
    return result


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (shared parameters counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def count_macs(model: nn.Module, input_size: Sequence[int], device=None) -> int:
    """Multiply-accumulates of one forward pass of a single example.

    ``input_size`` is the shape of one example without the batch, e.g.
    ``(3, 224, 224)``. Convolutions count ``C_out * H_out * W_out * (C_in / groups) * kH * kW``
    and linear layers ``out_features * in_features`` per input row; bias
    additions, activations and pooling are not counted (papers' convention).
    """
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, _CONV):
            per_output = module.in_channels // module.groups * int(torch.tensor(module.kernel_size).prod())
            total += output.numel() * per_output
        else:
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (*_CONV, nn.Linear))]
    try:
        if device is None:
            device = next(model.parameters(), torch.empty(0)).device
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_size, device=device))
        model.train(was_training)
    finally:
        for h in handles:
            h.remove()
    return total
