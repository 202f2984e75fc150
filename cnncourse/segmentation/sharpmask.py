"""SharpMask-style top-down refinement (Pinheiro et al., 2016), adapted to semantic segmentation.

A feedforward network predicts a coarse mask from its top layer only: it
knows *what* is there but has lost *where* the boundary runs. Skip
architectures (FCN) average independent predictions from several layers.
SharpMask instead adds a top-down path: starting from the coarse mask
features, each :class:`RefinementModule` merges them with the bottom-up
features of the same scale and upsamples by 2, so that semantic evidence
from the top decides and low-level features place the boundary:

    S = conv3x3(F)                 (the skip features, k_s channels; we take k_s = k_m)
    M' = up2(conv3x3([M, S]))      (the refined mask features, k_m' channels)

each conv with ReLU. SharpMask proposes *object masks* (one mask per
proposal window, on top of DeepMask's ResNet-50 trunk); :class:`SharpMaskNet`
is our adaptation to semantic segmentation: a small encoder of stride-2
stages, one refinement module per stage back to full resolution, and a 1x1
classifier for per-pixel logits. Deviations: batch norm after every
convolution (the paper has none), bilinear upsampling as in the paper's
text (the released code uses nearest neighbour).

``SMALL`` and ``PAPER`` are ``(widths, mask_widths)`` tables: encoder
channels per stage (1/2, 1/4, ...) and mask channels k_m entering each
refinement module, plus the last one's output. ``PAPER`` has the paper's
k_m = 32, halved by every module, on skips with ResNet-50's widths (64, 256,
512, 1024 at 1/2 ... 1/16); its encoder is still our plain one.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import Conv2d, upsample_bilinear
from cnncourse.segmentation._common import ConvBNReLU, check_classes, check_input

SMALL = {"widths": (16, 32, 64, 64), "mask_widths": (32, 32, 32, 16, 16)}
PAPER = {"widths": (64, 256, 512, 1024), "mask_widths": (32, 16, 8, 4, 2)}


class RefinementModule(nn.Module):
    """Refine coarse mask features with the bottom-up features of the same scale, then upsample by 2.

    ``mask`` (N, mask_channels, H, W) and ``features`` (N, skip_channels, H, W)
    -> (N, out_channels, 2H, 2W). The skip features first go through a 3x3
    conv to ``mask_channels`` channels (k_s = k_m), so that the merge sees
    both equally, whatever the width of the bottom-up layer.
    """

    def __init__(self, mask_channels, skip_channels, out_channels):
        super().__init__()
        self.skip = ConvBNReLU(skip_channels, mask_channels)
        self.merge = ConvBNReLU(2 * mask_channels, out_channels)

    def forward(self, mask, features):
        if mask.dim() != 4 or features.dim() != 4 or mask.shape[-2:] != features.shape[-2:]:
            raise ValueError(f"RefinementModule: mask and features must be (N, C, H, W) maps of the same size; "
                             f"got {tuple(mask.shape)} and {tuple(features.shape)}")
        merged = self.merge(torch.cat([mask, self.skip(features)], dim=1))
        return upsample_bilinear(merged, scale_factor=2)


class SharpMaskNet(nn.Module):
    """Encoder of stride-2 stages, refinement modules back to full resolution, 1x1 classifier.

    (N, C, H, W) -> (N, num_classes, H, W), H and W multiples of 2^len(widths).
    Stage i (two 3x3 conv-BN-ReLU, the first with stride 2) gives the
    features at 1/2^(i+1); a 3x3 conv-BN-ReLU turns the deepest ones into
    the coarse mask features (``mask_widths[0]`` channels), and module j
    refines them with the features of stage ``len(widths) - 1 - j``.
    """

    def __init__(self, num_classes, in_channels=3, widths=SMALL["widths"], mask_widths=SMALL["mask_widths"]):
        super().__init__()
        check_classes("SharpMaskNet", num_classes, in_channels)
        widths, mask_widths = tuple(widths), tuple(mask_widths)
        if not widths or len(mask_widths) != len(widths) + 1:
            raise ValueError(f"SharpMaskNet: mask_widths needs one entry per refinement module plus the output "
                             f"({len(widths) + 1} for {len(widths)} stages); got {mask_widths!r}")
        self.in_channels, self.multiple = in_channels, 2 ** len(widths)
        stages, channels = [], in_channels
        for width in widths:
            stages.append(nn.Sequential(ConvBNReLU(channels, width, 3, stride=2), ConvBNReLU(width, width)))
            channels = width
        self.encoder = nn.ModuleList(stages)
        self.top = ConvBNReLU(widths[-1], mask_widths[0])
        self.refine = nn.ModuleList(RefinementModule(mask_widths[j], skip, mask_widths[j + 1])
                                    for j, skip in enumerate(reversed(widths)))
        self.classifier = Conv2d(mask_widths[-1], num_classes, 1)

    def forward(self, x):
        check_input("SharpMaskNet", x, self.in_channels, self.multiple)
        features = []
        for stage in self.encoder:
            x = stage(x)
            features.append(x)
        mask = self.top(x)
        for module, skip in zip(self.refine, reversed(features)):
            mask = module(mask, skip)
        return self.classifier(mask)
