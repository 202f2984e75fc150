# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/segmentation_scale.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Segmentation at scale and speed*.

Grade them with ``make grade`` (or ``pytest tests/grading -k segmentation_scale --impl=exercises``).
"""

import torch


def valid_taps(size, rate):
    """The mean number of a 3x3 atrous filter's 9 taps that land inside a size x size map.

    A 3x3 filter with dilation ``rate``, centred on position (i, j) of the
    map, reads positions (i + a * rate, j + b * rate) for a, b in {-1, 0, 1};
    with zero padding, the taps outside 0 .. size - 1 read zeros and carry
    no information. Average the number of taps inside the map over all
    size * size centres and return it as a float between 1 and 9. DeepLab v3
    (Chen et al., 2017, Figure 4) plots this to show that a large rate on a
    small map degenerates to a 1x1 filter.

    Hint: along one axis, count for each centre i how many of i - rate, i,
    i + rate lie in [0, size); the 2-D count is the product of the two axes'
    counts, so the mean is (mean count along one axis) squared.
    """
    raise NotImplementedError("valid_taps: not implemented yet. Hint: along one axis, count for each centre i how many of i - rate, i, i + rate lie in [0, size); the 2-D count is the product of the two axes' counts, so the mean is (mean count along one axis) squared.")
