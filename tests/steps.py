"""A few optimiser steps on one repeated batch: the tests' check that a model can learn."""

import torch

from cnncourse.layers import use_kernels


def train_steps(model, loss_of, steps=8, lr=1e-2):
    """Losses of ``steps`` Adam steps on one repeated batch; ``loss_of(model)`` computes the loss. PyTorch's kernels."""
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    with use_kernels("torch"):
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_of(model)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses
