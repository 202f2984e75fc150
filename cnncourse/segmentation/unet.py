"""U-Net (Ronneberger, Fischer & Brox, 2015): an encoder-decoder with a skip connection at every level.

The contracting path applies two 3x3 convolutions (+ReLU) per level and a
2x2 max pool between levels, doubling the width each time (64 ... 1024 in the
paper). The expanding path mirrors it: a 2x2 "up-convolution" (a stride-2
transposed convolution) doubles the resolution and halves the width, the
result is concatenated with the encoder's map of the same level (the lateral
connection), and two 3x3 convolutions fuse them. A 1x1 convolution scores the
classes.

Differences from the paper: the paper's convolutions are unpadded, so a
572x572 input gives a 388x388 output and each encoder map is cropped to the
decoder's before the concatenation (tiles overlap at test time). Here they
use 'same' padding: the output is the input's size, no crop is needed, and H
and W must be multiples of 2^(levels - 1) (16 for the paper's widths).
``batch_norm=True`` adds batch norm after every 3x3 convolution (not in the
paper, but usual since); the paper's dropout at the end of the contracting
path is left out.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import Conv2d, ConvTranspose2d, MaxPool2d
from cnncourse.segmentation._common import ConvBNReLU, check_classes, check_input, resolve_config

# The width of each level, finest first: the paper's five levels, and a small one for 64x64 scenes on a CPU.
CONFIGS = {"small": [16, 32, 64, 128], "paper": [64, 128, 256, 512, 1024]}
# UNet(2, config="paper") has 31,031,810 parameters (31,031,680 + 65 * num_classes in general).


def double_conv(in_channels, out_channels, batch_norm=False) -> nn.Sequential:
    """Two 3x3 'same' convolutions, each then ReLU (batch norm first if asked): (N, C_in, H, W) -> (N, C_out, H, W)."""
    if batch_norm:
        return nn.Sequential(ConvBNReLU(in_channels, out_channels), ConvBNReLU(out_channels, out_channels))
    return nn.Sequential(Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(inplace=True),
                         Conv2d(out_channels, out_channels, 3, padding=1), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """U-Net: (N, in_channels, H, W) -> (N, num_classes, H, W) logits, H and W multiples of 2^(levels - 1).

    ``config`` is a key of :data:`CONFIGS` or a list of widths, one per
    level, finest first.
    """

    def __init__(self, num_classes, in_channels=3, config="small", batch_norm=False):
        super().__init__()
        check_classes("UNet", num_classes, in_channels)
        widths = list(resolve_config("UNet", config, CONFIGS, "a list of widths"))
        if len(widths) < 2:
            raise ValueError(f"UNet: config needs at least 2 levels; got {widths}")
        self.in_channels, self.multiple = in_channels, 2 ** (len(widths) - 1)
        self.down = nn.ModuleList(double_conv(c_in, c_out, batch_norm)
                                  for c_in, c_out in zip([in_channels, *widths[:-1]], widths))
        self.pool = MaxPool2d(2, 2)
        # Level i of the expanding path (finest first): up-convolution widths[i + 1] -> widths[i], concatenation
        # with the encoder's widths[i] channels, two convolutions 2 widths[i] -> widths[i].
        self.up = nn.ModuleList(ConvTranspose2d(c_deep, c, 2, stride=2) for c, c_deep in zip(widths, widths[1:]))
        self.merge = nn.ModuleList(double_conv(2 * c, c, batch_norm) for c in widths[:-1])
        self.head = Conv2d(widths[0], num_classes, 1)

    def forward(self, input):
        check_input("UNet", input, self.in_channels, multiple=self.multiple)
        skips, x = [], input
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        for i in reversed(range(len(self.up))):
            x = self.merge[i](torch.cat([skips[i], self.up[i](x)], dim=1))
        return self.head(x)
