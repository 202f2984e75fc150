"""The small convolutional backbone that the task heads of Beyond classification share.

Localisation (:mod:`cnncourse.localization`), pose (:mod:`cnncourse.pose`),
depth (:mod:`cnncourse.depth`) and camera relocalisation
(:mod:`cnncourse.relocalization`) put their heads on :func:`conv_backbone`,
the VGG-style pattern of the Design part at a few thousand parameters per
stage, read positions through :func:`fc_head`, and check their inputs with
:func:`check_images`.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import ConvBNAct, MaxPool2d
from cnncourse.layers._args import pair

WIDTHS = (16, 32, 64, 128)  # the default backbone: one conv-BN-ReLU and a 2x2 max pool per width


def conv_backbone(in_channels=3, widths=WIDTHS) -> nn.Sequential:
    """One stage per width: 3x3 conv (no bias), batch norm, ReLU, 2x2 max pool.

    (N, C, H, W) -> (N, widths[-1], H / 2^L, W / 2^L) for L = len(widths).
    Stage ``i`` (an ``nn.Sequential``) outputs ``widths[i]`` channels at stride
    ``2^(i + 1)``, so a decoder can iterate over the stages to collect skips.
    """
    if not widths or any(not isinstance(w, int) or isinstance(w, bool) or w < 1 for w in widths):
        raise ValueError(f"conv_backbone: widths must be a non-empty sequence of positive ints; got {widths!r}")
    channels = (in_channels, *widths)
    return nn.Sequential(*(nn.Sequential(ConvBNAct(c, w), MaxPool2d(2)) for c, w in zip(channels, widths)))


def fc_head(channels: int, cells: int, outputs: int, hidden: int = 256) -> nn.Sequential:
    """Flatten a (N, channels, h, w) map of ``cells`` = h * w positions, a hidden ReLU layer, ``outputs`` numbers.

    Fully connected layers see *where* each feature is, which global average
    pooling throws away: the heads that regress positions (boxes, joints) read
    the map through this, as AlexNet's and OverFeat's fully connected layers do.
    (N, channels, h, w) -> (N, outputs).
    """
    return nn.Sequential(nn.Flatten(), nn.Linear(channels * cells, hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, outputs))


def image_size_pair(fn: str, image_size, multiple: int = 1) -> tuple[int, int]:
    """``image_size`` (an int or (H, W)) as (H, W), each a positive multiple of ``multiple``."""
    h, w = pair(fn, "image_size", image_size)
    if h % multiple or w % multiple:
        raise ValueError(f"{fn}: image_size must be a multiple of {multiple} (the network's total stride); "
                         f"got {image_size!r}")
    return h, w


def check_images(fn: str, input, in_channels: int, size=None, multiple: int = 1) -> None:
    """``input`` is (N, in_channels, H, W), of size ``size`` (H, W) if given, else H, W multiples of ``multiple``."""
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"{fn}: input must be a torch.Tensor (N, C, H, W); got {type(input).__name__}")
    if input.dim() != 4 or input.shape[1] != in_channels:
        raise ValueError(f"{fn}: input must be (N, {in_channels}, H, W) (in_channels={in_channels}); "
                         f"got shape {tuple(input.shape)}")
    h, w = input.shape[-2:]
    if size is not None and (h, w) != tuple(size):
        raise ValueError(f"{fn}: input must be {size[0]}x{size[1]} (image_size, which the fully connected "
                         f"layers and the pixel outputs are built for); got {h}x{w}")
    if h % multiple or w % multiple or min(h, w) < multiple:
        raise ValueError(f"{fn}: input height and width must be positive multiples of {multiple} "
                         f"(the network's total stride); got {h}x{w}")
