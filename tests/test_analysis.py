import pytest
import torch
from torch import nn

from cnncourse.analysis import conv_output_size, count_macs, count_params, receptive_field
from cnncourse.layers import conv2d


@pytest.mark.parametrize("size, k, s, p, d", [(32, 5, 1, 0, 1), (224, 7, 2, 3, 1), (13, 3, 2, 1, 2), (9, 4, 3, 2, 1), (56, 1, 2, 0, 1)])
def test_conv_output_size_matches_a_real_convolution(size, k, s, p, d):
    out = conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
    assert conv_output_size(size, k, s, p, d) == out.shape[-1]
    assert conv_output_size((size, size), k, s, p, d) == tuple(out.shape[-2:])


def test_conv_output_size_same_valid_and_errors():
    assert conv_output_size(17, 4, padding="same") == 17
    assert conv_output_size(17, 4, padding="valid") == 14
    with pytest.raises(ValueError, match="stride"):
        conv_output_size(17, 3, stride=0)
    with pytest.raises(ValueError, match="spans 7 > padded input 5"):
        conv_output_size(5, 7)


def test_receptive_field_of_stacked_3x3_is_7x7_and_matches_gradient_support():
    assert receptive_field([(3, 1)] * 3)[-1] == (7, 1)
    layers = [(3, 1), (2, 2), (3, 1, 2)]
    (rf, jump) = receptive_field(layers)[-1]
    # Empirical check: the input pixels that influence one output unit.
    x = torch.zeros(1, 1, 40, 40, requires_grad=True)
    y = x
    for k, s, *d in layers:
        y = conv2d(y, torch.ones(1, 1, k, k), stride=s, dilation=d[0] if d else 1)
    y[0, 0, 3, 3].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero()
    assert rows.max() - rows.min() + 1 == rf
    assert jump == 2


def test_count_params_and_macs_of_a_small_network():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, groups=2), nn.Flatten(), nn.Linear(16 * 7 * 7, 10))
    assert count_params(model) == (3 * 9 * 8 + 8) + (4 * 9 * 16 + 16) + (784 * 10 + 10)
    assert count_macs(model, (3, 16, 16)) == 16 * 16 * 8 * 27 + 7 * 7 * 16 * 36 + 784 * 10
    model[0].weight.requires_grad_(False)
    assert count_params(model, trainable_only=True) == count_params(model) - 3 * 9 * 8
