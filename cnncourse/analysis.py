"""Shape, size and cost arithmetic for CNNs.

* :func:`conv_output_size`: the output-size formula for convolution and pooling;
* :func:`receptive_field`: receptive field size and jump (effective stride) per layer;
* :func:`count_params` and :func:`count_macs`: what a model stores and computes.
"""

from __future__ import annotations

import math
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
        rf, jump = _grow(rf, jump, k, s, d)
        result.append((rf, jump))
    return result


def _grow(rf, jump, kernel, stride, dilation):
    """One layer of the receptive-field recursion, along one axis."""
    return rf + dilation * (kernel - 1) * jump, jump * stride


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (shared parameters counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_POOL = (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)


def _outputs_per_module(model: nn.Module, input_size: Sequence[int], device=None) -> dict[nn.Module, int]:
    """Output values of every conv and linear module in one forward pass of one example."""
    counts: dict[nn.Module, int] = {}

    def hook(module, inputs, output):
        counts[module] = counts.get(module, 0) + output.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (*_CONV, nn.Linear))]
    was_training = model.training
    try:
        if device is None:
            device = next(model.parameters(), torch.empty(0)).device
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_size, device=device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return counts


def _macs_per_module(model: nn.Module, input_size: Sequence[int], device=None) -> dict[nn.Module, int]:
    """Multiply-accumulates of every conv and linear module: each output value costs one dot product."""
    def per_output(m):
        if isinstance(m, _CONV):
            return m.in_channels // m.groups * math.prod(m.kernel_size)
        return m.in_features

    return {m: n * per_output(m) for m, n in _outputs_per_module(model, input_size, device).items()}


def neurons(model: nn.Module, input_size: Sequence[int], device=None) -> dict[str, int]:
    """Units (output values) of every conv and linear layer for one example, by layer name.

    This is how papers count "neurons": AlexNet's 55x55x96 first layer has
    290,400 of them.
    """
    names = {m: name for name, m in model.named_modules()}
    return {names[m]: n for m, n in _outputs_per_module(model, input_size, device).items()}


def count_macs(model: nn.Module, input_size: Sequence[int], device=None) -> int:
    """Multiply-accumulates of one forward pass of a single example.

    ``input_size`` is the shape of one example without the batch, e.g.
    ``(3, 224, 224)``. Convolutions count ``C_out * H_out * W_out * (C_in / groups) * kH * kW``
    and linear layers ``out_features * in_features`` per input row; bias
    additions, activations and pooling are not counted (papers' convention).
    """
    return sum(_macs_per_module(model, input_size, device).values())


def _as_pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


class Summary:
    """A per-layer table: output shape, parameters, MACs and receptive field (size, jump).

    Prints as text and renders as an HTML table in a notebook. ``rows`` holds
    one dict per layer (containers included, indented by ``depth``).
    """

    COLUMNS = ("layer", "output", "params", "MACs", "RF", "jump")

    def __init__(self, rows, total_params, total_macs, input_size):
        self.rows, self.total_params, self.total_macs, self.input_size = rows, total_params, total_macs, tuple(input_size)

    def _cells(self, row):
        rf = "" if row["rf"] is None else ("global" if row["rf"] == "global" else f"{row['rf'][0]}x{row['rf'][1]}")
        jump = "" if row["jump"] is None or row["rf"] == "global" else f"{row['jump'][0]}x{row['jump'][1]}"
        return ("  " * row["depth"] + row["name"], str(row["output"]), f"{row['params']:,}",
                "" if row["macs"] is None else f"{row['macs']:,}", rf, jump)

    def __str__(self):
        table = [self.COLUMNS] + [self._cells(r) for r in self.rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(self.COLUMNS))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in table]
        rule = "-" * len(lines[0])
        return "\n".join([lines[0], rule, *lines[1:], rule,
                          f"input {self.input_size}: {self.total_params:,} parameters, {self.total_macs:,} MACs"])

    __repr__ = __str__

    def _repr_html_(self):
        from html import escape

        head = "".join(f"<th>{c}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(f"<td style='text-align:{'left' if i == 0 else 'right'}'>{escape(c).replace('  ', '&nbsp;&nbsp;')}</td>"
                                        for i, c in enumerate(self._cells(r))) + "</tr>" for r in self.rows)
        foot = f"input {self.input_size}: {self.total_params:,} parameters, {self.total_macs:,} MACs"
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p>{foot}</p>"


def summary(model: nn.Module, input_size: Sequence[int], device=None) -> Summary:
    """Per-layer output shapes and parameters (from torchinfo) with MACs and receptive fields added.

    ``input_size`` is one example's shape, e.g. (3, 224, 224). The receptive
    field (in input pixels, height x width) and jump are tracked through the
    layers in the order they run, which is exact for a chain of layers (VGG,
    AlexNet); after a global pooling or a linear layer a unit sees the whole
    input ("global").
    """
    import torchinfo

    if device is None:
        device = next(model.parameters(), torch.empty(0)).device
    stats = torchinfo.summary(model, input_size=(1, *input_size), verbose=0, device=device, mode="eval")
    macs = _macs_per_module(model, input_size, device)
    rf, jump, rows = (1, 1), (1, 1), []
    for info in stats.summary_list:
        module = info.module
        if info.is_leaf_layer:
            if isinstance(module, (*_CONV, *_POOL)) and rf != "global":
                k, st = _as_pair(module.kernel_size), _as_pair(module.stride or module.kernel_size)
                d = _as_pair(getattr(module, "dilation", 1))
                rf, jump = zip(*(_grow(*axis) for axis in zip(rf, jump, k, st, d)))
            elif isinstance(module, (nn.Linear, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
                rf = "global"
        rows.append({
            "name": info.class_name if info.depth == 0 else f"{info.var_name}: {info.class_name}",
            "depth": info.depth,
            "output": tuple(info.output_size[1:]) if info.output_size else (),
            "params": info.num_params if info.is_leaf_layer or info.depth == 0 else sum(p.numel() for p in module.parameters()),
            "macs": macs.get(module) if info.is_leaf_layer else None,
            "rf": rf if info.is_leaf_layer else None,
            "jump": jump if info.is_leaf_layer else None,
        })
    return Summary(rows, count_params(model), sum(macs.values()), input_size)


def grad_norms(model: nn.Module) -> dict[str, float]:
    """L2 norm of the weight gradient of every conv and linear layer, in model order, after ``backward()``.

    Vanishing gradients show as norms that shrink towards the input layers.
    """
    norms = {name: float(m.weight.grad.norm()) for name, m in model.named_modules()
             if isinstance(m, (*_CONV, nn.Linear)) and m.weight.grad is not None}
    if not norms:
        raise ValueError("grad_norms: no conv or linear layer has a gradient; call loss.backward() first")
    return norms
