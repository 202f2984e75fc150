"""Exercises for the chapter *Boxes: IoU, non-maximum suppression and mean average precision*.

Grade them with ``make grade`` (or ``pytest tests/grading -k boxes_nms_map --impl=exercises``).
"""

import numpy as np
import torch

from cnncourse.boxes import box_iou  # IoU of every pair of boxes, from the chapter on localisation


def nms(boxes, scores, iou_threshold):
    """Greedy non-maximum suppression: the indices of the boxes kept, by decreasing score.

    boxes (N, 4) as (x1, y1, x2, y2), scores (N,). Take the highest-scoring
    box that is left, keep it, and remove every remaining box whose IoU with
    it is greater than iou_threshold (strictly: an IoU equal to the
    threshold survives, as in torchvision.ops.nms); repeat until no box is
    left. Return an int64 tensor of indices into boxes.

    Hint: order = scores.argsort(descending=True); compute box_iou(boxes,
    boxes) once; walk through order with a boolean "suppressed" tensor, and
    skip boxes already suppressed: only a kept box suppresses others.
    """
    ### BEGIN SOLUTION
    order = scores.argsort(descending=True)
    iou = box_iou(boxes, boxes)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return torch.tensor(keep, dtype=torch.int64)
    ### END SOLUTION


def precision_recall(hits, scores, num_truths):
    """Precision and recall after each detection, going down the list ranked by score.

    hits (D,) bool: whether detection d is a true positive; scores (D,);
    num_truths: how many objects there are. Rank the detections by
    decreasing score (a stable sort: equal scores keep their order); after
    the first k of them, precision = true positives so far / k and recall =
    true positives so far / num_truths. Return two float64 numpy arrays of
    length D, (precision, recall).

    Hint: np.argsort(-scores, kind="stable") and np.cumsum.
    """
    ### BEGIN SOLUTION
    hits, scores = np.asarray(hits, dtype=bool), np.asarray(scores, dtype=float)
    ranked = hits[np.argsort(-scores, kind="stable")]
    true_positives = np.cumsum(ranked)
    precision = true_positives / np.arange(1, len(ranked) + 1)
    recall = true_positives / num_truths
    return precision.astype(np.float64), recall.astype(np.float64)
    ### END SOLUTION


def average_precision(recall, precision):
    """Average precision with every point counted (PASCAL VOC from 2010): the area under the envelope.

    recall and precision (D,) along the ranked detections, recall
    non-decreasing. First replace each precision by the best precision at
    that recall or beyond (the envelope, which removes the curve's
    zig-zag); then sum, over the ranks, the recall gained at that rank
    (from 0 before the first) times the envelope there. Return a float;
    0.0 for an empty list.

    Hint: np.maximum.accumulate on the reversed precision gives the
    envelope (reversed); np.diff(recall, prepend=0) the recall gained.
    """
    ### BEGIN SOLUTION
    recall, precision = np.asarray(recall, dtype=float), np.asarray(precision, dtype=float)
    if len(recall) == 0:
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return float((np.diff(recall, prepend=0.0) * envelope).sum())
    ### END SOLUTION
