"""Upsampling, unpooling and transposed convolution against torch; the matrix view of convolution."""

import pytest
import torch
import torch.nn.functional as F

from cnncourse.layers import conv2d
from cnncourse.layers.pooling import max_pool2d
from cnncourse.layers.upsampling import (
    ConvTranspose2d, bed_of_nails, bilinear_kernel, bilinear_transposed_conv, conv_matrix, conv_transpose2d, max_unpool2d,
    upsample_bilinear, upsample_nearest,
)

LECTURE = torch.tensor([[[[1.0, 2], [3, 4]]]])


def test_nearest_and_bed_of_nails_reproduce_the_lecture_examples():
    assert upsample_nearest(LECTURE).tolist() == [[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]
    assert bed_of_nails(LECTURE).tolist() == [[[[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]]]
    x = torch.randn(2, 3, 5, 4)
    assert torch.equal(upsample_nearest(x, (2, 3)), F.interpolate(x, scale_factor=(2, 3), mode="nearest"))


def test_max_unpool_reproduces_the_lecture_example_and_torch():
    x = torch.tensor([[[[1.0, 2, 6, 3], [3, 5, 2, 1], [1, 2, 2, 1], [7, 3, 4, 8]]]])
    _, idx = max_pool2d(x, 2, return_indices=True)
    assert max_unpool2d(LECTURE, idx, 2).tolist() == [[[[0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]]]]
    y = torch.randn(2, 3, 9, 7, requires_grad=True)
    v, i = max_pool2d(y, 3, 2, 1, return_indices=True)
    torch.testing.assert_close(max_unpool2d(v, i, 3, 2, 1, output_size=y.shape), F.max_unpool2d(v, i, 3, 2, 1, output_size=y.shape))


def test_unpool_rejects_indices_of_another_call():
    _, idx = max_pool2d(torch.randn(1, 1, 8, 8), 2, return_indices=True)
    with pytest.raises(ValueError, match="indices must have the input's shape"):
        max_unpool2d(torch.ones(1, 1, 2, 2), idx, 2)
    with pytest.raises(ValueError, match="different pooling call"):
        max_unpool2d(torch.ones(1, 1, 4, 4), idx * 4, 2)


@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(size=(13, 4)), dict(scale_factor=2, align_corners=True), dict(size=(5, 20), align_corners=True), dict(scale_factor=(1.5, 3))])
def test_bilinear_matches_interpolate(kwargs):
    x = torch.randn(2, 3, 7, 9, requires_grad=True)
    ours, ref = upsample_bilinear(x, **kwargs), F.interpolate(x, mode="bilinear", **kwargs)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    g = torch.randn_like(ref)
    torch.testing.assert_close(torch.autograd.grad(ours, x, g)[0], torch.autograd.grad(ref, x, g)[0], atol=1e-5, rtol=1e-5)


TRANSPOSED = [
    dict(), dict(stride=2), dict(stride=2, padding=1, output_padding=1), dict(stride=3, padding=2, dilation=2),
    dict(stride=(2, 3), padding=(1, 0), dilation=(1, 2), groups=2, output_padding=(1, 1)),
]


@pytest.mark.parametrize("kwargs", TRANSPOSED)
def test_conv_transpose2d_matches_torch_values_and_gradients(kwargs):
    torch.manual_seed(0)
    groups = kwargs.get("groups", 1)
    x = torch.randn(2, 4, 5, 6, requires_grad=True)
    w = torch.randn(4, 3, 3, 2, requires_grad=True)
    b = torch.randn(3 * groups, requires_grad=True)
    ours, ref = conv_transpose2d(x, w, b, **kwargs), F.conv_transpose2d(x, w, b, **kwargs)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    g = torch.randn_like(ref)
    for a, r in zip(torch.autograd.grad(ours, (x, w, b), g), torch.autograd.grad(ref, (x, w, b), g)):
        torch.testing.assert_close(a, r, atol=1e-4, rtol=1e-5)


def test_module_is_state_dict_compatible():
    ref = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    ours = ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours(x, output_size=(10, 10)), ref(x, output_size=(10, 10)), atol=1e-5, rtol=1e-5)


def test_conv_matrix_and_its_transpose():
    torch.manual_seed(1)
    w = torch.randn(2, 3, 3, 3)
    W = conv_matrix(w, (3, 5, 6), stride=2, padding=1)
    x = torch.randn(3, 5, 6)
    torch.testing.assert_close(W @ x.flatten(), conv2d(x[None], w, stride=2, padding=1).flatten(), atol=1e-5, rtol=1e-5)
    y = torch.randn(W.shape[0])
    torch.testing.assert_close(W.T @ y, conv_transpose2d(y.view(1, 2, 3, 3), w, stride=2, padding=1, output_padding=(0, 1)).flatten(), atol=1e-5, rtol=1e-5)


