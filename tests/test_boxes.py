"""cnncourse.boxes against torchvision.ops on random boxes."""

import pytest
import torch
import torchvision.ops as tv

from cnncourse import boxes as B
from cnncourse.data import shapes


def random_boxes(n, seed, size=100.0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * size
    wh = torch.rand(n, 2, generator=g) * size / 2
    return torch.cat([xy, xy + wh], 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_iou_and_giou_equal_torchvision(seed):
    a, b = random_boxes(37, seed), random_boxes(23, seed + 10)
    torch.testing.assert_close(B.box_iou(a, b), tv.box_iou(a, b), atol=1e-6, rtol=0)
    torch.testing.assert_close(B.generalized_box_iou(a, b), tv.generalized_box_iou(a, b), atol=1e-6, rtol=0)
    torch.testing.assert_close(B.box_area(a), tv.box_area(a), atol=1e-6, rtol=0)


def test_elementwise_iou_is_the_diagonal_of_the_pairwise_matrix():
    a, b = random_boxes(20, 3), random_boxes(20, 4)
    torch.testing.assert_close(B.elementwise_box_iou(a, b), tv.box_iou(a, b).diagonal(), atol=1e-6, rtol=0)


@pytest.mark.parametrize("fmts", [("xyxy", "xywh"), ("xyxy", "cxcywh"), ("xywh", "cxcywh"), ("cxcywh", "xywh"),
                                  ("xywh", "xyxy"), ("cxcywh", "xyxy")])
def test_box_convert_equals_torchvision(fmts):
    boxes = tv.box_convert(random_boxes(15, 5), "xyxy", fmts[0])
    torch.testing.assert_close(B.box_convert(boxes, *fmts), tv.box_convert(boxes, *fmts), atol=1e-5, rtol=0)


def test_masks_to_boxes_equals_torchvision_including_empty_masks():
    g = torch.Generator().manual_seed(0)
    masks = torch.rand(6, 17, 23, generator=g) > 0.97
    masks[2] = False
    masks[4] = False
    masks[4, 5, 9] = True  # a single pixel: x1 = x2 = 9
    torch.testing.assert_close(B.masks_to_boxes(masks), tv.masks_to_boxes(masks))
    assert B.masks_to_boxes(masks)[4].tolist() == [9, 5, 9, 5]


def test_shapes_boxes_enclose_pixel_squares_one_more_than_masks_to_boxes():
    scene = shapes(n=1, size=48, objects=(3, 3))[0]
    torch.testing.assert_close(scene["boxes"], B.masks_to_boxes(scene["masks"]) + torch.tensor([0.0, 0, 1, 1]))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_giou_loss_equals_torchvision_values_and_gradients(reduction):
    a, b = random_boxes(30, 7).requires_grad_(), random_boxes(30, 8)
    ours = B.giou_loss(a, b, reduction=reduction)
    theirs = tv.generalized_box_iou_loss(a, b, reduction=reduction)
    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0)
    (g1,) = torch.autograd.grad(ours.sum(), a)
    (g2,) = torch.autograd.grad(theirs.sum(), a)
    torch.testing.assert_close(g1, g2, atol=1e-6, rtol=1e-5)


def test_iou_loss_is_zero_for_a_perfect_box_and_one_without_overlap_while_giou_keeps_a_gradient():
    target = torch.tensor([[10.0, 10, 20, 20]])
    assert B.iou_loss(target, target).item() == pytest.approx(0, abs=1e-6)
    far = torch.tensor([[30.0, 30, 40, 40]], requires_grad=True)
    assert B.iou_loss(far, target).item() == pytest.approx(1)
    (grad,) = torch.autograd.grad(B.iou_loss(far, target), far)
    assert grad.abs().sum() == 0  # no overlap, nothing to follow
    (grad,) = torch.autograd.grad(B.giou_loss(far, target), far)
    assert grad.abs().sum() > 0
    assert 1 < B.giou_loss(far, target).item() < 2


def test_bad_boxes_get_errors_that_name_the_argument():
    good = random_boxes(3, 0)
    with pytest.raises(ValueError, match=r"box_iou: boxes2 must have x2 >= x1.*1 boxes"):
        B.box_iou(good, torch.tensor([[5.0, 0, 1, 1]]))
    with pytest.raises(ValueError, match=r"box_iou: boxes1 must have shape \(\.\.\., 4\).*\(3, 5\)"):
        B.box_iou(torch.zeros(3, 5), good)
    with pytest.raises(ValueError, match=r"giou_loss: pred and target must have the same shape"):
        B.giou_loss(good, good[:2])
    with pytest.raises(ValueError, match=r"box_convert: in_fmt must be one of"):
        B.box_convert(good, "xyzw", "xyxy")
    with pytest.raises(ValueError, match=r"iou_loss: reduction must be one of"):
        B.iou_loss(good, good, reduction="avg")
    with pytest.raises(ValueError, match=r"masks_to_boxes: masks must be a 3-D tensor"):
        B.masks_to_boxes(torch.zeros(4, 4))
