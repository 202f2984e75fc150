# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/relations.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *What detections are for: relations and scene graphs*.

Grade them with ``make grade`` (or ``pytest tests/grading -k relations --impl=exercises``).
"""

import torch
from torchvision.ops import box_iou


def intersection_boxes(boxes, pairs):
    """The overlap of the two boxes of each pair.

    boxes is (K, 4) in (x1, y1, x2, y2) form; pairs is (P, 2) long, each row
    (subject index, object index). Return (P, 4): for each pair, the largest
    box inside both of its boxes. When the two boxes do not meet, return a
    box of zero width (or height, or both) instead of one whose x2 < x1
    or y2 < y1: keep its top-left corner (the larger of the two x1, the
    larger of the two y1) and raise x2 (y2) to x1 (y1) where it would fall
    below it.

    Hint: torch.maximum and torch.minimum work elementwise on two tensors.
    """
    raise NotImplementedError('intersection_boxes: not implemented yet. Hint: torch.maximum and torch.minimum work elementwise on two tensors.')


def found_triplets(boxes, labels, pairs, predicted, true_boxes, true_labels, true_pairs, true_relations,
                   threshold=0.5):
    """Which true (subject, relation, object) triplets of one image the predicted ones find.

    The detections are boxes (D, 4) with class labels (D,); pairs (Q, 2)
    lists ordered pairs of detections (subject, object) and predicted
    (Q, R) bool says which of R relations the model predicts for each. The
    truth is true_boxes (K, 4), true_labels (K,), true_pairs (P, 2) and
    true_relations (P, R) bool. The predicted triplet (pair q, relation r)
    finds the true triplet (pair p, relation r) when both hold the relation
    and, for the subject and for the object alike, the detection has the
    true object's class and a box IoU >= threshold with the true box. Return
    a (P, R) bool tensor: which true triplets some predicted triplet finds.
    This is the "relationship detection" of Lu et al. (2016).

    Hint: torchvision.ops.box_iou(boxes, true_boxes) gives the (D, K) IoUs.
    """
    raise NotImplementedError('found_triplets: not implemented yet. Hint: torchvision.ops.box_iou(boxes, true_boxes) gives the (D, K) IoUs.')
