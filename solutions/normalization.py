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
    ### BEGIN SOLUTION
    if training:
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        count = x.numel() // x.shape[1]
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * count / (count - 1))
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean.view(1, -1, 1, 1)) / torch.sqrt(var.view(1, -1, 1, 1) + eps)
    return gamma.view(1, -1, 1, 1) * x_hat + beta.view(1, -1, 1, 1)
    ### END SOLUTION
