"""FCN-32s, FCN-16s and FCN-8s (Long, Shelhamer & Darrell, 2015): a classifier made fully convolutional.

A VGG-like backbone with five 2x2 max pools (total stride 32) computes
features; its fully connected layers become convolutions (fc6 a k x k
convolution, fc7 and the class scorer 1x1), giving a coarse map of class
scores at 1/32 of the input. Transposed convolutions initialised to bilinear
interpolation (:func:`cnncourse.layers.bilinear_transposed_conv`) upsample it.
The skip architecture refines the coarse prediction with finer layers: FCN-16s
upsamples the scores 2x, adds scores predicted from pool4 (stride 16) and
upsamples 16x; FCN-8s does the same once more with pool3 (stride 8) and
upsamples 8x. The fusion (:func:`fuse`, :class:`SkipFusion`) is a sum.

Differences from the paper, all for any-size inputs without cropping: the
paper pads conv1_1 by 100 pixels and crops every fused map to align it; here
every convolution has 'same' padding (fc6 too) and inputs must be multiples
of 32, so all maps align exactly and the output is H x W. The paper also
learns the fusion layers in stages (32s, then 16s, then 8s), keeps the final
upsampling fixed, and scales the pool3/pool4 features in its "at-once"
variant; here every layer is trainable.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d, Dropout, MaxPool2d, bilinear_transposed_conv
from cnncourse.segmentation._common import check_classes, check_input, resolve_config

# ``stages``: the 3x3 convolution widths of each of the five pooling stages (VGG16 is configuration D of
# Simonyan & Zisserman, 2015); ``fc``: the width of fc6 and fc7; ``fc_kernel``: fc6's kernel (7 = VGG's
# 512 x 7 x 7 input of its first Linear layer); ``dropout``: after fc6 and fc7.
CONFIGS = {
    "small": dict(stages=[[16, 16], [32, 32], [64, 64], [64, 64], [64, 64]], fc=128, fc_kernel=1, dropout=0.0),
    "vgg16": dict(stages=[[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
                  fc=4096, fc_kernel=7, dropout=0.5),
}
# Which pooling outputs each variant fuses, coarsest first: pool4 (index 3, stride 16), pool3 (index 2, stride 8).
VARIANTS = {"32s": [], "16s": [3], "8s": [3, 2]}
# With 21 classes (PASCAL VOC), FCN(21, config="vgg16", variant="8s") has 134,489,759 parameters: 14,714,688
# in the 13 convolutions, 119,545,856 in fc6 and fc7, 229,215 in the scoring and upsampling layers. FCN-16s has
# 134,815,994 and FCN-32s 136,152,917 (its 64x64 upsampling kernel alone is 21 * 21 * 64 * 64 = 1,806,336).


def fuse(coarse_scores, skip_scores):
    """Skip fusion: the sum of upsampled coarse scores and scores from a finer layer, both (N, K, h, w).

    Long et al. (2015) crop the finer map to the coarser one before adding;
    here both already have the same size (see the module docstring), and a
    mismatch is an error.
    """
    if coarse_scores.shape != skip_scores.shape:
        raise ValueError(f"fuse: coarse_scores and skip_scores must have the same shape; "
                         f"got {tuple(coarse_scores.shape)} and {tuple(skip_scores.shape)}")
    return coarse_scores + skip_scores


class SkipFusion(nn.Module):
    """One skip of FCN: (N, K, h, w) scores and (N, C, 2h, 2w) features -> (N, K, 2h, 2w) fused scores.

    A 1x1 convolution scores the finer features (initialised to zero, as in
    the paper, so the network starts out as its coarser version), a 2x
    transposed convolution initialised to bilinear upsampling brings the
    coarse scores to the finer grid, and :func:`fuse` adds them.
    """

    def __init__(self, channels, num_classes):
        super().__init__()
        self.score = Conv2d(channels, num_classes, 1)
        nn.init.zeros_(self.score.weight)
        nn.init.zeros_(self.score.bias)
        self.upsample = bilinear_transposed_conv(num_classes, 2)

    def forward(self, coarse_scores, features):
        return fuse(self.upsample(coarse_scores), self.score(features))


def _norm(channels, batch_norm):
    return [BatchNorm2d(channels)] if batch_norm else []


class FCN(nn.Module):
    """Fully convolutional network: (N, in_channels, H, W) -> (N, num_classes, H, W) logits, H and W multiples of 32.

    ``variant`` is "32s", "16s" or "8s" (the stride of the last upsampling);
    ``config`` a key of :data:`CONFIGS` ("small" trains on 64x64 scenes on a
    CPU; "vgg16" is the paper's network) or a dict like them. ``batch_norm=True`` adds batch
    normalisation after every convolution of the encoder and after fc6 and fc7 (not in the
    paper, which fine-tunes an ImageNet-trained VGG16; it lets the small network train from
    scratch in a few hundred steps).
    """

    def __init__(self, num_classes, in_channels=3, variant="8s", config="small", batch_norm=False):
        super().__init__()
        check_classes("FCN", num_classes, in_channels)
        if variant not in VARIANTS:
            raise ValueError(f"FCN: variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
        cfg = resolve_config("FCN", config, CONFIGS, "a dict")
        if len(cfg["stages"]) != 5:
            raise ValueError(f"FCN: config must have 5 pooling stages (stride 32); got {len(cfg['stages'])}")
        self.in_channels, self.variant = in_channels, variant
        self.stages, widths, channels = nn.ModuleList(), [], in_channels
        for stage in cfg["stages"]:
            layers = []
            for width in stage:
                layers += [Conv2d(channels, width, 3, padding=1, bias=not batch_norm), *_norm(width, batch_norm),
                           nn.ReLU(inplace=True)]
                channels = width
            self.stages.append(nn.Sequential(*layers, MaxPool2d(2, 2)))
            widths.append(channels)
        fc, k, p = cfg["fc"], cfg["fc_kernel"], cfg["dropout"]
        self.classifier = nn.Sequential(  # fc6, fc7 and the class scorer, as convolutions
            Conv2d(channels, fc, k, padding=k // 2, bias=not batch_norm), *_norm(fc, batch_norm),
            nn.ReLU(inplace=True), Dropout(p),
            Conv2d(fc, fc, 1, bias=not batch_norm), *_norm(fc, batch_norm), nn.ReLU(inplace=True), Dropout(p),
            Conv2d(fc, num_classes, 1),
        )
        self.skips = VARIANTS[variant]
        self.fusions = nn.ModuleList(SkipFusion(widths[i], num_classes) for i in self.skips)
        self.upsample = bilinear_transposed_conv(num_classes, 2 ** (5 - len(self.skips)))

    def encode(self, input) -> list:
        """The five pooling outputs pool1..pool5, (N, C_i, H / 2^i, W / 2^i)."""
        check_input("FCN", input, self.in_channels, multiple=32)
        pools, x = [], input
        for stage in self.stages:
            x = stage(x)
            pools.append(x)
        return pools

    def decode(self, pools) -> torch.Tensor:
        """Class scores from the pooling outputs: fc layers on pool5, skips fused, upsampled to the input size."""
        scores = self.classifier(pools[-1])
        for i, fusion in zip(self.skips, self.fusions):
            scores = fusion(scores, pools[i])
        return self.upsample(scores)

    def forward(self, input):
        return self.decode(self.encode(input))
