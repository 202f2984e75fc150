"""Grading: the exercise of the chapter *DeepDream: what a network sees in a cat and a brick wall*."""

import pytest
import torch

from cnncourse import viz


def stand_in(strength):
    """A deterministic 'ascent' that depends on the octave and on the image."""
    def ascend(start, octave):
        return (start + strength * (octave + 1) * torch.sin(7 * start)).clamp(0, 1)
    return ascend


@pytest.mark.forbid("cnncourse.viz.octave_loop", "cnncourse.viz.dream.octave_loop", "cnncourse.viz.deep_dream")
@pytest.mark.points(4)
@pytest.mark.parametrize("shape, octaves, scale", [((1, 3, 20, 24), 3, 1.4), ((2, 1, 17, 9), 2, 2.0),
                                                   ((1, 3, 30, 30), 4, 1.3), ((1, 3, 12, 12), 1, 1.5)])
def test_octave_loop(submission, shape, octaves, scale):
    torch.manual_seed(sum(shape) + octaves)
    image = torch.rand(shape)
    calls = []

    def recording(start, octave):
        calls.append((octave, tuple(start.shape)))
        return stand_in(0.05)(start, octave)

    expected = viz.octave_loop(image, octaves, scale, stand_in(0.05))
    got = submission("deep_dream").octave_loop(image.clone(), octaves, scale, recording)
    sizes = viz.octave_sizes(tuple(shape[2:]), octaves, scale)
    assert calls == [(k, (*shape[:2], *size)) for k, size in enumerate(sizes)], f"ascend was called as {calls}"
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
