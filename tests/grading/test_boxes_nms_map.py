"""Grading: the exercises of the chapter *Boxes: IoU, non-maximum suppression and mean average precision*."""

import numpy as np
import pytest
import torch
import torchvision.ops as tv

from cnncourse.detection import average_precision as reference_ap

from tests.grading.boxes import random_boxes

NMS = pytest.mark.forbid("torchvision.ops.nms", "torchvision.ops.batched_nms", "cnncourse.detection.nms",
                         "cnncourse.detection.nms_loop", "cnncourse.detection.batched_nms")
AP = pytest.mark.forbid("cnncourse.detection.average_precision", "sklearn.metrics.average_precision_score")


@NMS
@pytest.mark.points(2)
def test_nms_by_hand(submission):
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 9, 10], [21, 20, 31, 30]])
    scores = torch.tensor([0.9, 0.95, 0.5, 0.3, 0.6])
    keep = submission("boxes_nms_map").nms(boxes, scores, 0.5)
    assert keep.tolist() == [1, 4], "box 1 suppresses 0 and 3 (IoU > 0.5), box 4 suppresses 2"


@NMS
@pytest.mark.points(1)
def test_nms_keeps_a_box_whose_iou_equals_the_threshold(submission):
    boxes = torch.tensor([[0.0, 0, 3, 1], [1, 0, 4, 1]])  # IoU exactly 0.5
    keep = submission("boxes_nms_map").nms(boxes, torch.tensor([0.8, 0.7]), 0.5)
    assert keep.tolist() == [0, 1]


@NMS
@pytest.mark.points(1)
def test_nms_only_kept_boxes_suppress(submission):
    # 0 suppresses 1; 1 would have suppressed 2, but 1 is gone, so 2 stays
    boxes = torch.tensor([[0.0, 0, 10, 10], [4, 0, 14, 10], [8, 0, 18, 10]])
    keep = submission("boxes_nms_map").nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.4)
    assert keep.tolist() == [0, 2]


@NMS
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, threshold", [(0, 0.5), (1, 0.3), (2, 0.7)])
def test_nms_equals_torchvision_on_random_boxes(submission, seed, threshold):
    boxes = random_boxes(60, seed, 40.0, 1.0)
    scores = torch.randperm(60, generator=torch.Generator().manual_seed(seed)).float() / 60  # distinct
    keep = submission("boxes_nms_map").nms(boxes, scores, threshold)
    assert keep.dtype == torch.int64, f"indices must be int64; got {keep.dtype}"
    assert keep.tolist() == tv.nms(boxes, scores, threshold).tolist()


@pytest.mark.points(2)
def test_precision_recall_by_hand(submission):
    hits = np.array([True, False, True, True, False])
    scores = np.array([0.9, 0.8, 0.3, 0.7, 0.1])  # ranked: 0 (hit), 1 (miss), 3 (hit), 2 (hit), 4 (miss)
    precision, recall = submission("boxes_nms_map").precision_recall(hits, scores, 4)
    np.testing.assert_allclose(precision, [1, 1 / 2, 2 / 3, 3 / 4, 3 / 5])
    np.testing.assert_allclose(recall, [1 / 4, 1 / 4, 2 / 4, 3 / 4, 3 / 4])


@pytest.mark.points(2)
@pytest.mark.parametrize("seed", [0, 1])
def test_precision_recall_on_random_lists(submission, seed):
    rng = np.random.default_rng(seed)
    hits, scores = rng.random(50) < 0.4, rng.random(50)
    precision, recall = submission("boxes_nms_map").precision_recall(hits, scores, 30)
    ranked = hits[np.argsort(-scores)]
    assert len(precision) == len(recall) == 50
    np.testing.assert_allclose(precision, np.cumsum(ranked) / np.arange(1, 51))
    np.testing.assert_allclose(recall, np.cumsum(ranked) / 30)


@AP
@pytest.mark.points(2)
def test_average_precision_by_hand(submission):
    # precision 1, 1/2, 2/3 at recalls 1/3, 1/3, 2/3: the envelope is 1, 2/3, 2/3
    got = submission("boxes_nms_map").average_precision([1 / 3, 1 / 3, 2 / 3], [1, 1 / 2, 2 / 3])
    assert got == pytest.approx(1 / 3 * 1 + 1 / 3 * 2 / 3)
    assert submission("boxes_nms_map").average_precision([], []) == 0.0


@AP
@pytest.mark.points(3)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_average_precision_equals_the_voc_all_point_area(submission, seed):
    rng = np.random.default_rng(seed)
    ranked = rng.random(40) < 0.5
    tp = np.cumsum(ranked)
    precision, recall = tp / np.arange(1, 41), tp / 25
    got = submission("boxes_nms_map").average_precision(recall, precision)
    assert got == pytest.approx(reference_ap(recall, precision, "voc"), abs=1e-9)
