"""conv2d / conv1d (both implementations) against torch.nn.functional, values and gradients."""

import random

import pytest
import torch
import torch.nn.functional as F

from cnncourse.layers import Conv1d, Conv2d, conv1d, conv2d, conv2d_loops


def random_case(seed, small):
    """A random valid convolution: shapes, stride, padding (int/tuple/'same'/'valid'), dilation, groups."""
    rng = random.Random(seed)
    groups = rng.choice([1, 1, 2, 3])
    c_in, c_out = groups * rng.randint(1, 2 if small else 4), groups * rng.randint(1, 2 if small else 4)
    kh, kw = rng.randint(1, 4), rng.randint(1, 4)
    dilation = rng.choice([1, 1, 2, (1, 2)])
    dh, dw = dilation if isinstance(dilation, tuple) else (dilation, dilation)
    padding = rng.choice([0, 1, (2, 0), "valid", "same"])
    stride = 1 if padding == "same" else rng.choice([1, 2, (1, 3), 3])
    h = rng.randint(dh * (kh - 1) + 1, 8 if small else 17) + 1
    w = rng.randint(dw * (kw - 1) + 1, 8 if small else 17) + 1
    n = rng.randint(1, 2 if small else 3)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return (n, c_in, h, w), (c_out, c_in // groups, kh, kw), kwargs


def check_against_torch(impl, shape_x, shape_w, kwargs, bias=True):
    """Values and gradients equal to F.conv2d's: to 1e-10 in float64 (the same arithmetic), and in
    float32 to a tolerance that leaves room for a different summation order."""
    for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 1e-4)):
        torch.manual_seed(0)
        x = torch.randn(shape_x, dtype=dtype, requires_grad=True)
        w = torch.randn(shape_w, dtype=dtype, requires_grad=True)
        b = torch.randn(shape_w[0], dtype=dtype, requires_grad=True) if bias else None
        ours = impl(x, w, b, **kwargs)
        ref = F.conv2d(x, w, b, **kwargs)
        assert ours.shape == ref.shape and ours.dtype == dtype
        torch.testing.assert_close(ours, ref, atol=tol, rtol=tol)
        grad_out = torch.randn_like(ref)
        params = [x, w] + ([b] if bias else [])
        ours_grads = torch.autograd.grad(ours, params, grad_out)
        ref_grads = torch.autograd.grad(ref, params, grad_out)
        for got, expected in zip(ours_grads, ref_grads):
            torch.testing.assert_close(got, expected, atol=tol, rtol=tol)


@pytest.mark.parametrize("seed", range(40))
def test_conv2d_im2col_matches_torch(seed):
    check_against_torch(conv2d, *random_case(seed, small=False), bias=seed % 3 != 0)


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_loops_matches_torch(seed):
    check_against_torch(conv2d_loops, *random_case(seed, small=True), bias=seed % 3 != 0)


@pytest.mark.parametrize("padding", ["same", "valid", 0, 2])
@pytest.mark.parametrize("kernel", [2, 3, 4])
def test_even_and_odd_kernels_same_padding(padding, kernel):
    check_against_torch(conv2d, (1, 2, 7, 6), (3, 2, kernel, kernel), dict(padding=padding, dilation=1))
    if padding == "same":
        x = torch.randn(1, 2, 7, 6)
        assert conv2d(x, torch.randn(3, 2, kernel, kernel), padding="same").shape[2:] == (7, 6)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(padding="same", dilation=2), dict(groups=2, padding=3)])
