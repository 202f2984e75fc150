"""Variants of convolution, as modules built from :class:`~cnncourse.layers.Conv2d`.

* 1x1 convolution and the bottleneck (1x1 reduce, 3x3, 1x1 expand; Lin et al., 2014; He et al., 2016);
* grouped convolution ("channel grouping"; Krizhevsky et al., 2012; Xie et al., 2017) is
  ``Conv2d(..., groups=g)``; depthwise is the extreme ``groups = channels``;
* depthwise separable convolution (Howard et al., 2017);
* dilated (atrous) convolution is ``Conv2d(..., dilation=d)`` (Yu & Koltun, 2016);
* factorised convolutions (Szegedy et al., 2016): n x n as two smaller ones.
"""

from __future__ import annotations

from torch import nn

from cnncourse.layers.conv import Conv2d
from cnncourse.layers.normalization import BatchNorm2d


class ConvBNAct(nn.Sequential):
    """Convolution (no bias), batch norm, activation: the unit modern blocks are made of.

    Indexed 0, 1, 2 like torchvision's ``Conv2dNormActivation``, so models built
    from it keep torchvision's state_dict keys. Padding keeps the size at stride 1.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, groups=1, activation=nn.ReLU):
        super().__init__(
            Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
            BatchNorm2d(out_channels),
            activation(inplace=True),
        )


class Bottleneck(nn.Sequential):
    """1x1 reduce to ``width`` channels, k x k at that width, 1x1 expand: (N, C, H, W) -> (N, C_out, H, W)."""

    def __init__(self, in_channels, width, out_channels, kernel_size=3):
        super().__init__(
            Conv2d(in_channels, width, 1), nn.ReLU(inplace=True),
            Conv2d(width, width, kernel_size, padding=kernel_size // 2), nn.ReLU(inplace=True),
            Conv2d(width, out_channels, 1),
        )


class DepthwiseSeparableConv2d(nn.Sequential):
    """A k x k convolution per channel (depthwise), then a 1x1 across channels (pointwise).

    Costs ``C_in k^2 + C_in C_out`` multiplies per position instead of
    ``C_in C_out k^2``: a ratio of ``1/C_out + 1/k^2``.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, bias=True):
        padding = kernel_size // 2 if padding is None else padding
        super().__init__(
            Conv2d(in_channels, in_channels, kernel_size, stride, padding, groups=in_channels, bias=bias),
            Conv2d(in_channels, out_channels, 1, bias=bias),
        )


class StackedConv2d(nn.Sequential):
    """``n`` k x k convolutions with ReLUs between them: receptive field n (k - 1) + 1.

    Two 3x3 replace a 5x5 and three 3x3 a 7x7 (Simonyan & Zisserman, 2015):
    the same receptive field with fewer weights and more non-linearities.
    """

    def __init__(self, in_channels, out_channels, n=2, kernel_size=3):
        if n < 1:
            raise ValueError(f"StackedConv2d: n must be at least 1; got {n!r}")
        layers = []
        for i in range(n):
            layers += [Conv2d(in_channels if i == 0 else out_channels, out_channels, kernel_size, padding=kernel_size // 2)]
            layers += [nn.ReLU(inplace=True)] if i < n - 1 else []
        super().__init__(*layers)


class AsymmetricConv2d(nn.Sequential):
    """An n x n convolution factorised into n x 1 then 1 x n (Szegedy et al., 2016): 2n instead of n^2 weights per pair of channels."""

    def __init__(self, in_channels, out_channels, n=3):
        super().__init__(
            Conv2d(in_channels, out_channels, (n, 1), padding=(n // 2, 0)), nn.ReLU(inplace=True),
            Conv2d(out_channels, out_channels, (1, n), padding=(0, n // 2)),
        )
