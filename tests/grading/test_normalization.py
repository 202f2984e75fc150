"""Grading: the exercises of the chapter *Normalisation and regularisation*."""

import pytest
import torch
import torch.nn.functional as F


FORBID = pytest.mark.forbid("torch.nn.functional.batch_norm", "torch.batch_norm", "cnncourse.layers.batch_norm")


@FORBID
@pytest.mark.points(2)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("eps", [1e-5, 0.5], ids=["eps-default", "eps-0.5"])
def test_batch_norm_forward_values_and_gradients(submission, training, eps):
    torch.manual_seed(0)
    x = (torch.randn(6, 3, 5, 4) * 2 + 1).requires_grad_()
    gamma, beta = torch.randn(3, requires_grad=True), torch.randn(3, requires_grad=True)
    mine = (torch.randn(3), torch.rand(3) + 0.5)
    ref = tuple(t.clone() for t in mine)
    out = submission("normalization").batch_norm_forward(x, gamma, beta, *mine, training, eps=eps)
    expected = F.batch_norm(x, *ref, gamma, beta, training, 0.1, eps)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    g = torch.randn_like(expected)
    for a, b in zip(torch.autograd.grad(out, (x, gamma, beta), g), torch.autograd.grad(expected, (x, gamma, beta), g)):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


@FORBID
@pytest.mark.points(4)
def test_batch_norm_forward_updates_running_statistics(submission):
    torch.manual_seed(1)
    mine, ref = (torch.zeros(4), torch.ones(4)), (torch.zeros(4), torch.ones(4))
    for _ in range(3):
        x = torch.randn(8, 4, 3, 3) * 3 + 2
        submission("normalization").batch_norm_forward(x, torch.ones(4), torch.zeros(4), *mine, True, momentum=0.2)
        F.batch_norm(x, *ref, torch.ones(4), torch.zeros(4), True, 0.2)
    torch.testing.assert_close(mine[0], ref[0], msg="running_mean")
    torch.testing.assert_close(mine[1], ref[1], msg="running_var (unbiased)")
