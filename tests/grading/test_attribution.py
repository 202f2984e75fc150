"""Grading: the exercises of the chapter *Attribution: which pixels matter*."""

import pytest
import torch
from captum.attr import GuidedBackprop, Saliency
from torch import nn

from cnncourse import viz

from .nets import small_net


SALIENCY = pytest.mark.forbid("captum.attr.Saliency", "cnncourse.viz.saliency", "cnncourse.viz.gradient")


@SALIENCY
@pytest.mark.points(2)
@pytest.mark.parametrize("seed, target", [(0, 1), (1, [0, 3, 2]), (2, torch.tensor([3, 3, 1]))])
def test_saliency(submission, seed, target):
    net = small_net(seed)
    x = torch.randn(3, 3, 10, 12)
    expected = Saliency(net).attribute(x.clone(), target=torch.as_tensor(target).expand(3)).amax(dim=1)
    got = submission("attribution").saliency(net, x, target)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert not x.requires_grad and all(p.grad is None for p in net.parameters())


OCCLUSION = pytest.mark.forbid("cnncourse.viz.occlusion_map", "cnncourse.viz.occlusion", "captum.attr.Occlusion")


@OCCLUSION
@pytest.mark.points(2)
@pytest.mark.parametrize("window, stride, baseline", [(4, 2, 0.0), (3, 3, 0.5), (5, 4, -1.0)])
def test_occlusion_map(submission, window, stride, baseline):
    net = small_net(3)
    x = torch.randn(2, 3, 13, 11)
    target = [1, 2]
    expected = viz.occlusion_map(net, x, target, window=window, stride=stride, baseline=baseline)
    got = submission("attribution").occlusion_map(net, x, target, window, stride, baseline)
    assert tuple(got.shape) == tuple(expected.shape), f"shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    torch.testing.assert_close(got.cpu(), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.points(2)
def test_guided_relu_backward_rule(submission):
    torch.manual_seed(4)
    grad, out = torch.randn(2, 3, 5, 5), torch.randn(2, 3, 5, 5).clamp(min=0)
    got = submission("attribution").guided_relu_backward(grad, out)
    torch.testing.assert_close(got, grad * (grad > 0) * (out > 0))


@pytest.mark.forbid("captum.attr.GuidedBackprop", "cnncourse.viz.guided_backprop")
@pytest.mark.points(2)
def test_guided_relu_backward_gives_guided_backprop(submission):
    rule = submission("attribution").guided_relu_backward

    class Guided(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.clamp(min=0)
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, g):
            return rule(g, ctx.saved_tensors[0])

    net = small_net(5)
    x = torch.randn(2, 3, 8, 8)
    expected = GuidedBackprop(net).attribute(x.clone(), target=torch.tensor([0, 2]))
    for relu in (m for m in net.modules() if isinstance(m, nn.ReLU)):
        relu.forward = Guided.apply
    x = x.requires_grad_()
    net(x).gather(1, torch.tensor([[0], [2]])).sum().backward()
    torch.testing.assert_close(x.grad, expected, atol=1e-5, rtol=1e-5)
