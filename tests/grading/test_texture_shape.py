"""Grading: the exercises of the chapter *Texture or shape?*."""

import math

import pytest
import torch

from cnncourse import data

SHAPE_BIAS = pytest.mark.forbid("cnncourse.data.shape_bias", "cnncourse.data.cue_conflict.shape_bias",
                                "cnncourse.data.cue_decisions", "cnncourse.data.cue_conflict.cue_decisions")

# (predictions, shape labels, texture labels, expected shape bias)
HAND = {
    "all shape": ([0, 1, 2, 0], [0, 1, 2, 0], [1, 2, 0, 2], 1.0),
    "all texture": ([1, 2, 0, 2], [0, 1, 2, 0], [1, 2, 0, 2], 0.0),
    "a third class is left out": ([0, 2, 1, 1], [0, 0, 2, 1], [1, 1, 1, 0], 2 / 3),
    "consistent images are left out": ([0, 1, 0, 2, 2, 1], [0, 1, 1, 2, 0, 1], [0, 1, 0, 2, 2, 2], 1 / 3),
    "both rules at once": ([2, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], [1, 0, 0, 1, 1, 0], 1 / 3),
}


def labels(*values):
    return [torch.tensor(v, dtype=torch.int64) for v in values]


@SHAPE_BIAS
@pytest.mark.points(1)
@pytest.mark.parametrize("case", list(HAND))
def test_shape_bias_by_hand(submission, case):
    predictions, shape, texture, expected = HAND[case]
    got = submission("texture_shape").shape_bias(*labels(predictions, shape, texture))
    assert got == pytest.approx(expected), f"{case}: got {got}, expected {expected}"


@SHAPE_BIAS
@pytest.mark.points(2)
@pytest.mark.parametrize("seed, classes", [(0, 3), (1, 3), (2, 16)])
def test_shape_bias_on_random_decisions(submission, seed, classes):
    g = torch.Generator().manual_seed(seed)
    shape = torch.randint(classes, (200,), generator=g)
    texture = torch.where(torch.rand(200, generator=g) < 0.3, shape, torch.randint(classes, (200,), generator=g))
    predictions = torch.where(torch.rand(200, generator=g) < 0.5, shape, texture)
    predictions = torch.where(torch.rand(200, generator=g) < 0.2, torch.randint(classes, (200,), generator=g),
                              predictions)
    expected = data.shape_bias(predictions, shape, texture)
    got = submission("texture_shape").shape_bias(predictions.clone(), shape.clone(), texture.clone())
    assert isinstance(got, float), f"return a Python float; got {type(got).__name__}"
    assert got == pytest.approx(expected, abs=1e-9), f"got {got}, expected {expected}"


@SHAPE_BIAS
@pytest.mark.points(1)
def test_shape_bias_is_nan_without_a_cue_decision(submission):
    got = submission("texture_shape").shape_bias(*labels([2, 2, 0], [0, 1, 0], [1, 0, 0]))
    assert math.isnan(got), f"no image was decided by either cue: expected nan, got {got}"
