"""SegNet (Badrinarayanan, Kendall & Cipolla, 2017): an encoder-decoder that upsamples with the pooling indices.

The encoder is VGG16's 13 convolutions (conv-BN-ReLU) in five stages, each
ending in a 2x2 max pool that also returns where each maximum came from. The
decoder mirrors it: at each level it puts the values back at those positions
(max unpooling, :func:`cnncourse.layers.max_unpool2d`), a sparse map that
its convolutions densify; encoder convolution C_in -> C_out has the decoder
counterpart C_out -> C_in, and the counterpart of the first one scores the
classes. No fully connected layers: the encoder has 14.7M parameters instead
of VGG16's 134M.

``decoder="transposed"`` replaces each unpooling by a learned stride-2
transposed convolution, FCN's way of upsampling (Long et al., 2015; Noh et
al.'s DeconvNet, despite its name, unpools with the indices like SegNet and
its stride-1 deconvolution layers only densify): :class:`TransposedUpsample`.
With ``tied=True`` its kernel is the weight of the encoder convolution that
ended the same stage (shared, not copied), as Zeiler & Fergus's deconvnet
reuses its filters transposed: the lecture's "tied or retrained" choice. That
encoder convolution has stride 1 (pooling downsamples), so the tied layer
shares its kernel without being its exact adjoint.

Differences from the paper: the convolutions have no bias (batch norm follows
each one, making it redundant), and inputs must be multiples of 2^stages
(32 for VGG16) where the paper's Caffe pooling rounds odd sizes up.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers import Conv2d, MaxPool2d, conv_transpose2d, max_unpool2d
from cnncourse.layers.kernels import torch_kernels
from cnncourse.segmentation._common import ConvBNReLU, check_classes, check_input, resolve_config

# The 3x3 convolution widths of each pooling stage; "vgg16" is configuration D of Simonyan & Zisserman (2015).
CONFIGS = {
    "small": [[16, 16], [32, 32], [64, 64], [64, 64]],
    "vgg16": [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
}
DECODERS = ("unpool", "transposed")
# SegNet(num_classes, config="vgg16") has 29,435,072 + 577 * num_classes parameters (29,441,419 for CamVid's 11
# classes), 14,718,912 of them in the encoder (VGG16's 14,714,688 less 4,224 biases plus batch norm's 8,448).
# decoder="transposed" adds 5,492,736 own upsampling kernels; tied=True shares them, back to SegNet's count.


class MaxUnpool(nn.Module):
    """2x2 max unpooling: (N, C, h, w) values and their pooling indices -> (N, C, 2h, 2w), zeros elsewhere."""

    def forward(self, input, indices):
        return max_unpool2d(input, indices, 2)


class TransposedUpsample(nn.Module):
    """Learned 2x upsampling: (N, C, h, w) -> (N, C, 2h, 2w), a 3x3 transposed convolution with stride 2.

    ``tied_to`` is an encoder ``Conv2d`` (C -> C, 3x3) whose weight serves as
    the kernel: one parameter for both, so the decoder's gradient reaches the
    encoder's weight. Without it the layer learns its own (C, C, 3, 3) kernel.
    """

    def __init__(self, channels, tied_to=None):
        super().__init__()
        self.tied_to = tied_to
        if tied_to is None:
            self.weight = nn.Parameter(torch.empty(channels, channels, 3, 3))
            nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.ConvTranspose2d's initialisation
        elif tuple(tied_to.weight.shape) != (channels, channels, 3, 3):
            raise ValueError(f"TransposedUpsample: tied_to must be a {channels} -> {channels} 3x3 convolution; "
                             f"got weight of shape {tuple(tied_to.weight.shape)}")

    def kernel(self) -> nn.Parameter:
        return self.weight if self.tied_to is None else self.tied_to.weight

    @property
    def macs_per_input(self) -> int:
        """What :func:`cnncourse.analysis.count_macs` charges per input value: a C x 3 x 3 stamp."""
        return self.kernel()[0].numel()

    def forward(self, input, indices=None):
        """``indices`` (the unpooling's) are ignored: the upsampling is learned."""
        transposed = F.conv_transpose2d if torch_kernels() else conv_transpose2d
        return transposed(input, self.kernel(), None, stride=2, padding=1, output_padding=1)


class SegNet(nn.Module):
    """SegNet: (N, in_channels, H, W) -> (N, num_classes, H, W) logits, H and W multiples of 2^stages.

    ``config`` is a key of :data:`CONFIGS` ("small" trains on 64x64 scenes on
    a CPU, "vgg16" is the paper's network) or a list of stages, each a list
    of conv widths. ``decoder`` is "unpool" (SegNet) or "transposed"; ``tied``
    (transposed only) shares each upsampling kernel with the encoder
    convolution ending the same stage, which must then map C -> C.
    """

    def __init__(self, num_classes, in_channels=3, config="small", decoder="unpool", tied=False):
        super().__init__()
        check_classes("SegNet", num_classes, in_channels)
        if decoder not in DECODERS:
            raise ValueError(f"SegNet: decoder must be one of {DECODERS}; got {decoder!r}")
        if tied and decoder != "transposed":
            raise ValueError(f"SegNet: tied=True needs decoder='transposed'; got decoder={decoder!r}")
        stages = resolve_config("SegNet", config, CONFIGS, "a list of stages")
        self.in_channels, self.multiple = in_channels, 2 ** len(stages)
        self.encoder, self.upsample, self.decoder = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        channels = in_channels
        for s, stage in enumerate(stages):
            pairs = list(zip([channels, *stage[:-1]], stage))  # (C_in, C_out) of each convolution
            encoder = nn.Sequential(*(ConvBNReLU(c_in, c_out) for c_in, c_out in pairs))
            mirror = [ConvBNReLU(c_out, c_in) for c_in, c_out in reversed(pairs)]
            if s == 0:  # the mirror of the first convolution scores the classes
                mirror[-1] = Conv2d(stage[0], num_classes, 3, padding=1)
            if decoder == "unpool":
                upsample = MaxUnpool()
            else:
                last = encoder[-1][0]
                if tied and last.in_channels != last.out_channels:
                    raise ValueError(f"SegNet: tied=True needs every stage's last convolution to map C -> C; "
                                     f"stage {s} ends with {last.in_channels} -> {last.out_channels}")
                upsample = TransposedUpsample(stage[-1], tied_to=last if tied else None)
            self.encoder.append(encoder)
            self.upsample.append(upsample)
            self.decoder.append(nn.Sequential(*mirror))
            channels = stage[-1]
        self.pool = MaxPool2d(2, 2, return_indices=True)

    def forward(self, input):
        check_input("SegNet", input, self.in_channels, multiple=self.multiple)
        x, indices = input, []
        for stage in self.encoder:
            x, where = self.pool(stage(x))
            indices.append(where)
        for s in reversed(range(len(self.encoder))):
            x = self.decoder[s](self.upsample[s](x, indices[s]))
        return x
