"""Pieces the segmentation networks share: input checks and the conv-BN-ReLU unit."""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d


def check_input(fn: str, input, in_channels: int, multiple: int = 1) -> None:
    """``input`` is (N, in_channels, H, W) with H and W multiples of ``multiple``.

    ``multiple`` is the network's total stride (or whatever its pooling and
    unpooling need); a size that does not divide would leave the decoder's
    maps one pixel off the encoder's, so we refuse it with the sizes that work.
    """
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"{fn}: input must be a torch.Tensor; got {type(input).__name__}")
    if input.dim() != 4:
        raise ValueError(f"{fn}: input must be 4-D (N, C, H, W); got shape {tuple(input.shape)}")
    if input.shape[1] != in_channels:
        raise ValueError(f"{fn}: input must have {in_channels} channels (in_channels); got {input.shape[1]}")
    h, w = input.shape[-2:]
    if h % multiple or w % multiple:
        up = lambda s: -(-s // multiple) * multiple  # noqa: E731
        raise ValueError(
            f"{fn}: input height and width must be multiples of {multiple} (the network's total stride); "
            f"got {h}x{w} (the nearest that work: {up(h)}x{up(w)})"
        )


def check_classes(fn: str, num_classes, in_channels) -> None:
    """``num_classes`` >= 1 and ``in_channels`` >= 1, as ints."""
    for name, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{fn}: {name} must be a positive int; got {value!r}")


def resolve_config(fn: str, config, configs: dict, other: str = "a dict"):
    """``configs[config]`` for a name, ``config`` itself otherwise (a table of the caller's own)."""
    if isinstance(config, str):
        if config not in configs:
            raise ValueError(f"{fn}: config must be one of {', '.join(configs)} or {other}; got {config!r}")
        return configs[config]
    return config


class ConvBNReLU(nn.Sequential):
    """k x k convolution (no bias, 'same' padding for odd k, any dilation), batch norm, ReLU.

    (N, C_in, H, W) -> (N, C_out, H / stride, W / stride).
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, dilation=1):
        super().__init__(
            Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                   padding=dilation * (kernel_size - 1) // 2, dilation=dilation, bias=False),
            BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )
