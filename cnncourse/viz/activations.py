"""What a network computes on an image: its feature maps, and its first layer's filters.

:func:`activations` records the named layers' outputs in one forward pass;
:func:`show_feature_maps` and :func:`show_filters` draw them with matplotlib.
Filters of deeper layers have as many input channels as the layer below has
maps, so only the first layer's can be read as images; deeper units are
studied through what excites them (:mod:`cnncourse.viz.retrieval`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cnncourse.viz._common import evaluating, layer, prepared


def activations(model: nn.Module, input: torch.Tensor, layers: str | Sequence[str]) -> dict[str, torch.Tensor]:
    """The outputs of ``layers`` (names from ``model.named_modules()``) for ``input``, on the CPU."""
    names = [layers] if isinstance(layers, str) else list(layers)
    modules = {name: layer(model, name, "activations") for name in names}
    x = prepared("activations", model, input)
    store, handles = {}, []
    for name, module in modules.items():
        def hook(mod, inputs, output, name=name):
            # a copy: an in-place ReLU after this layer would overwrite its output
            store.setdefault(name, output.detach().to("cpu", copy=True))
        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad(), evaluating(model):
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: store[name] for name in names}


def _grid(count, columns):
    import matplotlib.pyplot as plt

    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes.flat


def show_feature_maps(maps: torch.Tensor, count: int = 16, columns: int = 8, title: str | None = None):
    """The first ``count`` channels of one image's maps (C, h, w), each on its own grey scale."""
    if maps.dim() != 3:
        raise ValueError(f"show_feature_maps: maps must be (C, h, w) for one image; got {tuple(maps.shape)}")
    count = min(count, maps.shape[0])
    fig, axes = _grid(count, min(columns, count))
    for ax, channel in zip(axes, range(count)):
        ax.imshow(maps[channel].cpu(), cmap="gray")
        ax.set_title(str(channel), fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_filters(weight: torch.Tensor, columns: int = 8, title: str | None = None):
    """First-layer filters (K, 3 or 1, k, k) as small images, each rescaled to [0, 1] on its own."""
    if weight.dim() != 4 or weight.shape[1] not in (1, 3):
        raise ValueError(f"show_filters: weight must be (K, 1 or 3, k, k), a first layer's; got {tuple(weight.shape)}")
    w = weight.detach().cpu()
    low = w.amin(dim=(1, 2, 3), keepdim=True)
    high = w.amax(dim=(1, 2, 3), keepdim=True)
    w = (w - low) / (high - low).clamp(min=1e-8)
    fig, axes = _grid(len(w), min(columns, len(w)))
    for ax, f in zip(axes, w):
        ax.imshow(f.permute(1, 2, 0).squeeze(-1), cmap="gray" if f.shape[0] == 1 else None)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
