"""Grading: the exercises of the chapter *Style transfer and texture synthesis*."""

import pytest
import torch

from cnncourse import viz

GRAM = pytest.mark.forbid("cnncourse.viz.gram_matrix", "cnncourse.viz.style.gram_matrix")


@GRAM
@pytest.mark.points(2)
@pytest.mark.parametrize("shape", [(1, 4, 5, 6), (3, 8, 7, 7), (2, 1, 3, 9)])
def test_gram_matrix(submission, shape):
    torch.manual_seed(sum(shape))
    maps = torch.rand(shape)
    got = submission("style_transfer").gram_matrix(maps)
    torch.testing.assert_close(got, viz.gram_matrix(maps), atol=1e-5, rtol=1e-5)


@GRAM
@pytest.mark.points(1)
def test_gram_matrix_forgets_positions(submission):
    torch.manual_seed(1)
    maps = torch.rand(2, 6, 4, 5)
    shuffled = maps.flatten(2)[:, :, torch.randperm(20)].view_as(maps)
    gram = submission("style_transfer").gram_matrix
    torch.testing.assert_close(gram(shuffled), gram(maps), atol=1e-5, rtol=1e-5)


@pytest.mark.forbid("cnncourse.viz.style_loss", "cnncourse.viz.style.style_loss")
@pytest.mark.points(3)
@pytest.mark.parametrize("batch, layers", [(1, ("a",)), (3, ("a", "b")), (2, ("b",))])
def test_style_loss(submission, monkeypatch, batch, layers):
    # graded on its own: the answer's style_loss uses the reference Gram matrix, right or wrong its own
    answers = submission("style_transfer")
    monkeypatch.setattr(answers, "gram_matrix", lambda maps: viz.gram_matrix(maps))
    torch.manual_seed(batch + len(layers))
    features = {"a": torch.rand(batch, 4, 6, 6), "b": torch.rand(batch, 8, 3, 3)}
    targets = {name: viz.gram_matrix(torch.rand(1, *features[name].shape[1:])) for name in layers}
    got = answers.style_loss(features, targets)
    torch.testing.assert_close(torch.as_tensor(got), viz.style_loss(features, targets), atol=1e-6, rtol=1e-5)
    own = {name: viz.gram_matrix(features[name][:1]) for name in layers}
    assert float(answers.style_loss({k: v[:1] for k, v in features.items()}, own)) < 1e-10