def test_conv1d_matches_torch(kwargs):
    torch.manual_seed(1)
    x = torch.randn(2, 4, 19, requires_grad=True)
    w = torch.randn(6, 4 // kwargs.get("groups", 1), 4, requires_grad=True)
    b = torch.randn(6, requires_grad=True)
    ours, ref = conv1d(x, w, b, **kwargs), F.conv1d(x, w, b, **kwargs)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    g = torch.randn_like(ref)
    for got, expected in zip(torch.autograd.grad(ours, (x, w, b), g), torch.autograd.grad(ref, (x, w, b), g)):
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_modules_are_state_dict_compatible_with_torch():
    torch.manual_seed(2)
    ref2 = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    ours2 = Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    ours2.load_state_dict(ref2.state_dict(), strict=True)
    x = torch.randn(2, 4, 11, 9)
    torch.testing.assert_close(ours2(x), ref2(x), atol=1e-5, rtol=1e-5)
    ref1, ours1 = torch.nn.Conv1d(3, 5, 4, padding="same"), Conv1d(3, 5, 4, padding="same")
    ours1.load_state_dict(ref1.state_dict(), strict=True)
    x1 = torch.randn(2, 3, 12)
    torch.testing.assert_close(ours1(x1), ref1(x1), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("impl", [conv2d, conv2d_loops])
@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs, words",
    [
        ((1, 3, 8, 8), (4, 2, 3, 3), {}, ["weight", "(4, 2, 3, 3)", "expects 2 input channels", "has 3"]),
        ((1, 3, 4, 4), (2, 3, 5, 5), {}, ["kernel (5, 5)", "padded input (4, 4)"]),
        ((1, 3, 4, 4), (2, 3, 3, 3), dict(dilation=2), ["spans (5, 5)", "padded input (4, 4)"]),
        ((1, 3, 8, 8), (2, 3, 3, 3), dict(stride=0), ["stride", "positive", "0"]),
        ((1, 3, 8, 8), (2, 3, 3, 3), dict(stride=-1), ["stride", "positive", "-1"]),
        ((1, 3, 8, 8), (2, 3, 3, 3), dict(dilation=(1, 0)), ["dilation", "positive", "(1, 0)"]),
        ((1, 4, 8, 8), (6, 2, 3, 3), dict(groups=3), ["groups=3", "input channels (4)"]),
        ((3, 8, 8), (2, 3, 3, 3), {}, ["input", "4-D", "(N, C_in, H, W)", "(3, 8, 8)"]),
        ((1, 3, 8, 8), (2, 3, 3), {}, ["weight", "4-D", "(2, 3, 3)"]),
        ((1, 3, 8, 8), (2, 3, 3, 3), dict(padding="same", stride=2), ["'same'", "stride 1"]),
        ((1, 3, 8, 8), (2, 3, 3, 3), dict(padding="full"), ["padding", "'full'"]),
        ((1, 3, 8, 8), (2, 3, 3, 3), dict(padding=-1), ["padding", "-1"]),
    ],
)
def test_bad_input_names_argument_expected_and_received(impl, x_shape, w_shape, kwargs, words):
    with pytest.raises((ValueError, TypeError)) as info:
        impl(torch.zeros(x_shape), torch.zeros(w_shape), **kwargs)
    message = str(info.value)
    assert message.startswith(impl.__name__ + ":")
    for word in words:
        assert word in message, (word, message)


def test_bad_bias_shape():
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\).*got \(3,\)"):
        conv2d(torch.zeros(1, 3, 8, 8), torch.zeros(2, 3, 3, 3), torch.zeros(3))


# conv2d picks a formulation by shape: depthwise sums over taps (on the output's grid
# when the output is the input divided by the stride), 1x1 one product
# per image, im2col otherwise, with the images side by side on small maps
# (SMALL_MAP = 28 x 28 output positions) when there are many filters or groups. The random cases
# above are small; these reach every path, values and gradients.
@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((2, 3, 33, 31), (4, 3, 3, 3), dict(padding=1)),                       # shifted
    ((1, 2, 34, 30), (3, 2, 2, 4), dict(padding="same", dilation=(2, 1))),  # shifted, even kernel
    ((2, 3, 30, 32), (5, 3, 1, 1), dict()),                                 # 1x1, one product per image
    ((2, 4, 61, 59), (6, 4, 1, 1), dict(stride=2, padding=1)),              # 1x1 strided, large
    ((2, 4, 9, 8), (6, 4, 1, 1), dict()),                                   # 1x1 on a small map: im2col
    ((2, 6, 31, 33), (6, 1, 3, 3), dict(padding=1, groups=6)),              # depthwise on the output's grid
    ((2, 5, 14, 12), (5, 1, 3, 3), dict(stride=2, padding=1, groups=5)),    # grid, four phases
    ((2, 3, 12, 12), (6, 1, 5, 5), dict(stride=2, padding=2, groups=3)),    # grid, 5x5, m = 2
    ((1, 4, 10, 9), (4, 1, 2, 4), dict(padding="same", dilation=(1, 2), groups=4)),  # grid, uneven padding
    ((2, 3, 8, 6), (3, 1, 1, 1), dict(stride=2, groups=3)),                 # grid, phases no tap reads
    ((2, 4, 10, 7), (4, 1, 3, 3), dict(stride=(2, 1), padding=1, groups=4)),  # grid, two phases
    ((2, 3, 3, 4), (3, 1, 7, 7), dict(padding=3, groups=3)),                # grid, shifts past the map
    ((2, 4, 17, 15), (8, 1, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=2, groups=4)),  # depthwise, strided, m = 2
    ((2, 4, 32, 30), (6, 2, 3, 3), dict(padding=1, groups=2)),             # grouped on a large map: im2col
    ((2, 8, 9, 7), (128, 8, 3, 2), dict(stride=(1, 2), padding=1)),         # many filters, small map: images side by side
])
def test_every_formulation_matches_torch(x_shape, w_shape, kwargs):
    check_against_torch(conv2d, x_shape, w_shape, kwargs)


