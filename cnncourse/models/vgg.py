"""VGG (Simonyan & Zisserman, 2015): configurations A, A-LRN, B, C, D, E as a table.

Each configuration is a list read from the paper's Table 1: an int is a 3x3
convolution with that many filters, ``"1x1-256"`` a 1x1 convolution
(configuration C), ``"M"`` a 2x2 max pool and ``"LRN"`` local response
normalisation (A-LRN). ``vgg11``/``13``/``16``/``19`` (and ``_bn``) are A, B,
D, E with torchvision's module layout, so torchvision's weights load.
"""

from __future__ import annotations

from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d, LocalResponseNorm, MaxPool2d
from cnncourse.models.alexnet import LRN_PAPER
from cnncourse.models.registry import register

CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "A-LRN": [64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "C": [64, 64, "M", 128, 128, "M", 256, 256, "1x1-256", "M", 512, 512, "1x1-512", "M", 512, 512, "1x1-512", "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
TORCHVISION = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}


def make_layers(config, in_channels=3, batch_norm=False) -> nn.Sequential:
    """The convolutional part of a VGG from its configuration list."""
    layers, channels = [], in_channels
    for item in config:
        if item == "M":
            layers.append(MaxPool2d(2, 2))
        elif item == "LRN":
            layers.append(LocalResponseNorm(**LRN_PAPER))  # AlexNet's settings
        else:
            size, width = (1, int(item.split("-")[1])) if isinstance(item, str) else (3, item)
            layers.append(Conv2d(channels, width, size, padding=size // 2))
            if batch_norm:
                layers.append(BatchNorm2d(width))
            layers.append(nn.ReLU(inplace=True))
            channels = width
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """Convolutions of a configuration, 7x7 adaptive average pool, three fully connected layers.

    (N, C, H, W) -> (N, num_classes); at 224x224 the pool is the identity, as in the paper.
    """

    def __init__(self, config="D", num_classes=1000, in_channels=3, batch_norm=False, dropout=0.5):
        super().__init__()
        if config not in CONFIGS:
            raise ValueError(f"VGG: config must be one of {', '.join(CONFIGS)}; got {config!r}")
        self.features = make_layers(CONFIGS[config], in_channels, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


for _name, _config in TORCHVISION.items():
    register(_name, lambda config=_config, **kw: VGG(config, **kw), torchvision=_name, doc=f"VGG configuration {_config}")
    register(f"{_name}_bn", lambda config=_config, **kw: VGG(config, batch_norm=True, **kw), torchvision=f"{_name}_bn",
             doc=f"VGG configuration {_config} with batch norm")
register("vgg11_lrn", lambda **kw: VGG("A-LRN", **kw), doc="VGG configuration A-LRN")
register("vgg16_c", lambda **kw: VGG("C", **kw), doc="VGG configuration C (with 1x1 convolutions)")
