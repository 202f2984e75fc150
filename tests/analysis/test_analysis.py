import pytest
import torch
from torch import nn

from cnncourse.analysis import conv_output_size, count_macs, count_params, grad_norms, receptive_field
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


# --- The lecture's tables and arguments, asserted exactly ---------------------------------------

from cnncourse.analysis import summary  # noqa: E402
from cnncourse.layers import Conv2d  # noqa: E402


def test_exercise_network_units_and_weights_per_layer():
    """The lecture's exercise: 256x256x3 input, conv 16@4x4 (zero padding), pool 4/4, conv 32@4x4, pool 4/4, FC 10."""
    net = nn.Sequential(
        Conv2d(3, 16, 4, padding="same", bias=False), nn.MaxPool2d(4, 4),
        Conv2d(16, 32, 4, padding="same", bias=False), nn.MaxPool2d(4, 4),
        nn.Flatten(), nn.Linear(8192, 10, bias=False),
    )
    rows = [r for r in summary(net, (3, 256, 256)).rows if r["depth"] == 1]
    units = [int(torch.tensor(r["output"]).prod()) for r in rows]
    weights = [r["params"] for r in rows]
    assert units == [256 * 256 * 16, 64 * 64 * 16, 64 * 64 * 32, 16 * 16 * 32, 8192, 10]
    assert weights == [4 * 4 * 3 * 16, 0, 4 * 4 * 16 * 32, 0, 0, 8192 * 10]


def test_bottleneck_saves_multiplies_590k_vs_70k_per_position():
    h = w = 14
    plain = nn.Conv2d(256, 256, 3, padding=1, bias=False)
    bottleneck = nn.Sequential(nn.Conv2d(256, 64, 1, bias=False), nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.Conv2d(64, 256, 1, bias=False))
    per_position = count_macs(plain, (256, h, w)) // (h * w)
    reduced = count_macs(bottleneck, (256, h, w)) // (h * w)
    assert per_position == 3 * 3 * 256 * 256 == 589_824 and round(per_position / 1000) == 590
    assert reduced == 256 * 64 + 3 * 3 * 64 * 64 + 64 * 256 == 69_632 and round(reduced / 1000) == 70


def test_three_stacked_3x3_see_7x7_with_27_instead_of_49_c_squared_weights():
    c = 16
    stacked = nn.Sequential(*[nn.Conv2d(c, c, 3, padding=1, bias=False) for _ in range(3)])
    single = nn.Conv2d(c, c, 7, padding=3, bias=False)
    assert summary(stacked, (c, 20, 20)).rows[-1]["rf"] == (7, 7)
    assert summary(single, (c, 20, 20)).rows[-1]["rf"] == (7, 7)
    assert count_params(stacked) == 27 * c * c and count_params(single) == 49 * c * c


def test_summary_totals_agree_with_count_functions_and_render():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 4, 3, dilation=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    s = summary(model, (3, 41, 41))
    assert s.total_params == count_params(model) and s.total_macs == count_macs(model, (3, 41, 41))
    rfs = [r["rf"] for r in s.rows if r["depth"] == 1]
    assert rfs[:4] == [(3, 3), (3, 3), (5, 5), (5 + 2 * 2 * 4, 5 + 2 * 2 * 4)] and rfs[4] == "global"
    assert "parameters" in str(s) and s._repr_html_().startswith("<table>")


def test_grad_norms_match_the_gradients_and_need_a_backward_pass():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    with pytest.raises(ValueError, match="call loss.backward"):
        grad_norms(model)
    model(torch.randn(5, 1, 6, 6)).square().sum().backward()
    norms = grad_norms(model)
    assert list(norms) == ["0", "3"]
    assert norms["3"] == pytest.approx(float(model[3].weight.grad.norm()))


def test_count_macs_counts_a_transposed_convolution_per_input_value():
    from torch import nn as tnn

    from cnncourse.analysis import count_macs
    up = tnn.ConvTranspose2d(4, 6, kernel_size=3, stride=2, groups=2)
    # every input value is multiplied by a (6 / 2) x 3 x 3 stamp of weights
    assert count_macs(up, (4, 5, 7)) == 4 * 5 * 7 * 3 * 3 * 3
    # the same count as the direct convolution it is the transpose of, seen from the other side
    conv = tnn.Conv2d(6, 4, kernel_size=3, stride=2, groups=2)
    assert count_macs(conv, (6, 11, 15)) == count_macs(up, (4, 5, 7))
