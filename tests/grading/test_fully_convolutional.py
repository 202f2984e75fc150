"""Grading: the exercises of the chapter *Becoming fully convolutional*."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn


FORBID = pytest.mark.forbid("cnncourse.layers.linear_to_conv", "cnncourse.layers.convolutionalize")


@FORBID
@pytest.mark.points(3)
@pytest.mark.parametrize("shape, out_features, bias", [((8, 3, 3), 5, True), ((4, 5, 2), 7, False), ((16, 1, 1), 3, True)])
def test_fc_to_conv_computes_the_linear_layer(submission, shape, out_features, bias):
    torch.manual_seed(0)
    linear = nn.Linear(shape[0] * shape[1] * shape[2], out_features, bias=bias)
    conv = submission("fully_convolutional").fc_to_conv(linear, shape)
    x = torch.randn(4, *shape)
    out = conv(x)
    assert out.shape == (4, out_features, 1, 1)
    torch.testing.assert_close(out.flatten(1), linear(x.flatten(1)), atol=1e-5, rtol=1e-5)


@FORBID
@pytest.mark.points(3)
def test_fc_to_conv_slides_the_classifier_over_a_larger_map(submission):
    torch.manual_seed(1)
    linear = nn.Linear(6 * 4 * 4, 3)
    conv = submission("fully_convolutional").fc_to_conv(linear, (6, 4, 4))
    x = torch.randn(1, 6, 9, 7)
    scores = conv(x)
    assert scores.shape == (1, 3, 6, 4)
    for i, j in [(0, 0), (5, 3), (2, 1)]:
        torch.testing.assert_close(scores[0, :, i, j], linear(x[0, :, i : i + 4, j : j + 4].flatten()), atol=1e-5, rtol=1e-5)
