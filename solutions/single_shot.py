"""Exercises for the chapter *Single-shot detectors: YOLO and SSD*.

Grade them with ``make grade`` (or ``pytest tests/grading -k single_shot --impl=exercises``).
"""

import math

import torch


def yolo_targets(boxes, labels, image_size, grid, num_classes):
    """YOLO v1's target tensor for one square image: boxes (K, 4), labels (K,) -> (S, S, 5 + C).

    boxes are (x1, y1, x2, y2) in pixels of an image_size x image_size image;
    labels are class indices in [0, C); S = grid, C = num_classes. The cell
    in row i, column j covers image_size / S pixels of each side; the cell
    that holds an object's centre (cx, cy) is responsible for it:
    j = floor(cx / image_size * S), i = floor(cy / image_size * S), clipped
    to [0, S - 1]. That cell's entries are
      [0]: x = cx / image_size * S - j   (the centre's offset in the cell, 0 to 1)
      [1]: y = cy / image_size * S - i
      [2]: w = (x2 - x1) / image_size    (a fraction of the image)
      [3]: h = (y2 - y1) / image_size
      [4]: 1                             (the cell holds an object)
      [5 + c]: 1 for the object's class c, 0 for the other classes.
    Every other entry is 0. When two centres fall in one cell, the later
    object (in the order of boxes) overwrites the earlier one.

    Hint: a Python loop over the objects; math.floor; remember to zero the
    class entries before setting the new one.
    """
    ### BEGIN SOLUTION
    target = torch.zeros(grid, grid, 5 + num_classes)
    for (x1, y1, x2, y2), label in zip(boxes.tolist(), labels.tolist()):
        cx, cy = (x1 + x2) / 2 / image_size * grid, (y1 + y2) / 2 / image_size * grid
        j, i = min(max(math.floor(cx), 0), grid - 1), min(max(math.floor(cy), 0), grid - 1)
        target[i, j, :5] = torch.tensor([cx - j, cy - i, (x2 - x1) / image_size, (y2 - y1) / image_size, 1.0])
        target[i, j, 5:] = 0.0
        target[i, j, 5 + label] = 1.0
    return target
    ### END SOLUTION


def hard_negatives(loss, positive, ratio):
    """SSD's hard negative mining: which default boxes count as negatives, (N, D) bool.

    loss (N, D) is each default box's classification loss, positive (N, D)
    bool marks the boxes matched to an object. For each image n separately,
    choose the ratio * (number of positives of image n) non-positive boxes
    with the highest loss (all of them if there are fewer); never a
    positive. An image without positives gets no negatives.

    Hint: per image, set the positives' loss to -inf, sort, and keep the
    first ones; or rank every box with two argsorts, without a loop.
    """
    ### BEGIN SOLUTION
    wanted = ratio * positive.sum(1, keepdim=True)
    ranked = loss.masked_fill(positive, -math.inf).argsort(1, descending=True)
    rank = ranked.argsort(1)
    return (rank < wanted) & ~positive
    ### END SOLUTION
