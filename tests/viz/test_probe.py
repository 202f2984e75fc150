"""The linear probe on fixed features."""

import torch

from cnncourse.viz import fit_probe


def test_fit_probe_separates_separable_features_and_guesses_on_constant_ones():
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(40) % 2
    features = torch.randn(40, 5, generator=g) + 4 * labels[:, None]
    assert fit_probe(features[:20], labels[:20], features[20:], labels[20:]) == 1.0
    constant = torch.ones(40, 5)
    assert fit_probe(constant[:20], labels[:20], constant[20:], labels[20:]) == 0.5
