# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/localization_pose.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Classification + localisation, and pose*.

Grade them with ``make grade`` (or ``pytest tests/grading -k localization_pose --impl=exercises``).
"""

import torch


def box_iou(boxes1, boxes2):
    """Intersection over union of every pair of boxes: (N, 4), (M, 4) -> (N, M).

    Boxes are (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1. The intersection of
    two boxes is the box from the larger top-left corner to the smaller
    bottom-right corner, with a width and height of zero when they do not
    overlap; the union is area1 + area2 - intersection.

    Hint: index with [:, None, :] and [None, :, :] so that torch.maximum and
    torch.minimum broadcast to (N, M, 2); .clamp(min=0) the width and height.
    """
    raise NotImplementedError('box_iou: not implemented yet. Hint: index with [:, None, :] and [None, :, :] so that torch.maximum and torch.minimum broadcast to (N, M, 2); .clamp(min=0) the width and height.')


def iou_loss(pred, target):
    """The IoU loss of matched boxes, pred and target (N, 4): the mean of 1 - IoU(pred_i, target_i).

    Only the N matched pairs count (not every pair). It is 0 for perfect
    boxes and 1 for boxes that do not overlap. Add 1e-7 to the union so that
    two empty boxes do not divide by zero.
    """
    raise NotImplementedError('iou_loss: not implemented yet. see the chapter.')


def soft_argmax(heatmaps, stride):
    """The expected position of each joint under the softmax of its heatmap: (N, K, h, w) -> (N, K, 2).

    Cell (i, j) of a heatmap with output stride ``stride`` covers input
    pixels [j * stride, (j + 1) * stride) across and [i * stride, (i + 1) *
    stride) down; its centre is x = (j + 0.5) * stride, y = (i + 0.5) *
    stride. Turn each heatmap into probabilities with a softmax over all
    h * w cells and return the expected (x, y) in input pixels. Unlike an
    argmax, the result is differentiable.

    Hint: flatten to (N, K, h * w), softmax over the last dim, reshape back,
    then sum probabilities times the x (and y) coordinate of each cell.
    """
    raise NotImplementedError('soft_argmax: not implemented yet. Hint: flatten to (N, K, h * w), softmax over the last dim, reshape back, then sum probabilities times the x (and y) coordinate of each cell.')
