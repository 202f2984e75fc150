"""Full-resolution residual networks, FRRN (Pohlen et al., 2017).

Encoder-decoders lose the exact position of boundaries in their pooling and
must recover it from skip connections. FRRN carries two streams instead:

* the **residual stream** ``z`` stays at the input's full resolution, with
  few channels (32 "lanes"), and is only ever *added* to, like a ResNet's
  identity path;
* the **pooling stream** ``y`` goes down and up an encoder-decoder of
  max pools and bilinear upsampling, as in any segmentation network.

A full-resolution residual unit (:class:`FRRU`) couples them: it pools
``z`` to ``y``'s scale, concatenates, applies two 3x3 conv-BN-ReLU (the
new ``y``), and sends a 1x1 convolution of the result, upsampled, back to
``z`` as a residual. Recognition happens in the pooling stream, while the
residual stream keeps full-resolution evidence and the gradient a short
path to every unit.

A configuration has the base width (the 5x5 stem and the residual units,
:class:`ResidualUnit`, before and after the streams), the lanes, the number
of residual units on each side, and a table of stages ``(FRRUs, channels,
scale)``: ``FRRN_A`` is Table 1 of the paper (17.7M parameters), ``FRRN_B``
its deeper variant (24.8M), ``SMALL`` the course's. Layers follow the
authors' Theano code (nearest-neighbour upsampling of the residuals, no ReLU
after a residual unit's sum).
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d, MaxPool2d, upsample_bilinear, upsample_nearest
from cnncourse.segmentation._common import ConvBNReLU, check_classes, check_input, resolve_config

FRRN_A = {  # Pohlen et al. (2017), Table 1
    "channels": 48, "lanes": 32, "units": 3,
    "stages": [(3, 96, 2), (4, 192, 4), (2, 384, 8), (2, 384, 16),   # encoder
               (2, 192, 8), (2, 192, 4), (2, 96, 2)],               # decoder
}
FRRN_B = {  # Pohlen et al. (2017): one more pooling level (scale 32), for larger inputs
    "channels": 48, "lanes": 32, "units": 3,
    "stages": [(3, 96, 2), (4, 192, 4), (2, 384, 8), (2, 384, 16), (2, 384, 32),
               (2, 192, 16), (2, 192, 8), (2, 192, 4), (2, 96, 2)],
}
SMALL = {
    "channels": 8, "lanes": 8, "units": 1,
    "stages": [(1, 16, 2), (2, 32, 4), (2, 48, 8), (1, 16, 4), (1, 16, 2)],
}
CONFIGS = {"frrn_a": FRRN_A, "frrn_b": FRRN_B, "small": SMALL}


class ResidualUnit(nn.Module):
    """3x3 conv-BN-ReLU, 3x3 conv-BN, plus the input (a 1x1 projection when the channels change).

    (N, C_in, H, W) -> (N, C_out, H, W).
    """

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.body = nn.Sequential(ConvBNReLU(in_channels, out_channels),
                                  Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                                  BatchNorm2d(out_channels))
        same = in_channels == out_channels
        self.shortcut = nn.Identity() if same else Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


class FRRU(nn.Module):
    """Full-resolution residual unit: ``(y, z) -> (y', z')``.

    ``y`` (N, C_in, H/s, W/s) is the pooling stream at scale ``s``, ``z``
    (N, lanes, H, W) the residual stream. ``y' = conv(conv([y, maxpool_s(z)]))``
    with ``out_channels``; ``z' = z + upsample_s(conv1x1(y'))``.
    """

    def __init__(self, in_channels, out_channels, lanes, scale):
        super().__init__()
        self.scale = scale
        self.pool = MaxPool2d(scale, scale)
        self.convs = nn.Sequential(ConvBNReLU(in_channels + lanes, out_channels),
                                   ConvBNReLU(out_channels, out_channels))
        self.residual = Conv2d(out_channels, lanes, 1)

    def forward(self, y, z):
        y = self.convs(torch.cat([y, self.pool(z)], dim=1))
        return y, z + upsample_nearest(self.residual(y), self.scale)

    def extra_repr(self):
        return f"scale={self.scale}"


class FRRNStage(nn.Module):
    """Move the pooling stream from ``previous`` scale to ``scale`` (max pool or bilinear upsampling), then FRRUs."""

    def __init__(self, in_channels, out_channels, lanes, units, scale, previous):
        super().__init__()
        self.up = previous // scale if scale < previous else 1
        self.pool = MaxPool2d(scale // previous, scale // previous) if scale > previous else nn.Identity()
        self.units = nn.ModuleList(FRRU(in_channels if i == 0 else out_channels, out_channels, lanes, scale)
                                   for i in range(units))

    def forward(self, y, z):
        y = self.pool(y) if self.up == 1 else upsample_bilinear(y, scale_factor=self.up)
        for unit in self.units:
            y, z = unit(y, z)
        return y, z


class FRRN(nn.Module):
    """FRRN from a configuration (``"frrn_a"``, ``"frrn_b"``, ``"small"`` or a dict like them).

    (N, C, H, W) -> (N, num_classes, H, W): 5x5 conv-BN-ReLU and residual units at full resolution; the residual
    stream starts as their 1x1 projection to ``lanes`` channels (with BN);
    the stages; the pooling stream upsampled to full resolution and
    concatenated with the residual stream; residual units; a 1x1 classifier.
    H and W must be multiples of the largest scale.
    """

    def __init__(self, num_classes, in_channels=3, config="small"):
        super().__init__()
        check_classes("FRRN", num_classes, in_channels)
        config = resolve_config("FRRN", config, CONFIGS)
        scales = [scale for _, _, scale in config["stages"]]
        if any(s < 2 or s & (s - 1) for s in scales):
            raise ValueError(f"FRRN: stage scales must be powers of two >= 2; got {scales}")
        base, lanes, units = config["channels"], config["lanes"], config["units"]
        self.in_channels, self.multiple, self.last_scale = in_channels, max(scales), scales[-1]
        self.stem = nn.Sequential(ConvBNReLU(in_channels, base, 5), *(ResidualUnit(base, base) for _ in range(units)))
        self.split = nn.Sequential(Conv2d(base, lanes, 1, bias=False), BatchNorm2d(lanes))
        stages, channels, previous = [], base, 1
        for count, width, scale in config["stages"]:
            stages.append(FRRNStage(channels, width, lanes, count, scale, previous))
            channels, previous = width, scale
        self.stages = nn.ModuleList(stages)
        self.head = nn.Sequential(*(ResidualUnit(channels + lanes if i == 0 else base, base) for i in range(units)),
                                  Conv2d(base, num_classes, 1))

    def forward(self, x):
        check_input("FRRN", x, self.in_channels, self.multiple)
        y = self.stem(x)
        z = self.split(y)
        for stage in self.stages:
            y, z = stage(y, z)
        y = upsample_bilinear(y, scale_factor=self.last_scale)
        return self.head(torch.cat([y, z], dim=1))
