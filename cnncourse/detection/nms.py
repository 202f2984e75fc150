"""Non-maximum suppression: one box per object out of many overlapping detections.

A detector scores many boxes around every object. Greedy NMS keeps the
highest-scoring box, removes every remaining box that overlaps it by an IoU
above ``iou_threshold``, and repeats with the next box still standing
(used by R-CNN, Girshick et al., 2014, and every detector since). Two
implementations of the same rule, at increasing speed:

* :func:`nms_loop`: the rule as written, one kept box at a time;
* :func:`nms`: all at once. With the pairs (i, j) where "box i ranks above
  box j and overlaps it too much", box j survives iff no *surviving* box i
  forms a pair with it. Starting from "everyone survives" and applying that
  rule to every box in parallel, the decision of the top box is right after
  one round, that of a box whose suppressors are all decided after one
  more, and so on: the rounds reach greedy NMS's answer exactly, usually in
  a handful of rounds over the (few) overlapping pairs.

Both equal ``torchvision.ops.nms``: same indices, in decreasing order of
score, suppressing when IoU > ``iou_threshold`` (strictly).
:func:`batched_nms` runs NMS per class (``idxs``), as
``torchvision.ops.batched_nms``.
"""

from __future__ import annotations

import torch

from cnncourse.boxes import check_boxes


def _check(fn, boxes, scores, iou_threshold, idxs=None):
    check_boxes(fn, "boxes", boxes)
    if boxes.dim() != 2:
        raise ValueError(f"{fn}: boxes must be (N, 4); got shape {tuple(boxes.shape)}")
    if not isinstance(scores, torch.Tensor) or scores.shape != boxes.shape[:1]:
        got = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise ValueError(f"{fn}: scores must be (N,) with N = {len(boxes)} (one per box); got {got}")
    if idxs is not None and (not isinstance(idxs, torch.Tensor) or idxs.shape != boxes.shape[:1]):
        got = tuple(idxs.shape) if isinstance(idxs, torch.Tensor) else type(idxs).__name__
        raise ValueError(f"{fn}: idxs must be (N,) with N = {len(boxes)} (one class per box); got {got}")
    if not isinstance(iou_threshold, (int, float)) or not 0 <= iou_threshold <= 1:
        raise ValueError(f"{fn}: iou_threshold must be a number in [0, 1]; got {iou_threshold!r}")


def _ranked_overlaps(boxes, scores, iou_threshold):
    """The order by decreasing score, and M (N, N): M[i, j] = rank i suppresses rank j (i < j, IoU > thr).

    The IoU of :func:`cnncourse.boxes.box_iou`, computed in place: the N x N
    matrices are the cost of this NMS, so each is made once.
    """
    order = scores.argsort(descending=True, stable=True)
    x1, y1, x2, y2 = boxes[order].unbind(1)
    area = (x2 - x1) * (y2 - y1)
    inter = torch.minimum(x2[:, None], x2).sub_(torch.maximum(x1[:, None], x1)).clamp_(min=0)
    inter.mul_(torch.minimum(y2[:, None], y2).sub_(torch.maximum(y1[:, None], y1)).clamp_(min=0))
    union = (area[:, None] + area).sub_(inter)
    return order, inter.div_(union).gt_(iou_threshold).bool().triu_(diagonal=1)


def nms_loop(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy NMS, one kept box at a time: boxes (N, 4) xyxy, scores (N,) -> kept indices (K,) int64."""
    _check("nms_loop", boxes, scores, iou_threshold)
    order, overlaps = _ranked_overlaps(boxes, scores, iou_threshold)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool, device=boxes.device)
    kept = []
    for rank in range(len(boxes)):
        if not suppressed[rank]:
            kept.append(rank)
            suppressed |= overlaps[rank]
    return order[torch.tensor(kept, dtype=torch.int64, device=boxes.device)]


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy NMS, all boxes decided in parallel rounds: boxes (N, 4) xyxy, scores (N,) -> kept indices (K,).

    Indices into ``boxes``, int64, in decreasing order of score, as ``torchvision.ops.nms``.
    """
    _check("nms", boxes, scores, iou_threshold)
    order, overlaps = _ranked_overlaps(boxes, scores, iou_threshold)
    above, below = overlaps.nonzero().unbind(1)  # the pairs (i, j): rank i would suppress rank j
    alive = torch.ones(len(boxes), dtype=torch.bool, device=boxes.device)
    for _ in range(len(boxes) + 1):
        # box j survives iff no surviving box above it overlaps it too much
        hits = torch.zeros(len(boxes), dtype=torch.int32, device=boxes.device)
        survivors = hits.index_add_(0, below, alive[above].to(torch.int32)) == 0
        if torch.equal(survivors, alive):
            break
        alive = survivors
    return order[alive]


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """NMS within each category ``idxs`` (N,): boxes of different categories never suppress each other.

    Kept indices (K,) int64 in decreasing order of score, as ``torchvision.ops.batched_nms``.
    """
    _check("batched_nms", boxes, scores, iou_threshold, idxs)
    if len(boxes) == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    # one image plane per category, side by side: shift each category's boxes past all others
    shift = (boxes.max() - boxes.min() + 1) * idxs.to(boxes.dtype)
    return nms(boxes + shift[:, None], scores, iou_threshold)
