"""How much a frozen layer knows: a linear classifier on its features (linear probing).

Train only a linear layer on a network's frozen features at some depth, and
its test accuracy measures how linearly the task can be read from that
depth (Zhang et al., 2017, probed AlexNet's c1..c5 this way).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cnncourse.viz.retrieval import features


def linear_probe(model: nn.Module, layer_name: str, train, test, pool: int | None = 4, epochs: int = 100,
                 lr: float = 1e-2, weight_decay: float = 1e-4, seed: int = 0) -> float:
    """Test accuracy of a linear classifier on ``layer_name``'s frozen features.

    ``train`` and ``test`` are ``(images, labels)`` pairs. Features are
    average-pooled to ``pool`` x ``pool`` (so that every layer gives a vector
    of comparable size) and standardised with the training set's statistics;
    the classifier is trained full-batch with Adam.
    """
    return linear_probes(model, [layer_name], train, test, pool, epochs, lr, weight_decay, seed)[layer_name]


def linear_probes(model: nn.Module, layer_names: Sequence[str], train, test, pool: int | None = 4,
                  epochs: int = 100, lr: float = 1e-2, weight_decay: float = 1e-4, seed: int = 0) -> dict[str, float]:
    """:func:`linear_probe` of several layers, {name: test accuracy}, from one forward pass per batch."""
    (x_train, y_train), (x_test, y_test) = train, test
    f_train = features(model, list(layer_names), x_train, pool)
    f_test = features(model, list(layer_names), x_test, pool)
    return {name: fit_probe(f_train[name], y_train.cpu(), f_test[name], y_test.cpu(), epochs, lr, weight_decay, seed)
            for name in layer_names}


def fit_probe(f_train: torch.Tensor, y_train: torch.Tensor, f_test: torch.Tensor, y_test: torch.Tensor,
              epochs: int = 100, lr: float = 1e-2, weight_decay: float = 1e-4, seed: int = 0) -> float:
    """Test accuracy of a linear classifier trained on fixed features (N, D): the probe itself.

    Features are standardised with the training set's statistics; the
    classifier is trained full-batch with Adam. Any features will do: a
    layer's (:func:`linear_probe`) or hand-crafted ones (HOG).
    """
    f_train, f_test = torch.as_tensor(f_train).float(), torch.as_tensor(f_test).float()
    y_train, y_test = torch.as_tensor(y_train).cpu(), torch.as_tensor(y_test).cpu()
    mean, std = f_train.mean(0), f_train.std(0).clamp(min=1e-6)
    f_train, f_test = (f_train - mean) / std, (f_test - mean) / std
    generator = torch.Generator().manual_seed(seed)
    classes = int(torch.cat([y_train, y_test]).max()) + 1
    probe = nn.Linear(f_train.shape[1], classes)
    with torch.no_grad():
        probe.weight.copy_(torch.randn(probe.weight.shape, generator=generator) * 0.01)
        probe.bias.zero_()
    optimizer = torch.optim.Adam(probe.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        optimizer.zero_grad()
        nn.functional.cross_entropy(probe(f_train), y_train).backward()
        optimizer.step()
    with torch.no_grad():
        return (probe(f_test).argmax(1) == y_test).float().mean().item()
