"""Grading: the exercises of the chapter *Fast and Faster R-CNN*."""

import pytest
import torch
import torchvision.ops as tv
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList

from tests.grading.boxes import random_boxes

ROI_POOL = pytest.mark.forbid("torchvision.ops.roi_pool", "torchvision.ops.RoIPool", "cnncourse.detection.roi_pool",
                              "torchvision.ops.roi_align", "cnncourse.detection.roi_align")
ANCHORS = pytest.mark.forbid("cnncourse.detection.generate_anchors", "cnncourse.detection.grid_anchors",
                             "cnncourse.detection.cell_anchors",
                             "torchvision.models.detection.anchor_utils.AnchorGenerator")


@ROI_POOL
@pytest.mark.points(2)
def test_roi_pool_by_hand(submission):
    features = torch.arange(16.0).view(1, 4, 4)
    got = submission("fast_faster_rcnn").roi_pool(features, torch.tensor([[0.0, 0, 3, 3]]), 2, 1.0)
    torch.testing.assert_close(got, torch.tensor([[[[5.0, 7], [13, 15]]]]))


@ROI_POOL
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, size, scale", [(0, 2, 1 / 8), (1, 3, 1 / 8), (2, 4, 0.25)])
def test_roi_pool_equals_torchvision(submission, seed, size, scale):
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(5, 8, 8, generator=g)
    boxes = random_boxes(12, seed, 8 / scale)
    got = submission("fast_faster_rcnn").roi_pool(features, boxes, size, scale)
    expected = tv.roi_pool(features[None], [boxes], size, scale)
    assert got.shape == expected.shape, f"expected {tuple(expected.shape)}; got {tuple(got.shape)}"
    torch.testing.assert_close(got, expected)


@ROI_POOL
@pytest.mark.points(1)
def test_roi_pool_rounds_halves_away_from_zero_and_clips_at_the_edge(submission):
    g = torch.Generator().manual_seed(3)
    features = torch.randn(2, 6, 6, generator=g)
    boxes = torch.tensor([[2.0, 2, 10, 10], [6.0, 6, 30, 30], [-4.0, -4, 6, 6]])  # halves at scale 1/4; past edges
    got = submission("fast_faster_rcnn").roi_pool(features, boxes, 3, 0.25)
    torch.testing.assert_close(got, tv.roi_pool(features[None], [boxes], 3, 0.25))


@ANCHORS
@pytest.mark.points(1)
def test_anchors_by_hand(submission):
    got = submission("fast_faster_rcnn").anchors((4,), (1.0, 4.0), (1, 2), 8)
    expected = torch.tensor([[-2.0, -2, 2, 2], [-1, -4, 1, 4], [6, -2, 10, 2], [7, -4, 9, 4]])
    torch.testing.assert_close(got, expected)


@ANCHORS
@pytest.mark.points(3)
@pytest.mark.parametrize("sizes, ratios, feature_size, stride", [
    ((16, 24, 32), (0.5, 1.0, 2.0), (8, 8), 8), ((32, 64), (1.0, 2.0), (3, 5), 16), ((128, 256, 512), (0.5, 1.0, 2.0), (4, 6), 16),
])
def test_anchors_equal_torchvisions_anchor_generator(submission, sizes, ratios, feature_size, stride):
    got = submission("fast_faster_rcnn").anchors(sizes, ratios, feature_size, stride)
    h, w = feature_size
    images = ImageList(torch.zeros(1, 3, h * stride, w * stride), [(h * stride, w * stride)])
    expected = AnchorGenerator((tuple(sizes),), (tuple(ratios),))(images, [torch.zeros(1, 1, h, w)])[0]
    assert got.shape == expected.shape, f"expected {tuple(expected.shape)}; got {tuple(got.shape)}"
    torch.testing.assert_close(got.float(), expected)
