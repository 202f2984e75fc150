"""Grading: the exercises of the chapter *What detections are for: relations and scene graphs*."""

import pytest
import torch
from torchvision.ops import box_iou

from cnncourse import relations

INTERSECTION = pytest.mark.forbid("cnncourse.relations.intersection_boxes")
FOUND = pytest.mark.forbid("cnncourse.relations.found_triplets")


def _random_boxes(generator, k, size=64.0):
    corners = torch.rand(k, 2, generator=generator) * size * 0.8
    sides = 2 + torch.rand(k, 2, generator=generator) * size * 0.4
    return torch.cat([corners, corners + sides], 1)


@INTERSECTION
@pytest.mark.points(2)
def test_intersection_boxes_by_hand(submission):
    boxes = torch.tensor([[0.0, 0, 10, 10], [5, 2, 20, 8], [30, 30, 40, 40]])
    pairs = torch.tensor([[0, 1], [1, 0], [0, 2], [2, 1]])
    got = submission("relations").intersection_boxes(boxes, pairs)
    assert got.tolist() == [[5.0, 2, 10, 8], [5, 2, 10, 8], [30, 30, 30, 30], [30, 30, 30, 30]], (
        "boxes that do not meet give a zero-size box at the larger x1, y1")


@INTERSECTION
@pytest.mark.points(2)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_intersection_boxes_area_matches_torchvisions_iou(submission, seed):
    g = torch.Generator().manual_seed(seed)
    boxes = _random_boxes(g, 6)
    pairs = relations.ordered_pairs(6)
    got = submission("relations").intersection_boxes(boxes, pairs)
    assert got.shape == (len(pairs), 4)
    assert (got[:, 2:] >= got[:, :2]).all(), "x2 >= x1 and y2 >= y1 for every box, meeting or not"
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    iou = box_iou(boxes, boxes)[pairs[:, 0], pairs[:, 1]]
    a, b = area(boxes)[pairs[:, 0]], area(boxes)[pairs[:, 1]]
    torch.testing.assert_close(area(got), iou * (a + b) / (1 + iou))  # IoU = I / (A + B - I)


def _scene(seed, k=3, relations_count=5):
    g = torch.Generator().manual_seed(seed)
    boxes = _random_boxes(g, k)
    labels = torch.randint(1, 4, (k,), generator=g)
    pairs = relations.ordered_pairs(k)
    truth = torch.rand(len(pairs), relations_count, generator=g) < 0.5
    return boxes, labels, pairs, truth


def _exact(boxes, labels, pairs, truth):
    """Detections equal to the truth, in another order: every true triplet is found."""
    order = torch.arange(len(boxes)).flip(0)
    new = torch.empty_like(order)
    new[order] = torch.arange(len(boxes))
    return boxes[order], labels[order], new[pairs], truth


@FOUND
@pytest.mark.points(2)
@pytest.mark.parametrize("seed", [0, 1])
def test_found_triplets_perfect_detections_find_everything_and_nothing_more(submission, seed):
    boxes, labels, pairs, truth = _scene(seed)
    got = submission("relations").found_triplets(*_exact(boxes, labels, pairs, truth), boxes, labels, pairs, truth)
    assert got.dtype == torch.bool and got.shape == truth.shape
    assert torch.equal(got, truth), "perfect detections and predictions find every true triplet, and only those"


@FOUND
@pytest.mark.points(2)
def test_found_triplets_needs_the_class_the_overlap_and_the_order(submission):
    boxes, labels, pairs, truth = _scene(3)
    found = submission("relations").found_triplets
    wrong_class = labels.clone()
    wrong_class[0] = labels[0] % 3 + 1
    got = found(boxes, wrong_class, pairs, truth, boxes, labels, pairs, truth)
    uses_0 = (pairs == 0).any(1)
    assert not got[uses_0].any(), "a detection of the wrong class finds no triplet"
    assert torch.equal(got[~uses_0], truth[~uses_0])
    shifted = boxes.clone()
    shifted[1] += 0.3 * (boxes[1, 2:] - boxes[1, :2]).repeat(2)  # IoU 0.49 / 1.51, about 0.32
    got = found(shifted, labels, pairs, truth, boxes, labels, pairs, truth, threshold=0.5)
    assert not got[(pairs == 1).any(1)].any(), "a box with IoU below threshold finds nothing"
    got = found(shifted, labels, pairs, truth, boxes, labels, pairs, truth, threshold=0.3)
    assert torch.equal(got, truth), "the threshold is the argument's, not a fixed 0.5"
    # the same objects, each pair predicted in the reverse order: (o, r, s) does not find (s, r, o)
    swapped = pairs.flip(1)
    reverse = {tuple(p): i for i, p in enumerate(pairs.tolist())}
    only_one_way = truth & ~truth[[reverse[(o, s)] for s, o in pairs.tolist()]]
    got = found(boxes, labels, swapped, only_one_way, boxes, labels, pairs, only_one_way)
    assert not got.any(), "a predicted (o, r, s) must not find the true (s, r, o)"


@FOUND
@pytest.mark.points(2)
@pytest.mark.parametrize("seed", [4, 5, 6])
def test_found_triplets_matches_a_loop_over_everything(submission, seed):
    g = torch.Generator().manual_seed(seed)
    true_boxes, true_labels, true_pairs, truth = _scene(seed)
    boxes = torch.cat([true_boxes + torch.randn(3, 4, generator=g) * 2, _random_boxes(g, 2)])
    labels = torch.cat([true_labels, torch.randint(1, 4, (2,), generator=g)])
    labels[torch.rand(5, generator=g) < 0.2] = 1
    pairs = relations.ordered_pairs(5)
    predicted = torch.rand(len(pairs), 5, generator=g) < 0.6
    got = submission("relations").found_triplets(boxes, labels, pairs, predicted, true_boxes, true_labels,
                                                 true_pairs, truth, 0.5)
    iou = box_iou(boxes, true_boxes)
    expected = torch.zeros_like(truth)
    for p, (s, o) in enumerate(true_pairs.tolist()):
        for q, (ds, do) in enumerate(pairs.tolist()):
            ok = (labels[ds] == true_labels[s] and labels[do] == true_labels[o]
                  and iou[ds, s] >= 0.5 and iou[do, o] >= 0.5)
            for r in range(5):
                expected[p, r] |= bool(ok and predicted[q, r] and truth[p, r])
    assert torch.equal(got, expected)
    assert torch.equal(expected, relations.found_triplets(boxes, labels, pairs, predicted, true_boxes, true_labels,
                                                          true_pairs, truth)[0])
