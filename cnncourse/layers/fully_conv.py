"""Becoming fully convolutional: a classifier's Linear layers as convolutions.

A Linear layer that reads a flattened C x H x W feature map is a convolution
with an H x W kernel and no padding; every later Linear layer is a 1x1
convolution (Long et al., 2015; Sermanet et al., 2014). The converted network
accepts larger images and outputs a map of class scores: the classifier
evaluated on every window, with all the shared computation done once.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers.conv import Conv2d
from cnncourse.runtime import evaluating


def linear_to_conv(linear: nn.Linear, input_shape) -> Conv2d:
    """A convolution computing ``linear`` on a (C, H, W) input; 1x1 when the input is (C, 1, 1)."""
    c, h, w = input_shape
    if linear.in_features != c * h * w:
        raise ValueError(
            f"linear_to_conv: Linear has in_features={linear.in_features}, but an input of shape "
            f"{tuple(input_shape)} has {c * h * w} values"
        )
    conv = Conv2d(c, linear.out_features, (h, w), bias=linear.bias is not None)
    with torch.no_grad():
        conv.weight.copy_(linear.weight.view(linear.out_features, c, h, w))
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)
    return conv.to(linear.weight.device, linear.weight.dtype)


def convolutionalize(model: nn.Sequential, input_size) -> nn.Sequential:
    """Convert a Sequential classifier (conv layers, Flatten, Linear layers) into a fully convolutional one.

    ``input_size`` is the (C, H, W) the classifier was built for. Flatten is
    dropped; each Linear becomes a convolution (:func:`linear_to_conv`); all
    other layers are kept. On an input of ``input_size`` the result outputs
    (N, classes, 1, 1); on a larger one, a map of scores.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"convolutionalize: model must be an nn.Sequential; got {type(model).__name__}")
    device = next(model.parameters()).device
    x = torch.zeros(1, *input_size, device=device)
    layers, shape = [], None
    # eval mode for the shape probe: in training mode it would move batch norm's running statistics
    with torch.no_grad(), evaluating(model):
        for layer in model:
            if isinstance(layer, nn.Flatten):
                shape = tuple(x.shape[1:])
                x = layer(x)
                continue
            if isinstance(layer, nn.Linear):
                if shape is None:
                    raise ValueError("convolutionalize: a Linear layer before any Flatten cannot be converted")
                conv = linear_to_conv(layer, shape)
                layers.append(conv)
                x = layer(x)
                shape = (layer.out_features, 1, 1)
                continue
            if shape is not None and not isinstance(layer, (nn.ReLU, nn.Dropout, nn.Identity, nn.Sigmoid, nn.Tanh)):
                raise ValueError(f"convolutionalize: cannot convert {type(layer).__name__} after the Flatten")
            layers.append(layer)
            x = layer(x)
    return nn.Sequential(*layers)
