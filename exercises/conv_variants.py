# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/conv_variants.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Variants of convolution and their cost*.

Grade them with ``make grade`` (or ``pytest tests/grading -k conv_variants --impl=exercises``).
"""


def output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    """Output length of a convolution or pooling along one axis of length n.

    Hint: a dilated kernel spans d * (k - 1) + 1 pixels; count how many
    positions, stride pixels apart, such a window can take in n + 2p pixels.
    """
    raise NotImplementedError('output_size: not implemented yet. Hint: a dilated kernel spans d * (k - 1) + 1 pixels; count how many positions, stride pixels apart, such a window can take in n + 2p pixels.')


def receptive_field_size(layers):
    """Receptive field (in input pixels, along one axis) of one unit of the last layer.

    layers: a list of (kernel_size, stride, dilation) from the first layer to
    the last. Example: three 3x3 convolutions with stride 1 give 7.

    Hint: work backwards from the last layer: one unit sees r = 1 unit of its
    own layer; going down through a layer with (k, s, d), r units become
    (r - 1) * s + d * (k - 1) + 1 units of the layer below.
    """
    raise NotImplementedError('receptive_field_size: not implemented yet. Hint: work backwards from the last layer: one unit sees r = 1 unit of its own layer; going down through a layer with (k, s, d), r units become (r - 1) * s + d * (k - 1) + 1 units of the layer below.')
