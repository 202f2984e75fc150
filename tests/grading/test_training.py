"""Grading: the exercises of the chapter *Training CNNs well*."""

import math

import pytest
import torch


@pytest.mark.forbid("torch.nn.init.kaiming_normal_", "torch.nn.init.kaiming_uniform_", "cnncourse.train.he_init")
@pytest.mark.points(3)
@pytest.mark.parametrize("shape, fan_in", [((512, 400), 400), ((256, 32, 3, 3), 288), ((64, 8, 5, 5), 200)])
def test_he_normal_has_the_right_spread(submission, shape, fan_in):
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.empty(shape))
    out = submission("training").he_normal_(weight)
    assert out is weight  # in place
    assert abs(weight.mean().item()) < 0.01 * math.sqrt(2 / fan_in) * 10
    assert weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.03)
    assert weight.grad_fn is None


@pytest.mark.forbid("torch.optim.lr_scheduler.CosineAnnealingLR", "torch.optim.lr_scheduler.LinearLR",
                    "torch.optim.lr_scheduler.SequentialLR", "torch.optim.lr_scheduler.LambdaLR",
                    "torch.optim.lr_scheduler.OneCycleLR")
@pytest.mark.points(3)
def test_warmup_cosine_lr(submission):
    lr = submission("training").warmup_cosine_lr
    assert [lr(s, 10, 4, 0.4) for s in range(4)] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert lr(4, 10, 4, 0.4) == pytest.approx(0.4)
    assert lr(7, 10, 4, 0.4) == pytest.approx(0.2)  # half way through the decay
    assert lr(10, 10, 4, 0.4) == pytest.approx(0.0, abs=1e-12)
    decay = [lr(s, 100, 5, 1.0) for s in range(5, 101)]
    assert all(a >= b for a, b in zip(decay, decay[1:]))
