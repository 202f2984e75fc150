# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/deep_dream.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *DeepDream: what a network sees in a cat and a brick wall*.

Grade them with ``make grade`` (or ``pytest tests/grading -k deep_dream --impl=exercises``).
"""

import torch.nn.functional as F


def octave_loop(image, octaves, octave_scale, ascend):
    """DeepDream's multi-scale schedule: (N, C, H, W) in [0, 1] -> (N, C, H, W).

    Octave k (k = 0 .. octaves - 1, smallest first) has the size
    (round(H / octave_scale ** (octaves - 1 - k)), same for W), at least 1;
    its photograph ``base`` is ``image`` resized to that size. Resize with
    F.interpolate(..., mode="bilinear", align_corners=False, antialias=True),
    and skip the resize when the size is already right. Keep a ``detail``,
    zeros of the smallest size at first. For each octave: start =
    (base + detail resized to the octave's size).clamp(0, 1); result =
    ascend(start, k); detail = result - base. Return the last result.

    Hint: compute the list of sizes first; a helper resize(x, size) keeps
    the loop short.
    """
    raise NotImplementedError('octave_loop: not implemented yet. Hint: compute the list of sizes first; a helper resize(x, size) keeps the loop short.')
