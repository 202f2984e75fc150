"""Depth (Eigen et al., 2014): the coarse/fine network, the scale-invariant loss, the error measures."""

import math

import pytest
import torch
import torch.nn.functional as F
from steps import train_steps

from cnncourse.depth import EigenDepth, depth_metrics, scale_invariant_loss


def test_lam_1_ignores_a_global_scale_and_lam_0_is_the_mse_of_logs():
    torch.manual_seed(0)
    pred, target = torch.randn(3, 1, 6, 5, dtype=torch.float64), torch.randn(3, 1, 6, 5, dtype=torch.float64)
    shift = torch.tensor([0.7, -2.0, 5.0], dtype=torch.float64).view(3, 1, 1, 1)  # a depth scale per image
    torch.testing.assert_close(scale_invariant_loss(pred + shift, target, 1.0), scale_invariant_loss(pred, target, 1.0))
    assert scale_invariant_loss(target + shift, target, lam=1.0).abs() < 1e-12  # right up to scale: no loss
    torch.testing.assert_close(scale_invariant_loss(pred, target, lam=0.0), F.mse_loss(pred, target))
    assert not torch.isclose(scale_invariant_loss(pred + shift, target, 0.5), scale_invariant_loss(pred, target, 0.5))


def test_eq_4_by_hand_with_a_mask():
    pred = torch.tensor([[1.0, 2.0, 3.0, 9.0], [0.0, 0.0, 1.0, 1.0]])
    target = torch.tensor([[0.0, 0.0, 0.0, -50.0], [0.0, 1.0, 0.0, 1.0]])
    mask = torch.tensor([[True, True, True, False], [True, True, True, True]])
    # image 1: d = 1, 2, 3 (n = 3); image 2: d = 0, -1, 1, 0 (n = 4)
    first, second = 14 / 3 - 0.5 * 36 / 9, 2 / 4 - 0.5 * 0 / 16
    assert scale_invariant_loss(pred, target, 0.5, mask).item() == pytest.approx((first + second) / 2)
    empty = torch.tensor([[False] * 4, [True] * 4])  # an image without ground truth is left out
    assert scale_invariant_loss(pred, target, 0.5, empty).item() == pytest.approx(second)


def test_metrics_are_perfect_for_a_perfect_prediction():
    depth = torch.rand(2, 1, 8, 8) * 10 + 0.1
    metrics = depth_metrics(depth.clone(), depth)
    assert metrics == {"abs_rel": 0, "sq_rel": 0, "rmse": 0, "rmse_log": 0, "delta1": 1, "delta2": 1, "delta3": 1}


def test_metrics_by_hand():
    target = torch.tensor([[1.0, 2.0, 4.0, 5.0, 0.0]])
    pred = torch.tensor([[1.0, 2.5, 3.0, 10.0, 7.0]])  # ratios 1, 1.25, 4/3, 2; the last pixel has no ground truth
    metrics = depth_metrics(pred, target, mask=target > 0)
    expected = {
        "abs_rel": (0 + 0.5 / 2 + 1 / 4 + 5 / 5) / 4,
        "sq_rel": (0 + 0.25 / 2 + 1 / 4 + 25 / 5) / 4,
        "rmse": math.sqrt((0 + 0.25 + 1 + 25) / 4),
        "rmse_log": math.sqrt((math.log(1.25) ** 2 + math.log(0.75) ** 2 + math.log(2) ** 2) / 4),
        "delta1": 1 / 4,  # 1.25 is not below 1.25
        "delta2": 3 / 4,
        "delta3": 3 / 4,  # 2 > 1.25^3 = 1.95
    }
    assert metrics == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("call, words", [
    (lambda: depth_metrics(torch.ones(1, 4), torch.tensor([[1.0, 0.0, 2.0, 3.0]])), ["target must be positive depths"]),
    (lambda: depth_metrics(-torch.ones(1, 4), torch.ones(1, 4)), ["pred must be positive", "-1"]),
    (lambda: depth_metrics(torch.ones(1, 4), torch.ones(1, 5)), ["must have one shape"]),
    (lambda: scale_invariant_loss(torch.ones(2, 4), torch.ones(2, 4), lam=2.0), ["lam must be in [0, 1]"]),
    (lambda: scale_invariant_loss(torch.ones(2, 4), torch.ones(2, 4), mask=torch.zeros(2, 4)), ["no valid pixel"]),
    (lambda: scale_invariant_loss(torch.ones(2, 4), torch.ones(2, 4), mask=torch.ones(2, 3)), ["mask must be"]),
    (lambda: EigenDepth(stage="medium"), ["stage must be one of"]),
    (lambda: EigenDepth()(torch.zeros(1, 3, 32, 32)), ["EigenDepth", "must be 64x64"]),
])
def test_bad_input_errors(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_shapes_and_the_two_stages():
    model = EigenDepth(widths=(8, 16, 32), image_size=(32, 48), hidden=64, fine_width=16)
    x = torch.randn(2, 3, 32, 48)
    assert model(x).shape == (2, 1, 8, 12)  # fine, at 1/4 like the paper
    assert model.training and not model.coarse.training  # the coarse network is held fixed
    model.stage = "coarse"
    assert model.coarse.training and model(x).shape == (2, 1, 8, 12)
    model.eval()
    coarse = model(x)
    model.stage = "fine"
    assert not torch.allclose(model(x), coarse)


def test_coarse_then_fine_training_decreases_the_loss_and_fine_leaves_the_coarse_net_alone():
    torch.manual_seed(0)
    images = torch.randn(6, 3, 32, 32)
    target = torch.randn(6, 1, 8, 8) * 0.3 + torch.linspace(0, 1, 8).view(1, 1, 8, 1)  # a floor-like ramp
    model = EigenDepth(widths=(8, 16), image_size=32, hidden=64, fine_width=16, stage="coarse")
    losses = train_steps(model, lambda m: scale_invariant_loss(m(images), target), lr=3e-4)
    assert losses[-1] < 0.7 * losses[0], losses
    model.stage = "fine"
    coarse = {k: v.clone() for k, v in model.coarse.state_dict().items()}
    losses = train_steps(model, lambda m: scale_invariant_loss(m(images), target), lr=1e-3)
    assert losses[-1] < 0.7 * losses[0], losses
    assert all(torch.equal(v, coarse[k]) for k, v in model.coarse.state_dict().items())  # weights and BN statistics
