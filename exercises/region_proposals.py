# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/region_proposals.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Region proposals: selective search, R-CNN and SPP-net*.

Grade them with ``make grade`` (or ``pytest tests/grading -k region_proposals --impl=exercises``).
"""

import torch


def encode(boxes, references, weights):
    """The box coder: each box (N, 4) relative to its reference box (N, 4), both (x1, y1, x2, y2).

    With centres (x, y), widths w and heights h of the boxes and (px, py,
    pw, ph) of the references, and weights (wx, wy, ww, wh), return (N, 4):
    tx = wx (x - px) / pw, ty = wy (y - py) / ph,
    tw = ww log(w / pw), th = wh log(h / ph).
    """
    raise NotImplementedError('encode: not implemented yet. see the chapter.')


def hinge_loss(scores, targets):
    """The hinge loss of R-CNN's linear SVMs: scores and targets (M, C), targets in {-1, 0, +1}.

    Each column is one class's SVM: example m is a positive (+1) or a
    negative (-1) of class c, or left out of that SVM (0, a proposal between
    the positive and negative IoU thresholds). Return the mean of
    max(0, 1 - y * f(x)) over the entries whose target is not 0 (a scalar
    tensor; 0 if there are none).

    Hint: compute the loss everywhere, multiply by (targets != 0), divide by
    the number of those entries, at least 1.
    """
    raise NotImplementedError('hinge_loss: not implemented yet. Hint: compute the loss everywhere, multiply by (targets != 0), divide by the number of those entries, at least 1.')
