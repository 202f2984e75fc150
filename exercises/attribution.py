# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/attribution.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Attribution: which pixels matter*.

Grade them with ``make grade`` (or ``pytest tests/grading -k attribution --impl=exercises``).
"""

import torch


def saliency(model, x, target):
    """Simonyan et al.'s saliency map: (N, C, H, W) images -> (N, H, W).

    The absolute value of the gradient of each image's target logit with
    respect to its pixels, maximised over the colour channels. ``target`` is
    an int or one class per image. Do not change the model or x.

    Hint: x = x.detach().clone().requires_grad_(); take logits = model(x), pick
    logits[n, target_n] with gather, sum them, torch.autograd.grad, then
    .abs().amax(dim=1).
    """
    raise NotImplementedError('saliency: not implemented yet. Hint: x = x.detach().clone().requires_grad_(); take logits = model(x), pick logits[n, target_n] with gather, sum them, torch.autograd.grad, then .abs().amax(dim=1).')


def occlusion_map(model, x, target, window, stride, baseline=0.0):
    """Zeiler and Fergus's occlusion experiment: (N, C, H, W) -> (N, rows, cols).

    Put a window x window square of ``baseline`` over the image at every
    position (top, left) = (i * stride, j * stride) that fits entirely inside
    it, and record the softmax probability of the target class. rows =
    (H - window) // stride + 1, and likewise cols.

    Hint: loop over (i, j); occluded = x.clone(); set the square to baseline;
    torch.no_grad(); model(occluded).softmax(1), then gather the target.
    """
    raise NotImplementedError('occlusion_map: not implemented yet. Hint: loop over (i, j); occluded = x.clone(); set the square to baseline; torch.no_grad(); model(occluded).softmax(1), then gather the target.')


def guided_relu_backward(grad_output, output):
    """The backward rule of a ReLU in guided backpropagation (Springenberg et al., 2015).

    ``output`` is what the ReLU computed in the forward pass, ``grad_output``
    the gradient arriving from above (same shape). Return the gradient to
    pass below: it flows only where the forward output was positive *and*
    the arriving gradient is positive.

    Hint: two masks, multiplied.
    """
    raise NotImplementedError('guided_relu_backward: not implemented yet. Hint: two masks, multiplied.')
