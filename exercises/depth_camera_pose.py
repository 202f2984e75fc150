# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/depth_camera_pose.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Pixels in, pixels out: depth and camera pose*.

Grade them with ``make grade`` (or ``pytest tests/grading -k depth_camera_pose --impl=exercises``).
"""

import torch


def scale_invariant_loss(pred_log, target_log, lam):
    """Eigen et al.'s (2014) depth loss of log-depth maps pred_log and target_log (N, ...), averaged over images.

    For each image, with d = pred_log - target_log over its n pixels,

        L = (1 / n) sum d^2 - (lam / n^2) (sum d)^2,

    the mean of d^2 minus lam times the square of the mean of d. Return the
    mean of L over the N images (a scalar tensor, differentiable). lam = 0
    gives the mean squared error of the log-depths; lam = 1 gives the
    variance of d, which does not change when a constant is added to every
    log-depth of an image, that is when its depths are scaled.

    Hint: flatten each image's differences to a row with .flatten(1); the
    mean of each row is .mean(1). Square the mean, not the entries.
    """
    raise NotImplementedError("scale_invariant_loss: not implemented yet. Hint: flatten each image's differences to a row with .flatten(1); the mean of each row is .mean(1). Square the mean, not the entries.")
