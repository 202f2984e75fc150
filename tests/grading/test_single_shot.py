"""Grading: the exercises of the chapter *Single-shot detectors: YOLO and SSD*."""

import pytest
import torch

from cnncourse.detection import hard_negatives, yolo_targets
from tests.grading.boxes import random_boxes

TARGETS = pytest.mark.forbid("cnncourse.detection.yolo_targets", "cnncourse.detection.yolo.yolo_targets")
NEGATIVES = pytest.mark.forbid("cnncourse.detection.hard_negatives", "cnncourse.detection.ssd.hard_negatives")


@TARGETS
@pytest.mark.points(2)
def test_yolo_targets_by_hand(submission):
    boxes = torch.tensor([[10.0, 20, 40, 60], [70, 5, 90, 25]])
    got = submission("single_shot").yolo_targets(boxes, torch.tensor([1, 2]), 112, 7, 3)
    assert got.shape == (7, 7, 8), f"expected (7, 7, 8); got {tuple(got.shape)}"
    # centre (25, 40): column 1, row 2 of 16-pixel cells, offsets (9 / 16, 8 / 16); 30 x 40 of 112; class 1
    torch.testing.assert_close(got[2, 1], torch.tensor([9 / 16, 8 / 16, 30 / 112, 40 / 112, 1, 0, 1, 0]))
    torch.testing.assert_close(got[0, 5], torch.tensor([0.0, 15 / 16, 20 / 112, 20 / 112, 1, 0, 0, 1]))
    assert got.abs().sum() == pytest.approx(got[2, 1].sum() + got[0, 5].sum()), "other cells must be 0"


@TARGETS
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, image_size, grid, num_classes", [(0, 64, 7, 3), (1, 64, 8, 3), (2, 448, 7, 20)])
def test_yolo_targets_equal_the_course_on_random_objects(submission, seed, image_size, grid, num_classes):
    boxes = random_boxes(6, seed, image_size)
    labels = torch.randint(0, num_classes, (6,), generator=torch.Generator().manual_seed(seed))
    got = submission("single_shot").yolo_targets(boxes, labels, image_size, grid, num_classes)
    expected = yolo_targets([boxes], [labels], image_size, grid, num_classes)[0]
    assert got.shape == expected.shape, f"expected {tuple(expected.shape)}; got {tuple(got.shape)}"
    torch.testing.assert_close(got.float(), expected)


@TARGETS
@pytest.mark.points(1)
def test_yolo_targets_keep_the_later_object_of_a_shared_cell_and_clip_at_the_edge(submission):
    boxes = torch.tensor([[0.0, 0, 8, 8], [2, 2, 12, 10], [50, 50, 64, 64]])  # two centres in cell (0, 0)
    labels = torch.tensor([0, 2, 1])
    got = submission("single_shot").yolo_targets(boxes, labels, 64, 4, 3)
    torch.testing.assert_close(got.float(), yolo_targets([boxes], [labels], 64, 4, 3)[0])
    assert got[0, 0, 5:].tolist() == [0, 0, 1], "the later object's class, and only it"
    empty = submission("single_shot").yolo_targets(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), 64, 4, 3)
    assert empty.shape == (4, 4, 8) and empty.abs().sum() == 0


@NEGATIVES
@pytest.mark.points(2)
def test_hard_negatives_by_hand(submission):
    loss = torch.tensor([[0.9, 0.1, 0.8, 0.3, 0.7, 0.2], [0.5, 0.4, 0.3, 0.2, 0.1, 0.0]])
    positive = torch.tensor([[True, False, False, False, False, False], [False] * 6])
    got = submission("single_shot").hard_negatives(loss, positive, 2)
    expected = [[False, False, True, False, True, False], [False] * 6]  # two per positive; none without one
    assert got.tolist() == expected, f"expected {expected}; got {got.tolist()}"


@NEGATIVES
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, ratio", [(0, 3), (1, 1), (2, 5)])
def test_hard_negatives_equal_the_course_on_random_losses(submission, seed, ratio):
    g = torch.Generator().manual_seed(seed)
    loss = torch.rand(4, 50, generator=g)
    positive = torch.rand(4, 50, generator=g) < torch.tensor([[0.02], [0.1], [0.3], [0.0]])
    got = submission("single_shot").hard_negatives(loss, positive, ratio)
    expected = hard_negatives(loss, positive, ratio)
    assert got.shape == expected.shape, f"expected {tuple(expected.shape)}; got {tuple(got.shape)}"
    assert torch.equal(got.bool(), expected), (f"negatives per image: expected {expected.sum(1).tolist()}; got "
                                               f"{got.bool().sum(1).tolist()}")
