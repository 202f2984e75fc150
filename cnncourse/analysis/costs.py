"""What a model stores and computes: parameters, multiply-accumulates, units, gradient norms."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from cnncourse.runtime import evaluating

def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (shared parameters counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_POOL = (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)


def _outputs_per_module(model: nn.Module, input_size: Sequence[int], device=None) -> dict[nn.Module, int]:
    """Output values of every conv and linear module in one forward pass of one example."""
    counts: dict[nn.Module, int] = {}

    def hook(module, inputs, output):
        # a transposed convolution is counted per input value: each one stamps a C_out x kH x kW kernel
        counted = inputs[0] if isinstance(module, _TRANSPOSED) or hasattr(module, "macs_per_input") else output
        counts[module] = counts.get(module, 0) + counted.numel()

    # besides torch's layers, a module of ours that computes with a functional kernel (a shared weight,
    # say) declares ``macs_per_input``: the multiply-accumulates each input value costs
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (*_CONV, *_TRANSPOSED, nn.Linear)) or hasattr(m, "macs_per_input")]
    try:
        if device is None:
            device = next(model.parameters(), torch.empty(0)).device
        with torch.no_grad(), evaluating(model):
            model(torch.zeros(1, *input_size, device=device))
    finally:
        for h in handles:
            h.remove()
    return counts


def macs_per_module(model: nn.Module, input_size: Sequence[int], device=None) -> dict[nn.Module, int]:
    """Multiply-accumulates of every conv and linear module: each output value costs one dot product."""
    def per_output(m):
        if hasattr(m, "macs_per_input"):
            return m.macs_per_input
        if isinstance(m, _TRANSPOSED):
            return m.out_channels // m.groups * math.prod(m.kernel_size)
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
    ``(3, 224, 224)``. Convolutions count ``C_out * H_out * W_out * (C_in / groups) * kH * kW``,
    transposed convolutions ``C_in * H_in * W_in * (C_out / groups) * kH * kW``, and linear layers ``out_features * in_features`` per input row; bias
    additions, activations and pooling are not counted (papers' convention).
    """
    return sum(macs_per_module(model, input_size, device).values())


def grad_norms(model: nn.Module) -> dict[str, float]:
    """L2 norm of the weight gradient of every conv and linear layer, in model order, after ``backward()``.

    Vanishing gradients show as norms that shrink towards the input layers.
    """
    norms = {name: float(m.weight.grad.norm()) for name, m in model.named_modules()
             if isinstance(m, (*_CONV, nn.Linear)) and m.weight.grad is not None}
    if not norms:
        raise ValueError("grad_norms: no conv or linear layer has a gradient; call loss.backward() first")
    return norms
