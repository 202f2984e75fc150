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
    ### BEGIN SOLUTION
    x = x.detach().clone().requires_grad_(True)
    logits = model(x)
    target = torch.as_tensor(target).long().flatten().expand(len(x)).to(logits.device)
    (grad,) = torch.autograd.grad(logits.gather(1, target[:, None]).sum(), x)
    return grad.abs().amax(dim=1)
    ### END SOLUTION


def occlusion_map(model, x, target, window, stride, baseline=0.0):
    """Zeiler and Fergus's occlusion experiment: (N, C, H, W) -> (N, rows, cols).

    Put a window x window square of ``baseline`` over the image at every
    position (top, left) = (i * stride, j * stride) that fits entirely inside
    it, and record the softmax probability of the target class. rows =
    (H - window) // stride + 1, and likewise cols.

    Hint: loop over (i, j); occluded = x.clone(); set the square to baseline;
    torch.no_grad(); model(occluded).softmax(1), then gather the target.
    """
    ### BEGIN SOLUTION
    n, _, h, w = x.shape
    rows, cols = (h - window) // stride + 1, (w - window) // stride + 1
    target = torch.as_tensor(target).long().flatten().expand(n)
    out = torch.empty(n, rows, cols)
    with torch.no_grad():
        for i in range(rows):
            for j in range(cols):
                occluded = x.clone()
                occluded[:, :, i * stride : i * stride + window, j * stride : j * stride + window] = baseline
                probabilities = model(occluded).softmax(dim=1)
                out[:, i, j] = probabilities.gather(1, target[:, None].to(probabilities.device))[:, 0].cpu()
    return out
    ### END SOLUTION


def guided_relu_backward(grad_output, output):
    """The backward rule of a ReLU in guided backpropagation (Springenberg et al., 2015).

    ``output`` is what the ReLU computed in the forward pass, ``grad_output``
    the gradient arriving from above (same shape). Return the gradient to
    pass below: it flows only where the forward output was positive *and*
    the arriving gradient is positive.

    Hint: two masks, multiplied.
    """
    ### BEGIN SOLUTION
    return grad_output.clamp(min=0) * (output > 0)
    ### END SOLUTION
