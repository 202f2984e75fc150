"""GoogLeNet / Inception v1 (Szegedy et al., 2015) from the paper's Table 1, and Inception v2/v3 blocks.

``INCEPTION`` is Table 1: for each module its input channels and the widths
of the 1x1, 3x3-reduce, 3x3, 5x5-reduce, 5x5 and pool-projection branches.
``googlenet`` matches torchvision (batch norm after every convolution and,
like torchvision's weights, a 3x3 convolution in the "5x5" branch: a known
discrepancy, pytorch/vision#906); ``variant="paper"`` gives the published
network: 5x5 convolutions with biases and no batch norm, and auxiliary heads
that start with a 5x5/3 average pool.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.analysis import macs_per_module
from cnncourse.layers import AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d
from cnncourse.models.registry import register

# name: (in, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)  -- Table 1
INCEPTION = {
    "3a": (192, 64, 96, 128, 16, 32, 32),
    "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64),
    "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64),
    "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128),
    "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}

# Table 1's last two columns as printed: parameters (thousands) and operations (millions) per layer.
TABLE_1 = {
    "conv1": (2.7, 34), "conv2+conv3": (112, 360),
    "inception3a": (159, 128), "inception3b": (380, 304), "inception4a": (364, 73), "inception4b": (437, 88),
    "inception4c": (463, 100), "inception4d": (580, 119), "inception4e": (840, 170), "inception5a": (1072, 54),
    "inception5b": (1388, 71), "fc": (1000, 1),
}


class BasicConv2d(nn.Module):
    """Convolution + ReLU, with batch norm (torchvision: no bias, eps 1e-3) or without (the paper: bias)."""

    def __init__(self, in_channels, out_channels, batch_norm=True, **kwargs):
        super().__init__()
        self.conv = Conv2d(in_channels, out_channels, bias=not batch_norm, **kwargs)
        self.bn = BatchNorm2d(out_channels, eps=0.001) if batch_norm else nn.Identity()

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    """Four parallel branches concatenated along channels: 1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max pool -> 1x1.

    The 1x1 convolutions before the 3x3 and 5x5 ones are the bottlenecks that
    keep the module affordable. (N, C_in, H, W) -> (N, #1x1 + #3x3 + #5x5 + pool proj, H, W).
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, batch_norm=True, five=3):
        super().__init__()
        conv = lambda i, o, **kw: BasicConv2d(i, o, batch_norm, **kw)  # noqa: E731
        self.branch1 = conv(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(conv(in_channels, ch3x3red, kernel_size=1), conv(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(conv(in_channels, ch5x5red, kernel_size=1), conv(ch5x5red, ch5x5, kernel_size=five, padding=five // 2))
        self.branch4 = nn.Sequential(MaxPool2d(3, 1, 1, ceil_mode=True), conv(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier on an intermediate map: pool to 4x4, 1x1 conv to 128, fc 1024, dropout 70%, fc."""

    def __init__(self, in_channels, num_classes, batch_norm=True, paper_pool=False, dropout=0.7):
        super().__init__()
        self.pool = AvgPool2d(5, 3) if paper_pool else nn.AdaptiveAvgPool2d((4, 4))
        self.conv = BasicConv2d(in_channels, 128, batch_norm, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = torch.flatten(self.conv(self.pool(x)), 1)
        return self.fc2(self.dropout(F.relu(self.fc1(x), inplace=True)))


class GoogLeNet(nn.Module):
    """22 layers with weights: a stem, nine Inception modules, global average pooling, one fc.

    In training mode with ``aux_logits`` the forward returns ``(logits, aux2, aux1)``,
    like torchvision; in evaluation mode only the logits.
    """

    def __init__(self, num_classes=1000, in_channels=3, aux_logits=True, variant="torchvision", dropout=0.2, dropout_aux=0.7):
        super().__init__()
        if variant not in ("torchvision", "paper"):
            raise ValueError(f"GoogLeNet: variant must be 'torchvision' or 'paper'; got {variant!r}")
        bn, five, paper = variant == "torchvision", 3 if variant == "torchvision" else 5, variant == "paper"
        self.conv1 = BasicConv2d(in_channels, 64, bn, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, bn, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, bn, kernel_size=3, padding=1)
        self.maxpool2 = MaxPool2d(3, 2, ceil_mode=True)
        for name, widths in INCEPTION.items():
            setattr(self, f"inception{name}", Inception(*widths, batch_norm=bn, five=five))
        self.maxpool3 = MaxPool2d(3, 2, ceil_mode=True)
        self.maxpool4 = MaxPool2d(2, 2, ceil_mode=True)
        self.aux1 = InceptionAux(512, num_classes, bn, paper, dropout_aux) if aux_logits else None
        self.aux2 = InceptionAux(528, num_classes, bn, paper, dropout_aux) if aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.4 if paper else dropout)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.maxpool2(self.conv3(self.conv2(self.maxpool1(self.conv1(x)))))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        return (x, aux2, aux1) if aux1 is not None else x


class InceptionV3Block(nn.Module):
    """An Inception block with the v2/v3 factorisations (Szegedy et al., 2016).

    Branches: 1x1; 1x1 -> 3x3 -> 3x3 (a factorised 5x5); 1x1 -> 1xn -> nx1
    (a factorised nxn); 3x3 average pool -> 1x1. Each branch has ``width``
    channels: (N, C_in, H, W) -> (N, 4 * width, H, W).
    """

    def __init__(self, in_channels, width=64, n=7):
        super().__init__()
        conv = lambda i, o, k, p: BasicConv2d(i, o, True, kernel_size=k, padding=p)  # noqa: E731
        self.branch1 = conv(in_channels, width, 1, 0)
        self.branch5 = nn.Sequential(conv(in_channels, width, 1, 0), conv(width, width, 3, 1), conv(width, width, 3, 1))
        self.branchn = nn.Sequential(conv(in_channels, width, 1, 0), conv(width, width, (1, n), (0, n // 2)), conv(width, width, (n, 1), (n // 2, 0)))
        self.branch_pool = nn.Sequential(AvgPool2d(3, 1, 1), conv(in_channels, width, 1, 0))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch5(x), self.branchn(x), self.branch_pool(x)], 1)


def table1_costs():
    """Weights and multiply-accumulates of each row of Table 1, computed from the paper variant at 224x224.

    Returns ``{row: (weights, MACs)}`` for the rows of :data:`TABLE_1`
    (biases are not counted, as in the paper).
    """
    with torch.device("meta"):
        net = GoogLeNet(variant="paper").eval()
    macs = macs_per_module(net, (3, 224, 224))
    costs = {}
    for name in TABLE_1:
        parts = [getattr(net, part) for part in name.split("+")]
        modules = {m for part in parts for m in part.modules()}
        weights = sum(p.numel() for part in parts for n, p in part.named_parameters() if n.endswith("weight"))
        costs[name] = (weights, sum(v for m, v in macs.items() if m in modules))
    return costs


register("googlenet", lambda **kw: GoogLeNet(variant="torchvision", **kw), torchvision="googlenet",
         doc="GoogLeNet, torchvision's variant (batch norm, 3x3 in the '5x5' branch)")
register("googlenet_paper", lambda **kw: GoogLeNet(variant="paper", **kw),
         doc="GoogLeNet as in Table 1 of the paper (5x5 branches, no batch norm)")
