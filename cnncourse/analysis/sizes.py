"""Output sizes and the receptive-field recursion for a chain of layers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


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


