import torch

from cnncourse.analysis import count_macs, count_params, receptive_field
from cnncourse.layers.variants import AsymmetricConv2d, Bottleneck, ConvBNAct, DepthwiseSeparableConv2d, StackedConv2d


def test_shapes_are_preserved():
    x = torch.randn(2, 16, 12, 12)
    for module in [Bottleneck(16, 4, 32), DepthwiseSeparableConv2d(16, 32), StackedConv2d(16, 32, 3), AsymmetricConv2d(16, 32, 5), ConvBNAct(16, 32, 3)]:
        assert module(x).shape == (2, 32, 12, 12)


def test_depthwise_separable_cost_ratio_is_1_over_n_plus_1_over_k2():
    c_in, c_out, k, hw = 32, 64, 3, (14, 14)
    full = torch.nn.Conv2d(c_in, c_out, k, padding=1, bias=False)
    separable = DepthwiseSeparableConv2d(c_in, c_out, k, bias=False)
    ratio = count_macs(separable, (c_in, *hw)) / count_macs(full, (c_in, *hw))
    assert ratio == 1 / c_out + 1 / k**2


def test_factorisations_keep_the_receptive_field_with_fewer_weights():
    c = 8
    assert receptive_field([(3, 1)] * 2)[-1][0] == 5 and receptive_field([(3, 1)] * 3)[-1][0] == 7
    assert count_params(StackedConv2d(c, c, n=3)) - 3 * c == 27 * c * c  # three 3x3: 27 C^2 weights
    assert count_params(torch.nn.Conv2d(c, c, 7)) - c == 49 * c * c        # one 7x7: 49 C^2
    asym = AsymmetricConv2d(c, c, 5)
    assert count_params(asym) - 2 * c == 10 * c * c                       # 5x1 + 1x5: 10 C^2 instead of 25 C^2
    y = torch.zeros(1, c, 11, 11, requires_grad=True)
    out = asym(y)
    out[0, 0, 5, 5].backward()
    support = y.grad[0].abs().sum(0) > 0
    assert support.sum(0).max() == 5 and support.sum(1).max() == 5
