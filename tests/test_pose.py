"""Pose: DeepPose's regressor, heatmaps and their decoding (hard and soft), the losses, PCK."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from steps import train_steps

from cnncourse.pose import (
    HeatmapNet, JointRegressor, argmax_decode, gaussian_heatmaps, heatmap_loss, joint_loss, pck, soft_argmax,
)


def random_joints(n=3, k=14, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, k, 2, generator=g, dtype=torch.float64) * size


@pytest.mark.parametrize("stride", [1, 4])
def test_soft_argmax_of_a_sharp_peak_is_its_pixel_centre(stride):
    maps = torch.zeros(2, 3, 8, 8, dtype=torch.float64)
    maps[1, 2, 3, 5] = 60.0  # row 3, column 5
    decoded = soft_argmax(maps, stride)
    torch.testing.assert_close(decoded[1, 2], torch.tensor([5.5, 3.5], dtype=torch.float64) * stride)
    torch.testing.assert_close(decoded[0], torch.full((3, 2), 4.0 * stride, dtype=torch.float64))  # flat: the centre
    torch.testing.assert_close(argmax_decode(maps, stride)[1, 2], decoded[1, 2])


def test_gaussian_heatmaps_follow_the_pixel_centre_convention():
    joints = torch.tensor([[[10.5, 20.5], [3.0, 7.0]]], dtype=torch.float64)
    maps = gaussian_heatmaps(joints, torch.tensor([[True, False]]), size=(32, 24), stride=1, sigma=2.0)
    assert maps.shape == (1, 2, 32, 24)
    assert maps[0, 0, 20, 10] == 1.0 and maps[0, 0].argmax() == 20 * 24 + 10  # on the centre of pixel (20, 10)
    assert (maps[0, 1] == 0).all()  # invisible
    ys, xs = np.mgrid[0:32, 0:24] + 0.5
    np.testing.assert_allclose(maps[0, 0].numpy(), np.exp(-((xs - 10.5) ** 2 + (ys - 20.5) ** 2) / 8), rtol=1e-12)
    coarse = gaussian_heatmaps(joints, torch.ones(1, 2), size=(32, 24), stride=4, sigma=2.0)
    torch.testing.assert_close(coarse[0, 0, 5, 2], torch.tensor(np.exp(-(0.5**2 + 1.5**2) / 8)))  # cell centre (10, 22)


@pytest.mark.parametrize("stride", [1, 2, 4, 8])
def test_argmax_decode_recovers_the_joints_within_half_a_cell(stride):
    joints = random_joints()
    maps = gaussian_heatmaps(joints, torch.ones(3, 14), 64, stride, sigma=1.5 * stride)
    assert maps.shape == (3, 14, 64 // stride, 64 // stride)
    error = (argmax_decode(maps, stride) - joints).abs()
    assert (error <= stride / 2 + 1e-9).all()


def test_soft_argmax_of_log_gaussians_is_sub_cell_accurate():
    """A softmax of log-Gaussians is the normalised Gaussian, whose mean is the joint (interior joints)."""
    joints = 16 + random_joints(size=32)
    maps = gaussian_heatmaps(joints, torch.ones(3, 14), 64, stride=4, sigma=4.0)
    torch.testing.assert_close(soft_argmax(maps.log(), stride=4), joints, atol=1e-3, rtol=0)
    assert (argmax_decode(maps, 4) - joints).abs().max() > 0.5  # the hard argmax is not


def test_gradients_flow_through_soft_argmax():
    maps = torch.randn(2, 3, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda m: soft_argmax(m, stride=4, beta=2.0), (maps,))
    target = torch.full((2, 3, 2), 10.0, dtype=torch.float64)
    (grad,) = torch.autograd.grad((soft_argmax(maps, 4) - target).pow(2).sum(), maps)
    assert grad.abs().sum() > 0


def test_heatmap_loss_is_cross_entropy_over_positions_of_visible_joints():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 4, 5)
    targets = gaussian_heatmaps(random_joints(2, 3, 16).float(), torch.ones(2, 3), (16, 20), 4, sigma=4.0)
    visible = torch.tensor([[True, False, True], [False, True, True]])
    p = targets.flatten(2) / targets.flatten(2).sum(-1, keepdim=True)
    per_joint = -(p * F.log_softmax(logits.flatten(2), -1)).sum(-1)
    torch.testing.assert_close(heatmap_loss(logits, targets, visible), per_joint[visible].mean())
    changed = logits.clone()
    changed[0, 1] = 100 * torch.randn(4, 5)  # an invisible joint's map does not count
    torch.testing.assert_close(heatmap_loss(changed, targets, visible), heatmap_loss(logits, targets, visible))
    assert heatmap_loss(logits, targets, torch.zeros(2, 3)) == 0


def test_joint_loss_is_the_squared_distance_over_visible_joints():
    target = torch.zeros(2, 2, 2)
    pred = torch.tensor([[[3.0, 4.0], [100.0, 0.0]], [[1.0, 0.0], [0.0, 2.0]]])
    visible = torch.tensor([[1, 0], [1, 1]])
    assert joint_loss(pred, target, visible).item() == pytest.approx((25 + 1 + 4) / 3)
    assert joint_loss(pred, target, visible, scale=torch.tensor([5.0, 1.0])).item() == pytest.approx((1 + 1 + 4) / 3)


def test_pck_counts_visible_joints_within_the_threshold():
    target = random_joints(4, 5).float()
    visible = torch.ones(4, 5, dtype=torch.bool)
    per_joint, mean = pck(target.clone(), target, visible, 0.2, reference=64.0)
    assert per_joint.tolist() == [1.0] * 5 and mean == 1.0
    per_joint, mean = pck(target + 50, target, visible, 0.2, reference=torch.full((4,), 64.0))
    assert per_joint.tolist() == [0.0] * 5 and mean == 0.0
    pred = target.clone()
    pred[:, 0, 0] += torch.tensor([5.0, 15.0, 5.0, 500.0])  # joint 0: two within 0.2 * 50 px, one far, one invisible
    visible[3, 0] = False
    visible[:, 4] = False  # never visible
    per_joint, mean = pck(pred, target, visible, 0.2, reference=50.0)
    torch.testing.assert_close(per_joint[:4], torch.tensor([2 / 3, 1.0, 1.0, 1.0]))
    assert per_joint[4].isnan() and mean.item() == pytest.approx(14 / 15)


@pytest.mark.parametrize("call, words", [
    (lambda: HeatmapNet(14, stride=3), ["stride must be a power of two", "got 3"]),
    (lambda: HeatmapNet(14, widths=(8, 16), stride=8), ["from 1 to 2^len(widths) = 4"]),
    (lambda: HeatmapNet(14)(torch.zeros(1, 3, 40, 40)), ["multiples of 16", "40x40"]),
    (lambda: JointRegressor(14)(torch.zeros(1, 1, 64, 64)), ["(N, 3, H, W)", "(1, 1, 64, 64)"]),
    (lambda: gaussian_heatmaps(torch.zeros(1, 2, 2), torch.ones(1, 2), 30, 4, 2.0),
     ["stride must be a positive int dividing"]),
    (lambda: pck(torch.zeros(1, 2, 2), torch.zeros(1, 3, 2), torch.ones(1, 2), 0.2, 1.0),
     ["pck", "target of shape (1, 3, 2)"]),
    (lambda: joint_loss(torch.zeros(1, 2, 2), torch.zeros(1, 2, 2), torch.ones(2)),
     ["visible must be (N, K) = (1, 2)"]),
    (lambda: heatmap_loss(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 5), torch.ones(1, 2)), ["targets must have"]),
])
def test_bad_input_errors(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("stride", [1, 4, 16])
def test_model_output_shapes(stride):
    x = torch.randn(2, 3, 32, 48)
    assert JointRegressor(14, image_size=(32, 48)).eval()(x).shape == (2, 14, 2)
    assert HeatmapNet(14, stride=stride).eval()(x).shape == (2, 14, 32 // stride, 48 // stride)


def test_regressor_loss_decreases_on_a_repeated_batch():
    torch.manual_seed(0)
    images, joints, visible = torch.randn(8, 3, 32, 32), random_joints(8, 5, 32).float(), torch.rand(8, 5) > 0.2
    model = JointRegressor(5, widths=(8, 16), image_size=32)
    losses = train_steps(model, lambda m: joint_loss(m(images), joints, visible, scale=32.0), lr=3e-4)
    assert losses[-1] < 0.5 * losses[0], losses


def test_heatmap_loss_decreases_on_a_repeated_batch():
    torch.manual_seed(0)
    images, joints, visible = torch.randn(8, 3, 32, 32), random_joints(8, 5, 32).float(), torch.rand(8, 5) > 0.2
    targets = gaussian_heatmaps(joints, visible, 32, stride=4, sigma=3.0)
    model = HeatmapNet(5, widths=(8, 16, 32), stride=4)
    losses = train_steps(model, lambda m: heatmap_loss(m(images), targets, visible))
    assert losses[-1] < 0.9 * losses[0], losses