def test_the_lecture_1d_example_stride_1_is_a_flipped_convolution_stride_2_is_not():
    x, y, z = 1.0, 2.0, 3.0
    w = torch.tensor([[[[x, y, z]]]])
    W = conv_matrix(w, (1, 1, 4), padding=(0, 1))
    assert W.tolist() == [[y, z, 0, 0], [x, y, z, 0], [0, x, y, z], [0, 0, x, y]]  # the padded 6-column matrix without its zero ends
    a = torch.randn(1, 1, 1, 4)
    flipped = conv2d(a, w.flip(-1), padding=(0, 1))
    torch.testing.assert_close(conv_transpose2d(a, w, padding=(0, 1)), flipped)
    W2 = conv_matrix(w, (1, 1, 4), stride=2, padding=(0, 1))
    assert W2.tolist() == [[y, z, 0, 0], [0, x, y, z]]
    b = torch.randn(1, 1, 1, 2)
    up = conv_transpose2d(b, w, stride=2, padding=(0, 1), output_padding=(0, 1))
    torch.testing.assert_close(up.flatten(), W2.T @ b.flatten())


@pytest.mark.parametrize("call, words", [
    (lambda: conv_matrix(torch.zeros(2, 3, 3, 3), (4, 5, 5)), ["input_shape (4, 5, 5)", "expects 3 input channels"]),
    (lambda: conv_matrix(torch.zeros(2, 3, 3, 3), (3, 2, 2)), ["kernel (3, 3)", "padded input (2, 2)"]),
    (lambda: conv_matrix(torch.zeros(2, 3, 3, 3), (3, 200, 200)), ["max_entries"]),
    (lambda: conv_matrix(torch.zeros(2, 3, 3, 3), (3, 5)), ["input_shape must be (C_in, H, W)"]),
    (lambda: conv_transpose2d(torch.zeros(1, 3, 4, 4), torch.zeros(2, 3, 3, 3)), ["expects 2 input channels", "has 3"]),
    (lambda: conv_transpose2d(torch.zeros(1, 2, 4, 4), torch.zeros(2, 3, 3, 3), stride=2, output_padding=2), ["output_padding (2, 2)", "smaller"]),
    (lambda: conv_transpose2d(torch.zeros(1, 2, 4, 4), torch.zeros(2, 3, 3, 3), stride=0), ["stride", "positive"]),
])
def test_bad_input_errors(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("factor", [2, 3, 4, 8])
def test_bilinear_transposed_conv_is_bilinear_upsampling_away_from_the_border(factor):
    """FCN's initialisation (Long et al., 2015): the layer starts as F.interpolate(mode='bilinear')."""
    torch.manual_seed(factor)
    x = torch.randn(2, 3, 9, 7)
    layer = bilinear_transposed_conv(3, factor)
    assert layer.weight.shape[-1] == 2 * factor - factor % 2 and layer.stride == (factor, factor)
    with torch.no_grad():
        out = layer(x)
    reference = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
    assert out.shape == reference.shape
    inner = (..., slice(factor, -factor), slice(factor, -factor))
    torch.testing.assert_close(out[inner], reference[inner], atol=1e-5, rtol=1e-5)
    assert (bilinear_kernel(3, factor)[0, 1] == 0).all()  # each channel upsamples only itself
    with pytest.raises(ValueError, match="scale_factor must be a positive int; got 0"):
        bilinear_kernel(3, 0)


@pytest.mark.parametrize("stride, padding, kernel", [(2, 0, 3), (2, 1, 4), (3, 1, 3), (1, 1, 3)])
def test_transposed_convolution_is_a_convolution_of_the_zero_inserted_input(stride, padding, kernel):
    """Dumoulin & Visin (2016): stride-s transposed conv = stride-1 conv with the flipped kernel over the
    input with s - 1 zeros between pixels, padded by k - 1 - p."""
    torch.manual_seed(0)
    x, w = torch.randn(1, 2, 5, 4), torch.randn(2, 3, kernel, kernel)
    spread = bed_of_nails(x, stride)[..., : (5 - 1) * stride + 1, : (4 - 1) * stride + 1]
    as_conv = F.conv2d(spread, w.flip(-2, -1).transpose(0, 1), padding=kernel - 1 - padding)
    torch.testing.assert_close(as_conv, conv_transpose2d(x, w, stride=stride, padding=padding), atol=1e-5, rtol=1e-5)


def test_max_unpool2d_runs_on_the_meta_device_for_shape_only_passes():
    from cnncourse.layers import max_unpool2d
    x = torch.empty(2, 3, 4, 5, device="meta")
    indices = torch.empty(2, 3, 4, 5, dtype=torch.int64, device="meta")
    assert max_unpool2d(x, indices, 2).shape == (2, 3, 8, 10)
