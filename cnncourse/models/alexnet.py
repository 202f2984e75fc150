"""AlexNet (Krizhevsky et al., 2012), as published and as in torchvision.

The paper's network has 96-256-384-384-256 filters, split over two GPUs
(grouped convolutions in layers 2, 4 and 5, which saw only their own GPU's
half), local response normalisation after layers 1 and 2, and a 224x224 input
(227 in practice, for the arithmetic to work). torchvision's ``alexnet``
follows the single-tower "one weird trick" variant (Krizhevsky, 2014):
64-192-384-256-256 filters, no LRN, no groups.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d, LocalResponseNorm, MaxPool2d
from cnncourse.models.registry import register

# Local response normalisation as in the paper: k = 2, n = 5, alpha = 1e-4, beta = 0.75 in
# b = a / (k + alpha * sum of a^2 over n channels)^beta. PyTorch divides its alpha by n, so
# the paper's alpha is alpha * n there.
LRN_PAPER = dict(size=5, alpha=1e-4 * 5, beta=0.75, k=2.0)

# (filters, kernel, stride, padding, groups, LRN after, max pool after) per convolution layer
PAPER = [(96, 11, 4, 0, 1, True, True), (256, 5, 1, 2, 2, True, True), (384, 3, 1, 1, 1, False, False),
         (384, 3, 1, 1, 2, False, False), (256, 3, 1, 1, 2, False, True)]
TORCHVISION = [(64, 11, 4, 2, 1, False, True), (192, 5, 1, 2, 1, False, True), (384, 3, 1, 1, 1, False, False),
               (256, 3, 1, 1, 1, False, False), (256, 3, 1, 1, 1, False, True)]


class AlexNet(nn.Module):
    """Five convolutions, three overlapping 3x3/2 max pools, three fully connected layers with dropout."""

    def __init__(self, num_classes=1000, in_channels=3, variant="torchvision", dropout=0.5):
        super().__init__()
        table = {"torchvision": TORCHVISION, "paper": PAPER}.get(variant)
        if table is None:
            raise ValueError(f"AlexNet: variant must be 'torchvision' or 'paper'; got {variant!r}")
        layers, channels = [], in_channels
        for filters, k, s, p, g, lrn, pool in table:
            layers += [Conv2d(channels, filters, k, s, p, groups=g), nn.ReLU(inplace=True)]
            layers += [LocalResponseNorm(**LRN_PAPER)] if lrn else []
            layers += [MaxPool2d(3, 2)] if pool else []
            channels = filters
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(channels * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


register("alexnet", lambda **kw: AlexNet(variant="torchvision", **kw), torchvision="alexnet",
         doc="AlexNet, torchvision's single-tower variant")
register("alexnet_paper", lambda **kw: AlexNet(variant="paper", **kw),
         doc="AlexNet as in the 2012 paper: two towers (groups), LRN, 96-256-384-384-256 filters",
         input_size=227)


class AlexNetMini(nn.Module):
    """AlexNet's five convolutions c1..c5, scaled to 64x64 images: (N, C, 64, 64) -> (N, num_classes).

    c1 is a 7x7 convolution with stride 2 (first-layer filters large enough
    to read as images), c2 a 5x5 one, c3-c5 3x3 ones; 3x3/2 max pooling
    follows c1 and c2. Each ``c<i>`` is a convolution, batch norm (unless
    ``batch_norm=False``) and a ReLU, so ``model.c3`` is the third layer's
    output and ``model.c1[0].weight`` its filters. A global pooling
    (``"max"``, or ``"avg"`` as in GoogLeNet) and one linear layer close
    the network; max pooling suits objects that cover a small part of the
    image, which averaging would dilute with background. Used by
    :mod:`cnncourse.zoo`.
    """

    WIDTHS = (24, 48, 64, 64, 64)

    def __init__(self, num_classes: int = 10, in_channels: int = 3, widths: Sequence[int] = WIDTHS,
                 batch_norm: bool = True, pool: str = "max"):
        super().__init__()
        if len(widths) != 5:
            raise ValueError(f"AlexNetMini: widths needs 5 entries (c1..c5); got {tuple(widths)}")
        if pool not in ("max", "avg"):
            raise ValueError(f"AlexNetMini: pool must be 'max' or 'avg'; got {pool!r}")
        c = [in_channels, *widths]
        kernels = {1: (7, 2, 3), 2: (5, 1, 2), 3: (3, 1, 1), 4: (3, 1, 1), 5: (3, 1, 1)}
        for i, (k, s, p) in kernels.items():
            norm = [BatchNorm2d(c[i])] if batch_norm else []
            self.add_module(f"c{i}", nn.Sequential(Conv2d(c[i - 1], c[i], k, s, p), *norm, nn.ReLU()))
        self.pool1, self.pool2 = MaxPool2d(3, 2, 1), MaxPool2d(3, 2, 1)
        self.pool = pool
        self.fc = nn.Linear(c[5], num_classes)

    def forward(self, x):
        x = self.pool2(self.c2(self.pool1(self.c1(x))))
        x = self.c5(self.c4(self.c3(x)))  # (N, c5, H / 8, W / 8)
        return self.fc(x.amax(dim=(2, 3)) if self.pool == "max" else x.mean(dim=(2, 3)))


register("alexnet_mini", lambda **kw: AlexNetMini(**kw),
         doc="AlexNet's five convolutions c1..c5 for 64x64 images, batch norm, global pooling (the zoo's)",
         input_size=64)
