# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/normalization.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Normalisation and regularisation*.

Grade them with ``make grade`` (or ``pytest tests/grading -k normalization --impl=exercises``).
"""

import torch


def batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """Batch normalisation of a batch of feature maps, as F.batch_norm computes it.

    x: (N, C, H, W); gamma, beta, running_mean, running_var: (C,).
    Training: normalise each channel with the mean and biased variance over
    (N, H, W), and update running_mean and running_var *in place* with
    running = (1 - momentum) * running + momentum * batch_statistic, using the
    unbiased variance for running_var. Evaluation: normalise with the running
    statistics. Then scale by gamma and shift by beta.

    Hint: x.mean(dim=(0, 2, 3)) and x.var(dim=(0, 2, 3), unbiased=False) give
    per-channel statistics; reshape (C,) vectors to (1, C, 1, 1) to broadcast;
    update the running buffers inside torch.no_grad().
    """
    raise NotImplementedError('batch_norm_forward: not implemented yet. Hint: x.mean(dim=(0, 2, 3)) and x.var(dim=(0, 2, 3), unbiased=False) give per-channel statistics; reshape (C,) vectors to (1, C, 1, 1) to broadcast; update the running buffers inside torch.no_grad().')
