"""Exercises for the chapter *Gradient ascent: the images a network wants to see*.

Grade them with ``make grade`` (or ``pytest tests/grading -k gradient_ascent --impl=exercises``).
"""

import torch


def ascent_step(model, x, target, lr, decay):
    """One step of regularised gradient ascent on a class logit: (N, C, H, W) -> (N, C, H, W).

    Compute the gradient g of the sum over images of logit[n, target] with
    respect to x; normalise it per image by its mean absolute value; move
    x by lr times the normalised gradient; then apply L2 decay, multiplying
    the result by (1 - decay). ``target`` is an int. Do not change the model
    or x; return a new tensor without gradient history.

    Hint: x = x.detach().clone().requires_grad_(); torch.autograd.grad;
    g.abs().mean(dim=(1, 2, 3), keepdim=True).
    """
    ### BEGIN SOLUTION
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x)[:, target].sum(), x)
    step = grad / grad.abs().mean(dim=(1, 2, 3), keepdim=True)
    return ((x + lr * step) * (1 - decay)).detach()
    ### END SOLUTION


def clip_small_norm(z, percentile):
    """Yosinski et al.'s clipping of small-norm pixels: (N, C, H, W) -> (N, C, H, W).

    In each image separately, find the round(percentile / 100 * H * W)
    pixels with the smallest norm over the channels (the L2 norm of the
    C values at that position) and set all their channels to 0; leave the
    other pixels as they are. Do not change z.

    Hint: z.norm(dim=1) is (N, H, W); flatten it, topk(count, largest=False)
    per image, and build a mask with scatter_.
    """
    ### BEGIN SOLUTION
    n, c, h, w = z.shape
    count = round(percentile / 100 * h * w)
    keep = torch.ones(n, h * w, dtype=z.dtype, device=z.device)
    if count:
        smallest = z.norm(dim=1).flatten(1).topk(count, dim=1, largest=False).indices
        keep.scatter_(1, smallest, 0.0)
    return z * keep.view(n, 1, h, w)
    ### END SOLUTION
