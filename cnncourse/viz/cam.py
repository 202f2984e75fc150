"""Class activation maps: where in a layer's maps the evidence for a class lies.

* :func:`cam` (Zhou et al., 2016) needs a network that ends in global average
  pooling and one linear layer: the class score is then the average over
  positions of ``sum_k w[c, k] A_k(i, j)``, and that sum, before averaging,
  is the map. For global *max* pooling (the zoo's AlexNet) the same
  weighted sum is used; the score is then ``sum_k w[c, k] max A_k``.
* :func:`grad_cam` (Selvaraju et al., 2017) works for any layer of any
  network: weight each channel of the layer's output by the spatial mean of
  the score's gradient with respect to it, sum, and keep the positive part.
  For a network that ends in global average *or* max pooling, Grad-CAM of
  the last layer is CAM divided by the number of positions (the gradient's
  spatial mean is ``w[c, k] / positions`` either way).

Both return (N, h, w) at the layer's resolution, on the CPU; upsample with
``F.interpolate`` to overlay them on the image.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.viz._common import capture, evaluating, layer, prepared, score, targets


def grad_cam(model: nn.Module, layer_name: str, input: torch.Tensor, target, relu: bool = True) -> torch.Tensor:
    """Grad-CAM of ``target`` at layer ``layer_name``: (N, h, w)."""
    x = prepared("grad_cam", model, input)
    with evaluating(model), capture(layer(model, layer_name, "grad_cam")) as seen:
        scores = score("grad_cam", model, x, target)
        maps = seen["output"]  # (N, K, h, w)
        (grads,) = torch.autograd.grad(scores.sum(), maps)
    weights = grads.mean(dim=(2, 3), keepdim=True)  # (N, K, 1, 1)
    result = (weights * maps).sum(dim=1).detach()
    return (result.clamp(min=0) if relu else result).cpu()


def cam(model: nn.Module, layer_name: str, input: torch.Tensor, target, classifier: str | None = None) -> torch.Tensor:
    """The class activation map of ``target``: (N, h, w), from the last maps before global pooling.

    ``classifier`` names the final linear layer (default: the model's last
    ``nn.Linear``); its weights for ``target`` weigh the channels of
    ``layer_name``'s output.
    """
    linear = layer(model, classifier, "cam") if classifier else [m for m in model.modules()
                                                                   if isinstance(m, nn.Linear)][-1]
    x = prepared("cam", model, input)
    with torch.no_grad(), evaluating(model), capture(layer(model, layer_name, "cam")) as seen:
        logits = model(x)
        maps = seen["output"]
    if maps.shape[1] != linear.in_features:
        raise ValueError(f"cam: {layer_name!r} has {maps.shape[1]} channels but the classifier reads "
                         f"{linear.in_features}; CAM needs the maps that are globally pooled into it")
    t = targets("cam", target, x.shape[0], logits.shape[1], maps.device)
    return torch.einsum("nk,nkhw->nhw", linear.weight.detach()[t], maps).cpu()
