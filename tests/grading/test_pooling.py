"""Grading: the exercises of the chapter *Pooling*."""

import pytest
import torch
import torch.nn.functional as F

CASES = [((1, 1, 4, 4), 2, 2), ((2, 3, 9, 8), 3, 2), ((2, 2, 7, 7), 2, 1), ((1, 4, 10, 6), 3, 3)]


@pytest.mark.forbid("torch.nn.functional.max_pool2d", "torch.max_pool2d", "torch.nn.functional.max_pool2d_with_indices",
                    "torch.nn.functional.adaptive_max_pool2d", "cnncourse.layers.max_pool2d")
@pytest.mark.points(4)
@pytest.mark.parametrize("shape, k, s", CASES, ids=[f"{c[0]}-k{c[1]}-s{c[2]}" for c in CASES])
def test_max_pool2d_forward(submission, shape, k, s):
    x = torch.randn(shape)
    out, idx = submission("pooling").max_pool2d_forward(x, k, s)
    ref, ref_idx = F.max_pool2d(x, k, s, return_indices=True)
    torch.testing.assert_close(out, ref)
    assert torch.equal(idx, ref_idx), "indices differ from F.max_pool2d's"


@pytest.mark.forbid("torch.nn.functional.max_unpool2d", "torch.autograd.grad", "torch.autograd.backward",
                    "torch.nn.functional.max_pool2d", "torch.nn.functional.max_pool2d_with_indices",
                    "cnncourse.layers.max_pool2d_backward", "cnncourse.layers.max_unpool2d")
@pytest.mark.points(4)
@pytest.mark.parametrize("shape, k, s", CASES, ids=[f"{c[0]}-k{c[1]}-s{c[2]}" for c in CASES])
def test_max_pool2d_backward_equals_autograd(submission, shape, k, s):
    x = torch.randn(shape, requires_grad=True)
    ref, idx = F.max_pool2d(x, k, s, return_indices=True)
    g = torch.randn_like(ref)
    expected = torch.autograd.grad(ref, x, g)[0]
    got = submission("pooling").max_pool2d_backward(g, idx, x.shape)
    torch.testing.assert_close(got, expected)
