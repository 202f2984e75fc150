"""Non-linearities and dropout, from their definitions.

ReLU (Nair & Hinton, 2010) replaced sigmoid and tanh in CNNs because it does
not saturate for positive inputs and gives sparse activations (Krizhevsky et
al., 2012); dropout (Srivastava et al., 2014) is its companion regulariser.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers.kernels import torch_kernels


def sigmoid(input):
    """1 / (1 + exp(-x)), computed without overflow for large negative x."""
    positive = input >= 0
    z = torch.exp(torch.where(positive, -input, input))  # exp of a non-positive number: at most 1
    return torch.where(positive, 1 / (1 + z), z / (1 + z))


def tanh(input):
    """(e^x - e^-x) / (e^x + e^-x) = 2 sigmoid(2x) - 1."""
    return 2 * sigmoid(2 * input) - 1


def relu(input):
    """max(0, x)."""
    return torch.where(input > 0, input, torch.zeros_like(input))


def dropout(input, p=0.5, training=True, generator=None):
    """Inverted dropout: in training, zero each value with probability p and scale the rest by 1/(1-p).

    The scaling keeps every unit's expected value equal in training and
    evaluation, so evaluation is the identity.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1]; got {p!r}")
    if not training or p == 0:
        return input
    if p == 1:
        return torch.zeros_like(input)
    keep = torch.rand(input.shape, generator=generator, device=input.device) >= p
    return input * keep / (1 - p)


class Dropout(nn.Dropout):
    """``nn.Dropout`` computed by :func:`dropout`."""

    def forward(self, input):
        if torch_kernels():
            return super().forward(input)
        return dropout(input, self.p, self.training)
