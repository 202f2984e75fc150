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
    ### BEGIN SOLUTION
    C, H, W = features.shape
    out = features.new_zeros(len(boxes), C, output_size, output_size)
    for k, box in enumerate(boxes.tolist()):
        x1, y1, x2, y2 = (int(math.copysign(math.floor(abs(v * spatial_scale) + 0.5), v)) for v in box)
        w, h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
        for i in range(output_size):
            top = min(max(y1 + math.floor(i * h / output_size), 0), H)
            bottom = min(max(y1 + math.ceil((i + 1) * h / output_size), 0), H)
            for j in range(output_size):
                left = min(max(x1 + math.floor(j * w / output_size), 0), W)
                right = min(max(x1 + math.ceil((j + 1) * w / output_size), 0), W)
                if bottom > top and right > left:
                    out[k, :, i, j] = features[:, top:bottom, left:right].amax((1, 2))
    return out
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    scales = torch.as_tensor(sizes, dtype=torch.float32)
    root = torch.as_tensor(aspect_ratios, dtype=torch.float32).sqrt()
    widths = (scales[None, :] / root[:, None]).flatten()
    heights = (scales[None, :] * root[:, None]).flatten()
    cell = (torch.stack([-widths, -heights, widths, heights], 1) / 2).round()
    h, w = feature_size
    ys, xs = torch.meshgrid(torch.arange(h) * stride, torch.arange(w) * stride, indexing="ij")
    shifts = torch.stack([xs, ys, xs, ys], -1).reshape(-1, 1, 4).float()
    return (shifts + cell[None]).reshape(-1, 4)
    ### END SOLUTION
