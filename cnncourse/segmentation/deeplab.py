"""DeepLab (Chen et al., 2015, 2017, 2018): atrous convolution, atrous spatial pyramid pooling.

A classification network pools its maps down by 32; upsampling that to the
input size gives blobs. DeepLab keeps the resolution instead: the last
pooling layers get stride 1, and every convolution after them is *atrous*
(dilated, ``Conv2d(..., dilation=r)``): its 3x3 taps sit r pixels apart, so
each layer still sees as far as it did on the subsampled map, with the same
weights, but computes a dense output. The network stops at ``output_stride``
8 (or 16), and bilinear interpolation brings the scores to the input size.

* **v1** (Chen et al., 2015; "DeepLab-LargeFOV"): VGG-16 with pool4 and pool5
  at stride 1, conv5 at rate 2, fc6 as a 3x3 convolution at rate 12 with
  1024 filters, fc7 as a 1x1 one, a 1x1 classifier. A fully connected CRF
  (:mod:`cnncourse.segmentation.crf`) sharpens the boundaries afterwards.
* **v3** (Chen et al., 2017): the same atrous backbone followed by
  :class:`ASPP`, parallel atrous convolutions at several rates plus an
  image-level pooling branch (the v2 pyramid of Chen et al., 2018, with
  batch norm and global context), no CRF.

The backbone is a table of VGG stages ``(channels, convolutions)``: ``VGG16``
is the paper's, ``SMALL`` trains on 64x64 scenes on a CPU. Deviations: every
convolution is followed by batch norm (v1 had none); v3 here sits on the VGG
backbone, not on the paper's ResNet-101 with multi-grid rates.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d, Dropout, MaxPool2d, upsample_bilinear
from cnncourse.segmentation._common import ConvBNReLU, check_classes, check_input

VGG16 = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # Simonyan & Zisserman (2015), configuration D
SMALL = ((16, 1), (32, 1), (64, 2), (64, 2), (64, 1))
VERSIONS = ("v1", "v3")
# The papers' configurations: v1 is DeepLab-LargeFOV (Table 2 of Chen et al., 2015: 20.5M parameters);
# v3 trains at output stride 16 with rates (6, 12, 18) and 256-channel ASPP branches.
PAPER = {
    "v1": dict(widths=VGG16, head_channels=1024, output_stride=8, fov_rate=12),
    "v3": dict(widths=VGG16, head_channels=256, output_stride=16, rates=(6, 12, 18)),
}


def atrous_backbone(widths, in_channels=3, output_stride=8) -> nn.Sequential:
    """VGG stages of 3x3 conv-BN-ReLU, each ending in a 3x3 max pool.

    Pools halve the map until the total stride reaches ``output_stride``;
    the later ones keep stride 1 and double the dilation of every
    convolution after them, which keeps their field of view.
    (N, C_in, H, W) -> (N, widths[-1][0], H / output_stride, W / output_stride).
    """
    layers, channels, stride, dilation = [], in_channels, 1, 1
    for width, convs in widths:
        for _ in range(convs):
            layers.append(ConvBNReLU(channels, width, 3, dilation=dilation))
            channels = width
        if stride < output_stride:
            layers.append(MaxPool2d(3, 2, padding=1))
            stride *= 2
        else:
            layers.append(MaxPool2d(3, 1, padding=1))
            dilation *= 2
    return nn.Sequential(*layers)


class ImagePooling(nn.Sequential):
    """DeepLab v3's image-level features: global average pool, 1x1 conv-BN-ReLU, back to the map's size.

    (N, C_in, H, W) -> (N, C_out, H, W), the same vector at every position.
    """

    def __init__(self, in_channels, out_channels):
        super().__init__(nn.AdaptiveAvgPool2d(1), Conv2d(in_channels, out_channels, 1, bias=False),
                         BatchNorm2d(out_channels), nn.ReLU(inplace=True))

    def forward(self, x):
        # Bilinear upsampling of a 1x1 map (what the paper does) repeats its value: a broadcast, exactly.
        return super().forward(x).expand(-1, -1, *x.shape[-2:])


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling (Chen et al., 2018; with image pooling, 2017).

    Parallel branches on the same map: a 1x1 conv, one 3x3 atrous conv per
    rate in ``rates`` (each conv-BN-ReLU with ``out_channels`` filters) and,
    with ``image_pooling``, :class:`ImagePooling`; concatenated, then a 1x1
    conv-BN-ReLU projection and dropout. (N, C_in, H, W) -> (N, out_channels, H, W).

    Each rate sees objects at another scale. A rate at least as large as the
    map is no longer a 3x3 filter: only its centre tap lands inside the map (the
    rest reads padding), which is why v3 adds the image-level branch for the
    global context. Module names follow torchvision's ``ASPP`` (``convs``,
    ``project``), so its state_dict loads.
    """

    def __init__(self, in_channels, out_channels=256, rates=(6, 12, 18), image_pooling=True, dropout=0.5):
        super().__init__()
        rates = tuple(rates)
        if any(not isinstance(r, int) or isinstance(r, bool) or r < 1 for r in rates):
            raise ValueError(f"ASPP: rates must be positive ints; got {rates!r}")
        branches = [ConvBNReLU(in_channels, out_channels, 1)]
        branches += [ConvBNReLU(in_channels, out_channels, 3, dilation=r) for r in rates]
        if image_pooling:
            branches.append(ImagePooling(in_channels, out_channels))
        self.rates, self.image_pooling = rates, image_pooling
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(
            Conv2d(len(branches) * out_channels, out_channels, 1, bias=False), BatchNorm2d(out_channels),
            nn.ReLU(inplace=True), Dropout(dropout),
        )

    def forward(self, x):
        return self.project(torch.cat([branch(x) for branch in self.convs], dim=1))

    def extra_repr(self):
        return f"rates={self.rates}, image_pooling={self.image_pooling}"


