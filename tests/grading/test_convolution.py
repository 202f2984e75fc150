"""Grading: the exercises of the chapter *Convolution* against torch.nn.functional."""

import pytest
import torch
import torch.nn.functional as F

CASES = [  # (x shape, weight shape, stride, padding)
    ((1, 1, 5, 5), (1, 1, 3, 3), 1, 0),
    ((2, 3, 7, 6), (4, 3, 3, 2), 1, 1),
    ((2, 2, 9, 8), (3, 2, 3, 3), 2, 1),
    ((1, 3, 8, 8), (2, 3, 4, 4), 3, 2),
    ((3, 1, 6, 6), (2, 1, 1, 1), 2, 0),
]


def check_conv(fn, x_shape, w_shape, stride, padding, bias=True):
    torch.manual_seed(sum(x_shape) + stride)
    x = torch.randn(x_shape, requires_grad=True)
    w = torch.randn(w_shape, requires_grad=True)
    b = torch.randn(w_shape[0], requires_grad=True) if bias else None
    out = fn(x, w, b, stride=stride, padding=padding)
    ref = F.conv2d(x, w, b, stride=stride, padding=padding)
    assert out.shape == ref.shape, f"output shape {tuple(out.shape)}, expected {tuple(ref.shape)}"
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    g = torch.randn_like(ref)
    inputs = [x, w] + ([b] if bias else [])
    for got, expected, name in zip(torch.autograd.grad(out, inputs, g), torch.autograd.grad(ref, inputs, g), ["x", "weight", "bias"]):
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5, msg=f"gradient wrt {name} differs")


LOOPS = pytest.mark.forbid("torch.nn.functional.conv2d", "cnncourse.layers.conv2d", "cnncourse.layers.conv2d_loops")


@LOOPS
@pytest.mark.points(2)
def test_conv2d_loops_no_padding(submission):
    check_conv(submission("convolution").conv2d_loops, *CASES[0], bias=False)


@LOOPS
@pytest.mark.points(3)
@pytest.mark.parametrize("case", CASES[1:], ids=lambda c: f"x{c[0]}-w{c[1]}-s{c[2]}-p{c[3]}")
def test_conv2d_loops(submission, case):
    check_conv(submission("convolution").conv2d_loops, *case)


@pytest.mark.forbid("torch.nn.functional.unfold", "cnncourse.layers.im2col")
@pytest.mark.points(3)
@pytest.mark.parametrize("kernel, stride", [((3, 3), 1), ((2, 3), 2), ((1, 1), 3)], ids=["k3x3-s1", "k2x3-s2", "k1x1-s3"])
def test_im2col_matches_unfold(submission, kernel, stride):
    x = torch.randn(2, 3, 8, 7)
    cols = submission("convolution").im2col(x, kernel, stride)
    torch.testing.assert_close(cols, F.unfold(x, kernel, stride=stride))


@pytest.mark.forbid("torch.nn.functional.conv2d", "cnncourse.layers.conv2d", "cnncourse.layers.conv2d_loops")
@pytest.mark.points(3)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"x{c[0]}-w{c[1]}-s{c[2]}-p{c[3]}")
def test_conv2d_im2col(submission, case):
    check_conv(submission("convolution").conv2d_im2col, *case)
