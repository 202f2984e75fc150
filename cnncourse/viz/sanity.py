"""Sanity checks for saliency methods (Adebayo et al., 2018).

A map that explains the *model* must change when the model's weights do.
:func:`randomized` re-initialises the named layers of a copy of the model;
randomising from the top layer down, one more layer at a time ("cascading
randomisation"), and comparing each method's map with the original by
:func:`rank_correlation` shows which methods depend on the learned weights
and which would draw nearly the same picture for any network.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from cnncourse.viz._common import layer


def randomized(model: nn.Module, layers: Sequence[str], seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose ``layers`` (and their submodules) are re-initialised."""
    copied = copy.deepcopy(model)
    torch.manual_seed(seed)
    for name in layers:
        for module in layer(copied, name, "randomized").modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return copied


def rank_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman's rank correlation of |a| and |b| per image: (N,), maps of shape (N, ...).

    A constant map (a Grad-CAM that is zero everywhere, say) has no ranks;
    its correlation is NaN.
    """
    import warnings

    from scipy.stats import spearmanr

    if a.shape != b.shape:
        raise ValueError(f"rank_correlation: the maps must have one shape; got {tuple(a.shape)} and {tuple(b.shape)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on constant input, and returns NaN
        values = [spearmanr(x.abs().flatten().numpy(), y.abs().flatten().numpy()).statistic
                  for x, y in zip(a.cpu(), b.cpu())]
    return torch.tensor(values, dtype=torch.float32)