def test_depthwise_runs_on_the_output_grid_exactly_when_the_output_is_the_input_over_the_stride():
    from cnncourse.layers.depthwise import grid_taps

    # MobileNet's 3x3 layers, stride 1 and 2, padding 1: each tap reads one phase, shifted
    assert grid_taps((56, 56), (3, 3), (1, 1), (1, 1), (1, 1, 1, 1), (56, 56)) == [
        (0, 0, di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)]
    assert grid_taps((56, 56), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), (28, 28)) == [
        (a, b, di, dj) for a, di in ((1, -1), (0, 0), (1, 0)) for b, dj in ((1, -1), (0, 0), (1, 0))]
    assert grid_taps((7, 7), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1), (4, 4)) is None  # odd side, stride 2
    assert grid_taps((8, 8), (3, 3), (1, 1), (1, 1), (0, 0, 0, 0), (6, 6)) is None  # no padding: a smaller output


def test_depthwise_gradients_when_only_the_input_or_only_the_weight_requires_them():
    for kwargs in (dict(padding=1), dict(stride=2, padding=1)):
        for x_grad, w_grad in ((True, False), (False, True)):
            x = torch.randn(2, 4, 8, 8, dtype=torch.float64, requires_grad=x_grad)
            w = torch.randn(4, 1, 3, 3, dtype=torch.float64, requires_grad=w_grad)
            leaf = x if x_grad else w
            (ours,) = torch.autograd.grad(conv2d(x, w, groups=4, **kwargs).square().sum(), leaf)
            (ref,) = torch.autograd.grad(F.conv2d(x, w, groups=4, **kwargs).square().sum(), leaf)
            torch.testing.assert_close(ours, ref)


def test_depthwise_of_a_channels_last_input():
    x = torch.randn(2, 6, 9, 9).contiguous(memory_format=torch.channels_last)
    w = torch.randn(6, 1, 3, 3)
    torch.testing.assert_close(conv2d(x, w, padding=1, groups=6), F.conv2d(x, w, padding=1, groups=6),
                               atol=1e-5, rtol=1e-5)


def test_depthwise_functions_match_torch():
    from cnncourse.layers import depthwise_conv2d, depthwise_conv2d_loops

    for impl in (depthwise_conv2d, depthwise_conv2d_loops):
        check_against_torch(lambda x, w, b, groups, **kw: impl(x, w, b, **kw), (2, 3, 11, 10), (6, 1, 3, 3),
                            dict(stride=(1, 2), padding=(1, 2), dilation=(2, 1), groups=3))
    with pytest.raises(ValueError, match=r"weight of shape \(3, 2, 3, 3\) with groups=3 expects 6 input channels"):
        depthwise_conv2d(torch.randn(1, 3, 8, 8), torch.randn(3, 2, 3, 3))


def test_a_weight_that_requires_grad_gives_the_same_result_without_grad_mode():
    # conv2d avoids torch.matmul's separate path for weights that require grad
    x, w = torch.randn(2, 8, 30, 30), torch.randn(4, 8, 1, 1, requires_grad=True)
    with torch.no_grad():
        torch.testing.assert_close(conv2d(x, w), F.conv2d(x, w), atol=1e-5, rtol=1e-5)
