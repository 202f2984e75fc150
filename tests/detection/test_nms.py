"""nms, nms_loop and batched_nms equal torchvision.ops on random boxes: the same indices in the same order."""

import pytest
import torch
import torchvision.ops as tv

from cnncourse.detection import batched_nms, nms, nms_loop


def random_boxes(n, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    corner = torch.rand(n, 2, generator=g) * 100
    boxes = torch.cat([corner, corner + torch.rand(n, 2, generator=g) * 40], 1).to(dtype)
    return boxes, torch.rand(n, generator=g).to(dtype)


@pytest.mark.parametrize("n", [0, 1, 30, 400])
@pytest.mark.parametrize("iou_threshold", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_nms_and_the_loop_equal_torchvision(n, iou_threshold):
    boxes, scores = random_boxes(n, seed=n)
    expected = tv.nms(boxes, scores, iou_threshold)
    for ours in (nms, nms_loop):
        kept = ours(boxes, scores, iou_threshold)
        assert kept.dtype == torch.int64
        assert torch.equal(kept, expected), ours.__name__


def test_nms_in_double_and_with_a_long_suppression_chain():
    # each box overlaps the next one just above the threshold: kept, dropped, kept, ... greedy decides in order
    x = torch.arange(40, dtype=torch.float64) * 3.0
    boxes = torch.stack([x, torch.zeros_like(x), x + 10, torch.full_like(x, 10)], 1)
    scores = torch.linspace(1, 0.1, 40, dtype=torch.float64)
    for threshold in (0.5, 0.7):
        assert torch.equal(nms(boxes, scores, threshold), tv.nms(boxes, scores, threshold))
    assert torch.equal(nms(boxes, scores, 0.5), torch.arange(0, 40, 2))


@pytest.mark.parametrize("n", [0, 50, 300])
def test_batched_nms_equals_torchvision_and_never_suppresses_across_classes(n):
    boxes, scores = random_boxes(n, seed=10 + n)
    idxs = torch.randint(0, 4, (n,), generator=torch.Generator().manual_seed(n))
    kept = batched_nms(boxes, scores, idxs, 0.5)
    assert torch.equal(kept, tv.batched_nms(boxes, scores, idxs, 0.5))
    same = torch.cat([boxes, boxes]), torch.cat([scores, scores - 1e-3]), torch.cat([idxs * 0, idxs * 0 + 1])
    assert len(batched_nms(*same, 0.5)) == 2 * len(nms(boxes, scores, 0.5))  # each copy in its own class


@pytest.mark.parametrize("call, message", [
    (lambda b, s: nms(b.flip(1), s, 0.5), r"nms: boxes must have x2 >= x1 and y2 >= y1"),
    (lambda b, s: nms(b[:, :3], s, 0.5), r"nms: boxes must have shape \(\.\.\., 4\)"),
    (lambda b, s: nms(b, s[:-1], 0.5), r"nms: scores must be \(N,\) with N = 5 \(one per box\); got \(4,\)"),
    (lambda b, s: nms(b, s, 1.5), r"nms: iou_threshold must be a number in \[0, 1\]; got 1.5"),
    (lambda b, s: batched_nms(b, s, torch.zeros(3), 0.5), r"batched_nms: idxs must be \(N,\) with N = 5"),
    (lambda b, s: nms_loop(b, s, -0.1), r"nms_loop: iou_threshold"),
])
def test_bad_input_is_named(call, message):
    boxes, scores = random_boxes(5, seed=0)
    boxes[:, 2:] += 1  # strictly positive sizes, so that flipping inverts every box
    with pytest.raises(ValueError, match=message):
        call(boxes, scores)
