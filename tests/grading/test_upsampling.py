"""Grading: the exercises of the chapter *Undoing pooling and convolution*."""

import pytest
import torch
import torch.nn.functional as F

CASES = [((1, 1, 2, 2), (1, 1, 2, 2), 1, 0), ((2, 3, 4, 5), (3, 2, 3, 3), 1, 1), ((2, 3, 4, 4), (3, 4, 3, 3), 2, 0),
         ((1, 2, 5, 3), (2, 3, 4, 4), 2, 1), ((1, 2, 3, 3), (2, 1, 3, 3), 3, 1)]


@pytest.mark.forbid("torch.nn.functional.conv_transpose2d", "cnncourse.layers.conv_transpose2d",
                    "cnncourse.layers.conv_matrix")
@pytest.mark.points(3)
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CASES, ids=lambda v: str(v))
def test_conv_transpose2d(submission, x_shape, w_shape, stride, padding):
    torch.manual_seed(sum(x_shape))
    x = torch.randn(x_shape, requires_grad=True)
    w = torch.randn(w_shape, requires_grad=True)
    out = submission("upsampling").conv_transpose2d(x, w, stride, padding)
    ref = F.conv_transpose2d(x, w, stride=stride, padding=padding)
    assert out.shape == ref.shape, f"output shape {tuple(out.shape)}, expected {tuple(ref.shape)}"
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    g = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad(out, (x, w), g), torch.autograd.grad(ref, (x, w), g)):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