class DeepLab(nn.Module):
    """DeepLab v1 (LargeFOV head) or v3 (ASPP head) on an atrous VGG backbone: (N, C, H, W) -> (N, num_classes, H, W).

    ``widths`` is the backbone table (``VGG16``, ``SMALL``); ``head_channels``
    the width of fc6/fc7 (v1) or of the ASPP branches (v3); ``fov_rate`` fc6's
    rate (v1); ``rates`` the ASPP rates (v3). H and W must be multiples of
    ``output_stride``. ``backbone`` gives the features at 1/output_stride.
    :func:`deeplab_paper` builds the papers' sizes.
    """

    def __init__(self, num_classes, in_channels=3, version="v1", widths=SMALL, head_channels=128, output_stride=8,
                 rates=(6, 12, 18), fov_rate=12, dropout=0.5):
        super().__init__()
        check_classes("DeepLab", num_classes, in_channels)
        if version not in VERSIONS:
            raise ValueError(f"DeepLab: version must be one of {VERSIONS}; got {version!r}")
        strides = [2**k for k in range(len(widths) + 1)]
        if output_stride not in strides:
            raise ValueError(f"DeepLab: output_stride must be one of {strides} for {len(widths)} stages; "
                             f"got {output_stride!r}")
        self.in_channels, self.version, self.output_stride = in_channels, version, output_stride
        self.backbone = atrous_backbone(widths, in_channels, output_stride)
        channels = widths[-1][0]
        if version == "v1":
            self.head = nn.Sequential(
                ConvBNReLU(channels, head_channels, 3, dilation=fov_rate), Dropout(dropout),  # fc6
                ConvBNReLU(head_channels, head_channels, 1), Dropout(dropout),               # fc7
            )
        else:
            self.head = ASPP(channels, head_channels, rates, image_pooling=True, dropout=dropout)
        self.classifier = Conv2d(head_channels, num_classes, 1)

    def forward(self, x):
        check_input("DeepLab", x, self.in_channels, self.output_stride)
        scores = self.classifier(self.head(self.backbone(x)))
        return upsample_bilinear(scores, size=tuple(x.shape[-2:]))


def deeplab_paper(num_classes=21, in_channels=3, version="v1") -> DeepLab:
    """DeepLab at the paper's size (``PAPER``): v1 LargeFOV on VGG-16; v3's ASPP on the same backbone."""
    if version not in VERSIONS:
        raise ValueError(f"deeplab_paper: version must be one of {VERSIONS}; got {version!r}")
    return DeepLab(num_classes, in_channels, version, **PAPER[version])


def valid_taps(size: int, rate: int, kernel_size: int = 3) -> float:
    """Mean number of a k x k atrous filter's taps inside a size x size map (zero padding).

    Chen et al. (2017, Figure 4): as the rate approaches the map's size, a 3x3 filter degenerates to its
    centre tap, a 1x1 convolution. Computed by convolving a map of ones with a dilated filter of ones.
    """
    for name, value in (("size", size), ("rate", rate), ("kernel_size", kernel_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"valid_taps: {name} must be a positive int; got {value!r}")
    ones = torch.ones(1, 1, size, size)
    pad = rate * (kernel_size - 1) // 2
    return F.conv2d(ones, torch.ones(1, 1, kernel_size, kernel_size), padding=pad, dilation=rate).mean().item()
