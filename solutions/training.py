"""Exercises for the chapter *Training CNNs well*.

Grade them with ``make grade`` (or ``pytest tests/grading -k training --impl=exercises``).
"""

import math

import torch


def he_normal_(weight):
    """Fill ``weight`` in place with N(0, 2 / fan_in) samples and return it (He et al., 2015).

    weight is a Linear weight (out, in) or a convolution weight (out, in, kH, kW);
    fan_in is in (times kH * kW for a convolution). Do not track gradients.

    Hint: weight[0].numel() is the fan-in; under torch.no_grad(), weight.normal_(0, std).
    """
    ### BEGIN SOLUTION
    fan_in = weight[0].numel()
    with torch.no_grad():
        return weight.normal_(0.0, math.sqrt(2.0 / fan_in))
    ### END SOLUTION


def warmup_cosine_lr(step, total_steps, warmup_steps, base_lr):
    """Learning rate at ``step`` (0-based): linear warm-up, then cosine decay to zero.

    For step < warmup_steps: base_lr * (step + 1) / warmup_steps. After that,
    base_lr * (1 + cos(pi * t)) / 2 with t = (step - warmup_steps) / (total_steps - warmup_steps),
    so the rate is base_lr right after the warm-up and 0 at step total_steps.

    Hint: two cases; math.cos and math.pi.
    """
    ### BEGIN SOLUTION
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    t = (step - warmup_steps) / (total_steps - warmup_steps)
    return base_lr * 0.5 * (1 + math.cos(math.pi * t))
    ### END SOLUTION
