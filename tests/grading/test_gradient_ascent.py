"""Grading: the exercises of the chapter *Gradient ascent: the images a network wants to see*."""

import pytest
import torch

from cnncourse import viz

from .nets import small_net


STEP = pytest.mark.forbid("cnncourse.viz.gradient_ascent", "cnncourse.viz.ascent.gradient_ascent",
                          "cnncourse.viz.L2Decay")


@STEP
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, target, lr, decay", [(0, 1, 0.1, 0.0), (1, 3, 0.05, 0.2), (2, 0, 0.3, 0.05)])
def test_ascent_step(submission, seed, target, lr, decay):
    net = small_net(seed)
    torch.manual_seed(10 + seed)
    x = torch.randn(3, 3, 10, 12)
    expected = viz.gradient_ascent(net, viz.ClassLogit(target), x, steps=1, lr=lr, mean=0.0, value_range=None,
                                   regularizers=[viz.L2Decay(decay)]).image
    original = x.clone()
    got = submission("gradient_ascent").ascent_step(net, x, target, lr, decay)
    assert tuple(got.shape) == tuple(x.shape), f"shape {tuple(got.shape)}, expected {tuple(x.shape)}"
    torch.testing.assert_close(got.detach().cpu(), expected, atol=1e-5, rtol=1e-5)
    assert torch.equal(x, original) and all(p.grad is None for p in net.parameters())


@pytest.mark.forbid("cnncourse.viz.ClipNorm", "cnncourse.viz.ascent.ClipNorm")
@pytest.mark.points(3)
@pytest.mark.parametrize("shape, percentile", [((2, 3, 8, 8), 25), ((3, 1, 5, 7), 50), ((1, 3, 10, 6), 90),
                                               ((2, 3, 4, 4), 0)])
def test_clip_small_norm(submission, shape, percentile):
    torch.manual_seed(sum(shape) + percentile)
    z = torch.randn(shape)
    original = z.clone()
    expected = viz.ClipNorm(percentile)(z, torch.zeros_like(z), 0)
    got = submission("gradient_ascent").clip_small_norm(z, percentile)
    torch.testing.assert_close(got, expected)
    assert torch.equal(z, original), "clip_small_norm changed its input"
