"""ENet (Paszke et al., 2016): a segmentation network for real time, from its Table 1.

ENet spends its computation where the maps are small. The initial block
halves the image at once (a 3x3/2 convolution with 13 filters beside a 2x2
max pool of the input: 16 channels); stage 1 halves it again and stages 2-3,
the bulk of the network, run at 1/8 with dilated and asymmetric (5x1 then
1x5) convolutions for context; a small decoder (stages 4-5) unpools back
with the encoder's max-pooling indices (as SegNet does) and a transposed
convolution ("fullconv") gives the scores at full resolution.

Every block is a ResNet-like bottleneck (:class:`Bottleneck`): 1x1
projection to a quarter of the channels, the main convolution, 1x1
expansion, with batch norm and PReLU between them and spatial dropout at the
end; projections have no bias. A downsampling bottleneck projects with a
2x2/2 convolution and its shortcut max-pools (keeping the indices) and pads
the missing channels with zeros; an upsampling one has a 3x3/2 transposed
convolution and a shortcut of 1x1 conv, BN and max unpooling.

A configuration lists the bottlenecks of each stage as ``(kind, output
channels, dilation or asymmetric kernel size)``: ``PAPER`` is Table 1
(364,192 parameters with 12 classes; the paper reports 0.37M), ``SMALL`` a
shorter, narrower one for the course's CPU runs. The paper claims 79x fewer
parameters, 75x fewer FLOPs and up to 18x the speed of SegNet. Layers follow
the authors' Torch code; where it differs from the text we follow the text:
PReLU in the decoder too (the code has ReLU). The decoder has no dropout (as
in the code).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d, ConvTranspose2d, MaxPool2d, max_unpool2d
from cnncourse.segmentation._common import check_classes, check_input, resolve_config

KINDS = ("regular", "dilated", "asymmetric", "downsampling", "upsampling")

_STAGE_2 = [("regular", 128, 1), ("dilated", 128, 2), ("asymmetric", 128, 5), ("dilated", 128, 4),
            ("regular", 128, 1), ("dilated", 128, 8), ("asymmetric", 128, 5), ("dilated", 128, 16)]
PAPER = {  # Paszke et al. (2016), Table 1; dropout 0.01 in stage 1, 0.1 in the rest of the encoder
    "initial": 16,
    "stages": [
        [("downsampling", 64, 1)] + [("regular", 64, 1)] * 4,   # bottleneck1.0 - 1.4
        [("downsampling", 128, 1)] + _STAGE_2,                  # bottleneck2.0 - 2.8
        _STAGE_2,                                               # stage 3: stage 2 without 2.0
        [("upsampling", 64, 1), ("regular", 64, 1), ("regular", 64, 1)],
        [("upsampling", 16, 1), ("regular", 16, 1)],
    ],
    "dropout": (0.01, 0.1, 0.1, 0.0, 0.0),
}
SMALL = {
    "initial": 16,
    "stages": [
        [("downsampling", 32, 1), ("regular", 32, 1)],
        [("downsampling", 64, 1), ("dilated", 64, 2), ("asymmetric", 64, 5), ("dilated", 64, 4), ("dilated", 64, 8)],
        [("upsampling", 32, 1), ("regular", 32, 1)],
        [("upsampling", 16, 1)],
    ],
    "dropout": (0.01, 0.1, 0.0, 0.0),
}
CONFIGS = {"paper": PAPER, "small": SMALL}


class InitialBlock(nn.Module):
    """3x3/2 convolution with ``out_channels - in_channels`` filters, concatenated with a 2x2 max pool; BN, PReLU.

    (N, C_in, H, W) -> (N, out_channels, H/2, W/2): 13 + 3 = 16 channels for RGB.
    """

    def __init__(self, in_channels=3, out_channels=16):
        super().__init__()
        if out_channels <= in_channels:
            raise ValueError(f"ENet: the initial block needs more output channels than the {in_channels} input "
                             f"channels (the pool keeps them); got {out_channels}")
        self.conv = Conv2d(in_channels, out_channels - in_channels, 3, stride=2, padding=1)
        self.pool = MaxPool2d(2, 2)
        self.bn = BatchNorm2d(out_channels)
        self.act = nn.PReLU(out_channels)

    def forward(self, x):
        return self.act(self.bn(torch.cat([self.conv(x), self.pool(x)], dim=1)))


def _main_conv(kind, channels, arg):
    """The bottleneck's middle convolution at the reduced width."""
    if kind == "asymmetric":  # a 5x5 factorised into 5x1 and 1x5
        return nn.Sequential(Conv2d(channels, channels, (arg, 1), padding=(arg // 2, 0), bias=False),
                             Conv2d(channels, channels, (1, arg), padding=(0, arg // 2)))
    if kind == "upsampling":
        return ConvTranspose2d(channels, channels, 3, stride=2, padding=1, output_padding=1)
    dilation = arg if kind == "dilated" else 1
    return Conv2d(channels, channels, 3, padding=dilation, dilation=dilation)


class Bottleneck(nn.Module):
    """ENet's bottleneck module (Figure 2b of the paper); ``kind`` is one of ``KINDS``.

    (N, C_in, H, W) -> (N, C_out, H', W'), H' = H/2 when downsampling (it then
    also returns the pooling indices), 2H when upsampling (call it with the
    indices of the matching downsampling), H otherwise. ``arg`` is the
    dilation (``"dilated"``) or the kernel size (``"asymmetric"``).
    """

    def __init__(self, in_channels, out_channels, kind="regular", arg=1, dropout=0.1, ratio=4):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"Bottleneck: kind must be one of {KINDS}; got {kind!r}")
        if kind in ("regular", "dilated", "asymmetric") and in_channels != out_channels:
            raise ValueError(f"Bottleneck: a {kind} bottleneck keeps its channels; got {in_channels} -> {out_channels}")
        if kind == "downsampling" and out_channels < in_channels:
            raise ValueError(f"Bottleneck: downsampling pads channels, so it cannot reduce them; "
                             f"got {in_channels} -> {out_channels}")
        self.kind = kind
        internal = max(1, out_channels // ratio)
        first = 2 if kind == "downsampling" else 1  # 2x2/2 projection, or 1x1
        self.main = nn.Sequential(
            Conv2d(in_channels, internal, first, stride=first, bias=False), BatchNorm2d(internal), nn.PReLU(internal),
            _main_conv(kind, internal, arg), BatchNorm2d(internal), nn.PReLU(internal),
            Conv2d(internal, out_channels, 1, bias=False), BatchNorm2d(out_channels), nn.Dropout2d(dropout),
        )
        if kind == "downsampling":
            self.pool = MaxPool2d(2, 2, return_indices=True)
        if kind == "upsampling":
            self.shortcut = nn.Sequential(Conv2d(in_channels, out_channels, 1, bias=False), BatchNorm2d(out_channels))
        self.act = nn.PReLU(out_channels)

    def forward(self, x, indices=None):
        main = self.main(x)
        if self.kind == "downsampling":
            pooled, indices = self.pool(x)
            pooled = F.pad(pooled, (0, 0, 0, 0, 0, main.shape[1] - pooled.shape[1]))  # zero channels
            return self.act(main + pooled), indices
        if self.kind == "upsampling":
            if indices is None:
                raise ValueError("Bottleneck: an upsampling bottleneck needs the indices of its downsampling")
            x = max_unpool2d(self.shortcut(x), indices, 2, output_size=main.shape[-2:])
        return self.act(main + x)

    def extra_repr(self):
        return f"kind={self.kind!r}"


class ENet(nn.Module):
    """ENet from a configuration (``"paper"``, ``"small"`` or a dict like them): (N, C, H, W) -> (N, num_classes, H, W).

    ``stages[i][j]`` is the paper's bottleneck(i+1).j. Upsampling bottlenecks
    use the indices of the downsampling ones in reverse order, so each must
    restore the channels its partner had as input. H and W must be multiples
    of 2^(1 + number of downsamplings): 8 for both tables.
    """

    def __init__(self, num_classes, in_channels=3, config="small"):
        super().__init__()
        check_classes("ENet", num_classes, in_channels)
        config = resolve_config("ENet", config, CONFIGS)
        if len(config["dropout"]) != len(config["stages"]):
            raise ValueError(f"ENet: the config needs one dropout rate per stage ({len(config['stages'])}); "
                             f"got {len(config['dropout'])}")
        self.in_channels = in_channels
        self.initial = InitialBlock(in_channels, config["initial"])
        channels, pooled, stages = config["initial"], [], []
        for blocks, dropout in zip(config["stages"], config["dropout"]):
            stage = []
            for kind, out, arg in blocks:
                if kind == "downsampling":
                    pooled.append(channels)
                elif kind == "upsampling" and (not pooled or pooled[-1] != out):
                    expected = pooled[-1] if pooled else "no unpooling (no downsampling left)"
                    raise ValueError(f"ENet: upsampling to {out} channels; its downsampling partner expects {expected}")
                elif kind == "upsampling":
                    pooled.pop()
                stage.append(Bottleneck(channels, out, kind, arg, dropout))
                channels = out
            stages.append(nn.ModuleList(stage))
        if pooled:
            raise ValueError(f"ENet: {len(pooled)} downsampling bottleneck(s) without an upsampling one")
        self.stages = nn.ModuleList(stages)
        self.multiple = 2 ** (1 + sum(kind == "downsampling" for blocks in config["stages"] for kind, _, _ in blocks))
        self.fullconv = ConvTranspose2d(channels, num_classes, 2, stride=2)

    def forward(self, x):
        check_input("ENet", x, self.in_channels, self.multiple)
        x, indices = self.initial(x), []
        for stage in self.stages:
            for block in stage:
                if block.kind == "downsampling":
                    x, where = block(x)
                    indices.append(where)
                elif block.kind == "upsampling":
                    x = block(x, indices.pop())
                else:
                    x = block(x)
        return self.fullconv(x)
