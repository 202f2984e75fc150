"""Grading: the exercises of the chapter *Classification + localisation, and pose*."""

import pytest
import torch
import torchvision.ops as tv

BOXES = pytest.mark.forbid("torchvision.ops.box_iou", "torchvision.ops.generalized_box_iou",
                           "torchvision.ops.generalized_box_iou_loss", "cnncourse.boxes.box_iou",
                           "cnncourse.boxes.elementwise_box_iou", "cnncourse.boxes.iou_loss",
                           "cnncourse.boxes.giou_loss")
SOFT_ARGMAX = pytest.mark.forbid("cnncourse.pose.soft_argmax")


def random_boxes(n, seed, size=50.0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * size
    return torch.cat([xy, xy + torch.rand(n, 2, generator=g) * size / 2], 1)


@BOXES
@pytest.mark.points(1)
def test_box_iou_by_hand(submission):
    a = torch.tensor([[0.0, 0, 2, 2]])
    b = torch.tensor([[1.0, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6], [0, 0, 1, 2]])
    got = submission("localization_pose").box_iou(a, b)
    torch.testing.assert_close(got, torch.tensor([[1 / 7, 1.0, 0.0, 0.5]]))


@BOXES
@pytest.mark.points(3)
@pytest.mark.parametrize("seed", [0, 1])
def test_box_iou_equals_torchvision_on_random_boxes(submission, seed):
    a, b = random_boxes(13, seed), random_boxes(9, seed + 5)
    got = submission("localization_pose").box_iou(a, b)
    assert got.shape == (13, 9), f"expected (N, M) = (13, 9); got {tuple(got.shape)}"
    torch.testing.assert_close(got, tv.box_iou(a, b), atol=1e-6, rtol=0)


@BOXES
@pytest.mark.points(2)
@pytest.mark.parametrize("seed", [0, 1])
def test_iou_loss_is_the_mean_over_matched_pairs(submission, seed):
    a, b = random_boxes(11, seed), random_boxes(11, seed + 7)
    b[:4] = a[:4] + 1.0  # some pairs overlap a lot
    got = submission("localization_pose").iou_loss(a, b)
    expected = (1 - tv.box_iou(a, b).diagonal()).mean()
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


@BOXES
@pytest.mark.points(1)
def test_iou_loss_of_perfect_and_disjoint_boxes(submission):
    loss = submission("localization_pose").iou_loss
    box = torch.tensor([[2.0, 3, 7, 9]])
    assert loss(box, box).item() == pytest.approx(0, abs=1e-5)
    assert loss(box, box + 20).item() == pytest.approx(1, abs=1e-5)


@SOFT_ARGMAX
@pytest.mark.points(2)
def test_soft_argmax_of_a_sharp_peak_is_its_cell_centre(submission):
    heat = torch.full((1, 2, 8, 6), -50.0)
    heat[0, 0, 3, 1] = 50.0  # row 3, column 1
    heat[0, 1, 7, 5] = 50.0
    got = submission("localization_pose").soft_argmax(heat, 4)
    torch.testing.assert_close(got, torch.tensor([[[6.0, 14.0], [22.0, 30.0]]]), atol=1e-4, rtol=0)


@SOFT_ARGMAX
@pytest.mark.points(2)
def test_soft_argmax_is_an_expectation_with_gradients(submission):
    g = torch.Generator().manual_seed(3)
    heat = torch.randn(2, 3, 5, 7, generator=g, requires_grad=True)
    got = submission("localization_pose").soft_argmax(heat, 2)
    p = heat.detach().flatten(2).softmax(-1).view(2, 3, 5, 7)
    x = (p * ((torch.arange(7) + 0.5) * 2)).sum((2, 3))
    y = (p * ((torch.arange(5) + 0.5) * 2)[:, None]).sum((2, 3))
    torch.testing.assert_close(got, torch.stack([x, y], -1), atol=1e-5, rtol=0)
    got.sum().backward()
    assert heat.grad is not None and heat.grad.abs().sum() > 0, "soft-argmax must pass gradients to the heatmaps"
