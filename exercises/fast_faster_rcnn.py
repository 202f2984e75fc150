# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/fast_faster_rcnn.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Fast and Faster R-CNN*.

Grade them with ``make grade`` (or ``pytest tests/grading -k fast_faster_rcnn --impl=exercises``).
"""

import math

import torch


def roi_pool(features, boxes, output_size, spatial_scale):
    """Fast R-CNN's RoI max pooling of one image: features (C, H, W), boxes (K, 4) -> (K, C, s, s).

    boxes are (x1, y1, x2, y2) in image pixels; s = output_size. For each box:
    1. snap it to the feature map: x1' = round(x1 * spatial_scale), and the
       same for y1, x2, y2, rounding halves away from zero (C's round,
       not torch.round);
    2. its size in cells is w = max(x2' - x1' + 1, 1), h = max(y2' - y1' + 1, 1)
       (both end cells included);
    3. bin (i, j) covers rows floor(i * h / s) to ceil((i + 1) * h / s) - 1
       and columns floor(j * w / s) to ceil((j + 1) * w / s) - 1, counted from
       (y1', x1'), clipped to the map; its output is the maximum over those
       cells, per channel, or 0 if the bin lies outside the map.

    Hint: two loops over i and j inside a loop over the boxes are fine;
    math.floor and math.ceil on Python floats; min/max to clip to [0, H]
    and [0, W].
    """
    raise NotImplementedError('roi_pool: not implemented yet. Hint: two loops over i and j inside a loop over the boxes are fine; math.floor and math.ceil on Python floats; min/max to clip to [0, H] and [0, W].')


def anchors(sizes, aspect_ratios, feature_size, stride):
    """Every anchor of a feature map of feature_size (h, w) cells, stride pixels apart: (h * w * A, 4).

    The A = len(aspect_ratios) * len(sizes) anchors of a cell are centred on
    the cell's corner (x * stride, y * stride). An anchor of size s and
    aspect ratio r (height / width) has height s * sqrt(r) and width
    s / sqrt(r) (its area stays s^2); its corners relative to the centre are
    (-w/2, -h/2, w/2, h/2), rounded with torch.round. Order: cell by cell,
    row by row (y, then x); within a cell, ratio by ratio, and for each
    ratio every size.

    Hint: build the A cell anchors first, (A, 4); then add the shifts
    (x * stride, y * stride, x * stride, y * stride) of all cells, (h * w, 1, 4).
    """
    raise NotImplementedError('anchors: not implemented yet. Hint: build the A cell anchors first, (A, 4); then add the shifts (x * stride, y * stride, x * stride, y * stride) of all cells, (h * w, 1, 4).')
