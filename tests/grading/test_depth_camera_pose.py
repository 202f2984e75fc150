"""Grading: the exercise of the chapter *Pixels in, pixels out: depth and camera pose*."""

import pytest
import torch
import torch.nn.functional as F

from cnncourse.depth import scale_invariant_loss as reference

SCALE_INVARIANT = pytest.mark.forbid("cnncourse.depth.scale_invariant_loss")


def random_maps(seed, shape=(3, 1, 6, 5)):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64),
            torch.randn(*shape, generator=g, dtype=torch.float64))


@SCALE_INVARIANT
@pytest.mark.points(2)
@pytest.mark.parametrize("lam, expected", [(0.0, 2.5), (0.5, 1.5), (1.0, 0.5)])
def test_scale_invariant_loss_by_hand(submission, lam, expected):
    pred = torch.tensor([[1.0, 2.0, 3.0, 2.0], [0.0, 0.0, 1.0, 1.0]])
    target = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]])
    # image 1: d = 1, 2, 3, 2: mean d^2 = 18 / 4, mean d = 2; image 2: d = 0, -1, 1, 0: mean d^2 = 1 / 2, mean d = 0
    got = submission("depth_camera_pose").scale_invariant_loss(pred, target, lam)
    assert got.dim() == 0, f"expected a scalar (the mean over the images); got shape {tuple(got.shape)}"
    assert got.item() == pytest.approx(expected, abs=1e-6)


@SCALE_INVARIANT
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, lam, shape", [(0, 0.5, (3, 1, 6, 5)), (1, 0.25, (4, 7)), (2, 0.8, (2, 1, 3, 9))])
def test_scale_invariant_loss_equals_the_package_with_gradients(submission, seed, lam, shape):
    pred, target = random_maps(seed, shape)
    pred.requires_grad_(True)
    got = submission("depth_camera_pose").scale_invariant_loss(pred, target, lam)
    expected = reference(pred, target, lam)
    torch.testing.assert_close(got, expected, atol=1e-10, rtol=0)
    grad, = torch.autograd.grad(got, pred)
    expected_grad, = torch.autograd.grad(expected, pred)
    torch.testing.assert_close(grad, expected_grad, atol=1e-10, rtol=0)


@SCALE_INVARIANT
@pytest.mark.points(1)
def test_scale_invariant_loss_with_lam_0_is_the_mse_of_the_logs(submission):
    pred, target = random_maps(3)
    got = submission("depth_camera_pose").scale_invariant_loss(pred, target, 0.0)
    torch.testing.assert_close(got, F.mse_loss(pred, target), atol=1e-10, rtol=0)


@SCALE_INVARIANT
@pytest.mark.points(2)
def test_scale_invariant_loss_with_lam_1_ignores_a_depth_scale_per_image(submission):
    loss = submission("depth_camera_pose").scale_invariant_loss
    pred, target = random_maps(4)
    shift = torch.tensor([0.7, -2.0, 5.0], dtype=torch.float64).view(3, 1, 1, 1)  # log of a scale, one per image
    torch.testing.assert_close(loss(pred + shift, target, 1.0), loss(pred, target, 1.0), atol=1e-10, rtol=0)
    assert loss(target + shift, target, 1.0).abs().item() < 1e-10, "right up to a scale per image: no loss"
    assert loss(target + shift, target, 0.5).item() > 0.1, "with lam < 1 a wrong scale still costs"
