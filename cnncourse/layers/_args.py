"""Argument checking shared by the layers: clear errors, torch's conventions.

Every error names the function, the argument, what was expected and what came
in, e.g. ``conv2d: stride must be positive integers; got (0, 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def pair(fn: str, name: str, value, *, minimum: int = 1, n: int = 2) -> tuple[int, ...]:
    """``value`` as an ``n``-tuple of ints, each at least ``minimum``."""
    values = tuple(value) if isinstance(value, Sequence) else (value,) * n
    if len(values) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{fn}: {name} must be an int or a tuple of {n} ints; got {value!r}")
    if any(v < minimum for v in values):
        kind = "positive" if minimum == 1 else f"at least {minimum}"
        raise ValueError(f"{fn}: {name} must be {kind} integers; got {value!r}")
    return values


def check_tensor(fn: str, name: str, x, ndim: int, layout: str) -> None:
    """``x`` is a tensor with ``ndim`` dimensions, described by ``layout``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fn}: {name} must be a torch.Tensor; got {type(x).__name__}")
    if x.dim() != ndim:
        raise ValueError(
            f"{fn}: {name} must be {ndim}-D {layout}; got a {x.dim()}-D tensor "
            f"of shape {tuple(x.shape)}"
        )


def same_padding(kernel: Sequence[int], dilation: Sequence[int]) -> tuple[int, ...]:
    """Zero padding (before, after) per spatial dim so stride-1 output = input size.

    An even kernel needs an odd total padding ``d * (k - 1)``; like PyTorch we
    put the extra row/column after (bottom/right). Returned as F.pad's order:
    last dim first, ``(left, right, top, bottom)`` in 2D.
    """
    pads: list[int] = []
    for k, d in zip(reversed(kernel), reversed(dilation)):
        total = d * (k - 1)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


def conv_padding(fn: str, padding, kernel, stride, dilation) -> tuple[int, ...]:
    """Resolve ``padding`` (int, tuple, 'valid', 'same') to F.pad's tuple."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * n)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' needs stride 1; got stride {tuple(stride)}")
            return same_padding(kernel, dilation)
        raise ValueError(f"{fn}: padding must be an int, a tuple, 'valid' or 'same'; got {padding!r}")
    pads = pair(fn, "padding", padding, minimum=0, n=n)
    return tuple(p for p in reversed(pads) for _ in range(2))


def prepare_conv(fn, input, weight, bias, stride, padding, dilation, groups, pad=True):
    """Check every argument; return the padded input and the normalised settings.

    With ``pad=False``: the input as it came, the settings, and the padding
    ``(left, right, top, bottom)`` as a fifth element.
    """
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
    if not pad:
        return input, stride, dilation, out, pads
    return F.pad(input, pads), stride, dilation, out
