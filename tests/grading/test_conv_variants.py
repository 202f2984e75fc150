"""Grading: the exercises of the chapter *Variants of convolution*."""

import pytest
import torch

from cnncourse.analysis import receptive_field

SIZES = [(32, 5, 1, 0, 1), (224, 7, 2, 3, 1), (227, 11, 4, 0, 1), (13, 3, 2, 1, 2), (10, 4, 3, 0, 1), (64, 3, 1, 4, 4)]


@pytest.mark.forbid("cnncourse.analysis.conv_output_size", "torch.nn.functional.conv2d", "cnncourse.layers.conv2d")
@pytest.mark.points(2)
@pytest.mark.parametrize("n, k, s, p, d", SIZES)
def test_output_size(submission, n, k, s, p, d):
    expected = torch.nn.functional.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
    assert submission("conv_variants").output_size(n, k, s, p, d) == expected


STACKS = [
    [(3, 1, 1)] * 3,
    [(7, 2, 1), (3, 2, 1), (3, 1, 1), (3, 1, 1)],
    [(3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)],
    [(11, 4, 1), (3, 2, 1), (5, 1, 1), (3, 2, 1), (3, 1, 1)],
    [(1, 1, 1)],
]


@pytest.mark.forbid("cnncourse.analysis.receptive_field", "cnncourse.analysis.receptive_fields",
                    "cnncourse.analysis.measure_receptive_field")
@pytest.mark.points(3)
@pytest.mark.parametrize("layers", STACKS, ids=["vgg-3x3", "resnet-stem", "dilated", "alexnet", "1x1"])
def test_receptive_field_size(submission, layers):
    assert submission("conv_variants").receptive_field_size(layers) == receptive_field(layers)[-1][0]
