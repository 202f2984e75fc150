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
    ### BEGIN SOLUTION
    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    return inter / (area1[:, None] + area2[None, :] - inter)
    ### END SOLUTION


def iou_loss(pred, target):
    """The IoU loss of matched boxes, pred and target (N, 4): the mean of 1 - IoU(pred_i, target_i).

    Only the N matched pairs count (not every pair). It is 0 for perfect
    boxes and 1 for boxes that do not overlap. Add 1e-7 to the union so that
    two empty boxes do not divide by zero.
    """
    ### BEGIN SOLUTION
    top_left = torch.maximum(pred[:, :2], target[:, :2])
    bottom_right = torch.minimum(pred[:, 2:], target[:, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[:, 0] * wh[:, 1]
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    return (1 - inter / (area(pred) + area(target) - inter + 1e-7)).mean()
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    n, k, h, w = heatmaps.shape
    prob = heatmaps.reshape(n, k, h * w).softmax(-1).reshape(n, k, h, w)
    xs = (torch.arange(w, dtype=prob.dtype, device=prob.device) + 0.5) * stride
    ys = (torch.arange(h, dtype=prob.dtype, device=prob.device) + 0.5) * stride
    x = (prob.sum(2) * xs).sum(-1)
    y = (prob.sum(3) * ys).sum(-1)
    return torch.stack([x, y], -1)
    ### END SOLUTION
