"""Grading: the exercises of the chapter *Segmentation at scale and speed*."""

import pytest
import torch
import torch.nn.functional as F

TAPS = pytest.mark.forbid("cnncourse.segmentation.deeplab.valid_taps")


def by_convolution(size, rate):
    """The reference: convolve a map of ones with a 3x3 filter of ones, dilated, zero-padded."""
    ones = torch.ones(1, 1, size, size)
    return F.conv2d(ones, torch.ones(1, 1, 3, 3), padding=rate, dilation=rate).mean().item()


@TAPS
@pytest.mark.points(1)
@pytest.mark.parametrize("size, rate, expected", [(1, 1, 1.0), (3, 1, 49 / 9), (4, 6, 1.0), (100, 1, 8.8804)])
def test_valid_taps_by_hand(submission, size, rate, expected):
    got = submission("segmentation_scale").valid_taps(size, rate)
    assert got == pytest.approx(expected, abs=1e-4)


@TAPS
@pytest.mark.points(3)
@pytest.mark.parametrize("size, rate", [(8, 2), (8, 3), (65, 6), (65, 12), (65, 24), (33, 16), (5, 4)])
def test_valid_taps_equals_a_convolution_of_ones(submission, size, rate):
    got = submission("segmentation_scale").valid_taps(size, rate)
    assert isinstance(got, float), f"return a Python float; got {type(got).__name__}"
    assert got == pytest.approx(by_convolution(size, rate), abs=1e-5)
