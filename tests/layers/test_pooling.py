"""Pooling layers against torch.nn.functional: values, indices, gradients; the hand-written backward."""

import pytest
import torch
import torch.nn.functional as F

from cnncourse.layers.pooling import (
    AvgPool2d, MaxPool2d, adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d, avg_pool2d,
    cross_channel_max_pool, global_avg_pool2d, max_pool1d, max_pool2d, max_pool2d_backward, spatial_pyramid_pool,
)

MAX_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=1, dilation=2),
    dict(kernel_size=(1, 4), stride=3, padding=(0, 2)),
]


def grads(out, inputs, seed=0):
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    return torch.autograd.grad(out, inputs, g)


@pytest.mark.parametrize("kwargs", MAX_CASES)
def test_max_pool2d_values_indices_and_gradients_match_torch(kwargs):
    x = torch.randn(2, 3, 9, 10, requires_grad=True)
    ours, idx = max_pool2d(x, return_indices=True, **kwargs)
    ref, ref_idx = F.max_pool2d(x, return_indices=True, **kwargs)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    assert torch.equal(idx, ref_idx)
    torch.testing.assert_close(grads(ours, x)[0], grads(ref, x)[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kwargs", MAX_CASES[:4])
def test_max_pool2d_hand_written_backward_passes_gradcheck(kwargs):
    x = torch.randn(1, 2, 7, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: max_pool2d(t, **kwargs), (x,))


def test_backward_routes_through_the_argmax_and_sums_overlaps():
    x = torch.tensor([[[[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]]])
    out, idx = max_pool2d(x, 2, return_indices=True)
    assert out.flatten().tolist() == [6, 8, 3, 4]  # the lecture's example
    grad = max_pool2d_backward(torch.ones_like(out), idx, x.shape)
    assert grad.sum() == 4 and grad[0, 0, 1, 1] == grad[0, 0, 1, 3] == 1
    # Overlapping 3x3 windows with stride 1 that share a maximum send it every gradient.
    y = torch.zeros(1, 1, 4, 4)
    y[0, 0, 1, 1] = 9
    out, idx = max_pool2d(y, 3, 1, return_indices=True)
    assert max_pool2d_backward(torch.ones_like(out), idx, y.shape)[0, 0, 1, 1] == 4


def test_unbatched_input_and_module():
    x = torch.randn(3, 8, 8)
    torch.testing.assert_close(max_pool2d(x, 2), F.max_pool2d(x, 2))
    module, ref = MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)
    torch.testing.assert_close(module(x[None]), ref(x[None]))
    torch.testing.assert_close(AvgPool2d(3, 2, 1)(x[None]), torch.nn.AvgPool2d(3, 2, 1)(x[None]))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), divisor_override=5),
])
def test_avg_pool2d_matches_torch(kwargs):
    x = torch.randn(2, 3, 9, 10, requires_grad=True)
    ours, ref = avg_pool2d(x, **kwargs), F.avg_pool2d(x, **kwargs)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grads(ours, x)[0], grads(ref, x)[0], atol=1e-5, rtol=1e-5)


def test_1d_pooling_matches_torch():
    x = torch.randn(2, 3, 17, requires_grad=True)
    for ours, ref in [(max_pool1d(x, 3, 2, 1), F.max_pool1d(x, 3, 2, 1)), (max_pool1d(x, 4, ceil_mode=True), F.max_pool1d(x, 4, ceil_mode=True)),
                      (avg_pool1d(x, 4, 3, 2, True, False), F.avg_pool1d(x, 4, 3, 2, True, False))]:
        torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(grads(ours, x)[0], grads(ref, x)[0], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("size, out", [((13, 11), (4, 3)), ((7, 7), 7), ((5, 9), (1, 1)), ((10, 3), (4, 2))])
def test_adaptive_pooling_matches_torch(size, out):
    x = torch.randn(2, 3, *size, requires_grad=True)
    for ours, ref in [(adaptive_avg_pool2d(x, out), F.adaptive_avg_pool2d(x, out)), (adaptive_max_pool2d(x, out), F.adaptive_max_pool2d(x, out))]:
        torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(grads(ours, x)[0], grads(ref, x)[0], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(global_avg_pool2d(x), F.adaptive_avg_pool2d(x, 1))


def test_spatial_pyramid_pooling_gives_a_fixed_length_from_any_size():
    lengths = {spatial_pyramid_pool(torch.randn(2, 5, h, w), (1, 2, 4)).shape for h, w in [(13, 17), (31, 8), (4, 4), (100, 60)]}
    assert lengths == {torch.Size([2, 5 * (1 + 4 + 16)])}
    x = torch.randn(1, 2, 9, 9)
    first = spatial_pyramid_pool(x, (1,))
    torch.testing.assert_close(first, x.amax(dim=(2, 3)))


def test_cross_channel_max_pool_is_max_over_channel_groups():
    x = torch.randn(2, 6, 4, 4)
    out = cross_channel_max_pool(x, 3)
    assert out.shape == (2, 2, 4, 4)
    torch.testing.assert_close(out[:, 1], x[:, 3:6].amax(1))
    # invariance: permuting channels inside a group changes nothing
    torch.testing.assert_close(cross_channel_max_pool(x[:, [2, 0, 1, 5, 3, 4]], 3), out)


@pytest.mark.parametrize("call, words", [
    (lambda: max_pool2d(torch.zeros(1, 1, 3, 3), 4), ["kernel_size (4, 4)", "larger than the padded input (3, 3)"]),
    (lambda: avg_pool2d(torch.zeros(1, 1, 3, 3), 2, stride=0), ["stride", "positive", "0"]),
    (lambda: max_pool2d(torch.zeros(1, 1, 8, 8), 2, padding=2), ["padding (2, 2)", "at most half"]),
    (lambda: max_pool2d(torch.zeros(8, 8), 2), ["input", "(N, C, H, W) or (C, H, W)", "(8, 8)"]),
    (lambda: spatial_pyramid_pool(torch.zeros(1, 1, 3, 3), (1, 4)), ["levels [4]", "(3, 3)"]),
    (lambda: cross_channel_max_pool(torch.zeros(1, 5, 2, 2), 2), ["group_size", "5 channels"]),
])
def test_bad_input_errors(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_indices_from_a_different_pooling_call_are_rejected():
    out, idx = max_pool2d(torch.randn(1, 2, 8, 8), 2, return_indices=True)
    with pytest.raises(ValueError, match="must match grad_output"):
        max_pool2d_backward(torch.ones(1, 2, 3, 3), idx, (1, 2, 8, 8))
    with pytest.raises(ValueError, match="different pooling call"):
        max_pool2d_backward(torch.ones_like(out), idx, (1, 2, 4, 4))


@pytest.mark.parametrize("kwargs", MAX_CASES)
def test_inference_path_without_indices_matches_torch(kwargs):
    x = torch.randn(2, 3, 9, 10)
    with torch.no_grad():
        torch.testing.assert_close(max_pool2d(x, **kwargs), F.max_pool2d(x, **kwargs))
