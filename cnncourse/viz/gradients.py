"""Which input pixels matter, by gradient: raw gradients, saliency, guided backprop, DeconvNet.

All three backpropagate the score of the target class to the input; they
differ only in what happens at each ReLU on the way back:

* **gradient** (Simonyan et al., 2014): the true derivative; the ReLU passes
  the gradient where its forward input was positive.
* **DeconvNet** (Zeiler & Fergus, 2014): the ReLU is applied to the
  *backward* signal instead, ``relu(g)``, whatever the forward input was.
  With the rest of backpropagation unchanged, max pooling routes the signal
  through the positions its maximum came from (Zeiler and Fergus's
  "switches") and a convolution's backward is the transposed convolution
  with the same filters: exactly their deconvolutional network.
* **guided backprop** (Springenberg et al., 2015): both masks,
  ``relu(g) * (x > 0)``.

As in Captum, the rules replace the backward of every ``nn.ReLU`` module
(in-place or not) for the duration of the call; a functional ``F.relu`` keeps
the ordinary gradient. Inputs go to the model's device; results (N, C, H, W)
come back on the CPU, the model unchanged.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from cnncourse.viz._common import evaluating, prepared, score


class _DeconvReLU(torch.autograd.Function):
    """Forward: ReLU. Backward: the ReLU of the incoming gradient (DeconvNet)."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp(min=0)


class _GuidedReLU(torch.autograd.Function):
    """Forward: ReLU. Backward: the incoming gradient where both it and the forward input are positive."""

    @staticmethod
    def forward(ctx, x):
        out = x.clamp(min=0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad.clamp(min=0) * (out > 0)


@contextlib.contextmanager
def relu_backward(model: nn.Module, rule: type[torch.autograd.Function]):
    """Run every ``nn.ReLU`` of ``model`` with ``rule`` (a ReLU whose backward is replaced)."""
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    for relu in relus:
        relu.forward = rule.apply
    try:
        yield
    finally:
        for relu in relus:
            del relu.forward


def _input_gradient(function: str, model, input, target, rule=None) -> torch.Tensor:
    x = prepared(function, model, input, requires_grad=True)
    with evaluating(model), (relu_backward(model, rule) if rule else contextlib.nullcontext()):
        (grad,) = torch.autograd.grad(score(function, model, x, target).sum(), x)
    return grad.cpu()


def gradient(model: nn.Module, input: torch.Tensor, target) -> torch.Tensor:
    """d(logit of ``target``)/d(input): (N, C, H, W), per image (the batch does not interact in eval mode)."""
    return _input_gradient("gradient", model, input, target)


def saliency(model: nn.Module, input: torch.Tensor, target) -> torch.Tensor:
    """Simonyan et al.'s saliency map: |gradient|, maximum over the channels: (N, H, W)."""
    return _input_gradient("saliency", model, input, target).abs().amax(dim=1)


def guided_backprop(model: nn.Module, input: torch.Tensor, target) -> torch.Tensor:
    """Guided backpropagation (Springenberg et al., 2015): (N, C, H, W)."""
    return _input_gradient("guided_backprop", model, input, target, _GuidedReLU)


def deconvnet(model: nn.Module, input: torch.Tensor, target) -> torch.Tensor:
    """Zeiler & Fergus's DeconvNet projection of the target's score onto the input: (N, C, H, W)."""
    return _input_gradient("deconvnet", model, input, target, _DeconvReLU)
