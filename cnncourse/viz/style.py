"""Style transfer and texture synthesis by optimising pixels (Gatys, Ecker & Bethge, 2015, 2016).

A layer's *style* is the correlation of its channels, the Gram matrix of its
maps, which forgets where things are; its *content* is the maps themselves.

* :func:`synthesize_texture` (Gatys et al., 2015, "Texture synthesis using
  CNNs"): start from noise and match the Gram matrices of a style image at
  several layers;
* :func:`style_transfer` (Gatys et al., 2015 "A neural algorithm of artistic
  style"; 2016 CVPR): start from the content image (or noise) and match its
  maps at ``content_layers`` *and* the style image's Gram matrices.

Both optimise the pixels only, with L-BFGS (as Gatys et al.) or Adam, in one
shared loop where a *step* is one forward and backward pass and one update.
Pixels are kept in ``value_range`` by clamping after every step (projected
descent), not by a change of variable: a pixel can reach the bounds and
leave them again, and its gradient never vanishes as through a sigmoid. The
optimizer sees the loss divided by its value at the start (the same
minimiser): the means in :func:`gram_matrix` and the losses make the loss
as small as 1e-6 on some networks (the untrained AlexNetMini) and its
gradient per pixel smaller still, below L-BFGS's curvature threshold and
Adam's epsilon; the recorded losses are the true ones. The model is frozen (eval mode, no parameter gradients) and comes
back exactly as it was; tensors go to its device and results come back on
the CPU.

The default layers are those of the course's ``AlexNetMini``
(``zoo.load("alexnet_shapes")``: ``"c1"`` .. ``"c5"``), content at ``"c4"``
as Gatys et al.'s conv4_2, style at all five as their conv1_1..conv5_1; any
model works with its own layer names (``model.named_modules()``). The
default ``style_weight`` suits that network on 64x64 photographs (the
content still recognisable); the balance depends on the network's scale
(the style term grows as the fourth power of the activations, the content
term as the square), so other networks need their own.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from cnncourse.layers import AvgPool2d, Conv2d
from cnncourse.runtime import device_of
from cnncourse.viz._common import check_image, check_positive, frozen, input_channels, layer_outputs

CONTENT_LAYERS = ("c4",)
STYLE_LAYERS = ("c1", "c2", "c3", "c4", "c5")
OPTIMIZERS = {"lbfgs": 1.0, "adam": 0.02}  # name -> default learning rate (L-BFGS: its step length)


class StyleResult(NamedTuple):
    image: torch.Tensor               # (N, C, H, W), on the CPU, in value_range
    losses: dict[str, torch.Tensor]   # name -> (steps,) on the CPU: "content" (transfer only), "style", "total"


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Channel correlations of a layer's maps: (N, C, H, W) -> (N, C, C).

    ``G = F F^T / M`` with ``F`` the maps reshaped to (C, M), M = H * W
    positions: the average over positions of the outer product of the channel
    vectors, so G does not grow with the image and images of different sizes
    compare. Gatys et al. (2015) use the plain sum ``F F^T`` and the layer
    loss ``E_l = 1 / (4 C^2 M^2) * sum_ij (G_ij - A_ij)^2``; with our G this is
    ``sum_ij (G_ij - A_ij)^2 / (4 C^2)``, a quarter of the mean over the C * C
    entries: :func:`style_loss`'s per-layer term is exactly ``4 E_l``.
    """
    if not isinstance(features, torch.Tensor) or features.dim() != 4:
        got = tuple(features.shape) if isinstance(features, torch.Tensor) else type(features).__name__
        raise ValueError(f"gram_matrix: features must be maps (N, C, H, W); got {got}")
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of two maps (N, C, H, W): a scalar, ``F.mse_loss(features, target)``.

    Gatys et al. (2016) write ``1/2 sum (F - P)^2``; for one image of C * H * W
    values that is ``C * H * W / 2`` times ours. The mean keeps the weight of
    the content term independent of the layer's size.
    """
    if features.shape != target.shape:
        raise ValueError(f"content_loss: target must have the features' shape {tuple(features.shape)}; "
                         f"got {tuple(target.shape)}")
    return (features - target).pow(2).mean()


RANDOM_WIDTHS = (32, 64, 128, 128)


def random_features(widths: Sequence[int] = RANDOM_WIDTHS, in_channels: int = 3, seed: int = 0) -> nn.Module:
    """A never-trained VGG-style stack for texture statistics: (N, C, H, W) -> (N, widths[-1], H / 2^k, W / 2^k).

    Block ``c<i>`` is a 3x3 convolution (stride 1, padding 1) and a ReLU,
    with 2x2 average pooling before every block but the first (Gatys et al.,
    2015, replaced VGG's max pooling by average pooling for synthesis). The
    weights are PyTorch's default initialisation with ``seed``, never
    trained: random filters are enough for many textures (Ustyuzhaninov et
    al., 2017; He, Wang & Hopcroft, 2016). Returned in eval mode.
    """
    if not widths or not all(isinstance(w, int) and w > 0 for w in widths):
        raise ValueError(f"random_features: widths must be positive ints; got {tuple(widths)!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        blocks, channels = OrderedDict(), in_channels
        for i, width in enumerate(widths, start=1):
            if i > 1:
                blocks[f"pool{i - 1}"] = AvgPool2d(2)
            blocks[f"c{i}"] = nn.Sequential(Conv2d(channels, width, 3, padding=1), nn.ReLU())
            channels = width
        return nn.Sequential(blocks).eval()


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """The mean squared difference of neighbouring pixels, rows and columns: (N, C, H, W) -> scalar.

    A prior for smooth images (Mahendran & Vedaldi, 2015, who invert CNN
    codes with it; Johnson et al., 2016, add it to the style losses). A
    network whose filters ignore the finest frequencies cannot remove noise
    from an image it optimises; this term can.
    """
    rows = (images[..., 1:, :] - images[..., :-1, :]).pow(2).mean()
    cols = (images[..., :, 1:] - images[..., :, :-1]).pow(2).mean()
    return rows + cols


def _layer_weights(function: str, name: str, layers: Sequence[str], weights) -> dict[str, float]:
    """``weights`` checked (a positive number for each of ``layers``), or equal weights summing to 1."""
    if weights is None:
        return {layer: 1.0 / len(layers) for layer in layers}
    if not isinstance(weights, dict) or set(weights) != set(layers):
        got = sorted(weights) if isinstance(weights, dict) else type(weights).__name__
        raise ValueError(f"{function}: {name} must be a dict with one weight per style layer {sorted(layers)}; "
                         f"got {got}")
    for key, value in weights.items():
        check_positive(function, **{f"{name}[{key!r}]": value})
    return dict(weights)


def style_loss(features: dict[str, torch.Tensor], target_grams: dict[str, torch.Tensor],
               weights: dict[str, float] | None = None) -> torch.Tensor:
    """``sum_l weights[l] * mean((gram(features[l]) - target_grams[l])^2)`` over the layers of ``target_grams``.

    ``features[l]``: (N, C, H, W); ``target_grams[l]``: (N, C, C), or (1, C, C)
    to compare every image with one style. ``weights`` (one positive number
    per layer) default to equal weights summing to 1, Gatys et al.'s
    ``w_l = 1 / L``. Each term is 4 times Gatys et al.'s ``E_l`` (see
    :func:`gram_matrix`). Returns a scalar.
    """
    weights = _layer_weights("style_loss", "weights", list(target_grams), weights)
    if not set(target_grams) <= set(features):
        raise ValueError(f"style_loss: features must hold every layer of target_grams {sorted(target_grams)}; "
                         f"got {sorted(features)}")
    total = 0.0
    for name, target in target_grams.items():
        gram = gram_matrix(features[name])
        if target.dim() != 3 or target.shape[0] not in (1, gram.shape[0]) or target.shape[1:] != gram.shape[1:]:
            raise ValueError(f"style_loss: target_grams[{name!r}] must be (1 or {gram.shape[0]}, {gram.shape[1]}, "
                             f"{gram.shape[2]}) to match the features; got {tuple(target.shape)}")
        total = total + weights[name] * (gram - target).pow(2).mean()
    return total


def _layers(function: str, name: str, names) -> tuple[str, ...]:
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        raise ValueError(f"{function}: {name} must name at least one layer; got none")
    return names


def _settings(function: str, steps, optimizer: str, lr, value_range, seed) -> float:
    """Check the optimisation settings; return the learning rate (the optimizer's default when None)."""
    check_positive(function, steps=steps)
    if not isinstance(steps, int):
        raise ValueError(f"{function}: steps must be a positive int; got {steps!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"{function}: optimizer must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}")
    lr = OPTIMIZERS[optimizer] if lr is None else lr
    check_positive(function, lr=lr)
    if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
            or not float(value_range[0]) < float(value_range[1])):
        raise ValueError(f"{function}: value_range must be (low, high) with low < high; got {value_range!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"{function}: seed must be a non-negative int; got {seed!r}")
    return lr


def _check_tv(function: str, tv_weight) -> None:
    if isinstance(tv_weight, bool) or not isinstance(tv_weight, (int, float)) or tv_weight < 0:
        raise ValueError(f"{function}: tv_weight must be a number >= 0; got {tv_weight!r}")


def _with_tv(losses: dict, x: torch.Tensor, tv_weight: float) -> dict:
    """``losses`` with the weighted total variation of ``x`` added to "total" (and recorded as "tv")."""
    if tv_weight:
        losses["tv"] = total_variation(x)
        losses["total"] = losses["total"] + tv_weight * losses["tv"]
    return losses


def _noise(shape, seed: int, value_range) -> torch.Tensor:
    """Uniform noise in ``value_range``, from a generator of its own (the global seed is untouched)."""
    low, high = value_range
    return low + (high - low) * torch.rand(shape, generator=torch.Generator().manual_seed(seed))


def _optimise(model: nn.Module, start: torch.Tensor, objective, steps: int, optimizer: str, lr: float,
              value_range) -> StyleResult:
    """Minimise ``objective(x)`` (a dict of scalar losses with "total") over the pixels x, from ``start``.

    A step is one evaluation of the loss and its gradient and one update:
    ``Adam.step``, or ``LBFGS.step`` with ``max_iter=1``, a fixed step length
    ``lr`` and no line search (as Johnson's neural-style code, 2015), its
    curvature history carried from step to step and its tolerances off (it
    runs all ``steps``). The pixels are then clamped to ``value_range``. The
    optimizer minimises ``total / total(start)``; ``losses[k]`` holds the
    unscaled losses of the image step k started from.
    """
    x = start.detach().clone().requires_grad_(True)
    if optimizer == "lbfgs":
        opt = torch.optim.LBFGS([x], lr=lr, max_iter=1, tolerance_grad=0.0, tolerance_change=0.0)
    else:
        opt = torch.optim.Adam([x], lr=lr)
    history, scale = [], []

    def closure():
        opt.zero_grad()
        losses = objective(x)
        if not scale:  # the first loss, or 1 if it is 0
            scale.append(float(losses["total"].detach()) or 1.0)
        total = losses["total"] / scale[0]
        total.backward()
        history.append({name: value.detach() for name, value in losses.items()})
        return total

    with frozen(model), torch.enable_grad():  # also inside a caller's no_grad block
        for _ in range(steps):
            opt.step(closure)
            with torch.no_grad():
                x.clamp_(*value_range)
    losses = {name: torch.stack([h[name] for h in history]).cpu() for name in history[0]}
    return StyleResult(x.detach().cpu(), losses)


def _grams(function: str, model: nn.Module, style: torch.Tensor, layers) -> dict[str, torch.Tensor]:
    """The style images' Gram matrices at ``layers``: {name: (S, C, C)}."""
    with torch.no_grad(), frozen(model):
        maps = layer_outputs(model, style, layers, function)
    return {name: gram_matrix(m) for name, m in maps.items()}


def style_transfer(model: nn.Module, content: torch.Tensor, style: torch.Tensor,
                   content_layers: Sequence[str] = CONTENT_LAYERS, style_layers: Sequence[str] = STYLE_LAYERS,
                   content_weight: float = 1.0, style_weight: float = 1e2,
                   style_weights: dict[str, float] | None = None, steps: int = 100, optimizer: str = "lbfgs",
                   lr: float | None = None, init: str = "content", seed: int = 0,
                   value_range: tuple[float, float] = (0.0, 1.0), tv_weight: float = 0.0) -> StyleResult:
    """Gatys et al.'s (2016) style transfer: (N, C, H, W) content, (1 or N, C, H', W') style -> (N, C, H, W).

    Minimises ``content_weight * content + style_weight * style`` over the
    pixels, where ``content`` is :func:`content_loss` to the content image's
    maps, averaged over ``content_layers``, and ``style`` is
    :func:`style_loss` to the style image's Gram matrices at ``style_layers``
    (weighted by ``style_weights``, equal by default). Both images (a single
    image (C, H, W) is a batch of one) must lie in ``value_range`` and have the
    model's input channels; their sizes may differ. ``init`` is ``"content"``
    (the content image) or ``"noise"`` (uniform noise drawn with ``seed``).
    ``lr`` defaults to 1 for L-BFGS, 0.02 for Adam. ``tv_weight`` adds
    :func:`total_variation` (recorded as "tv"). Returns the image and the
    unweighted "content" and "style" and the weighted "total" loss per step.
    """
    function = "style_transfer"
    lr = _settings(function, steps, optimizer, lr, value_range, seed)
    check_positive(function, content_weight=content_weight, style_weight=style_weight)
    _check_tv(function, tv_weight)
    if init not in ("content", "noise"):
        raise ValueError(f"{function}: init must be 'content' or 'noise'; got {init!r}")
    content_layers = _layers(function, "content_layers", content_layers)
    style_layers = _layers(function, "style_layers", style_layers)
    weights = _layer_weights(function, "style_weights", style_layers, style_weights)
    content = check_image(function, "content", content, input_channels(model), value_range).to(device_of(model))
    style = check_image(function, "style", style, content.shape[1], value_range).to(content.device)
    if style.shape[0] not in (1, content.shape[0]):
        raise ValueError(f"{function}: style must be one image or one per content image ({content.shape[0]}); "
                         f"got {style.shape[0]}")
    grams = _grams(function, model, style, style_layers)
    with torch.no_grad(), frozen(model):
        targets = layer_outputs(model, content, content_layers, function)
    names = list(dict.fromkeys(content_layers + style_layers))

    def objective(x):
        maps = layer_outputs(model, x, names, function)
        c = sum(content_loss(maps[name], targets[name]) for name in content_layers) / len(content_layers)
        s = style_loss(maps, grams, weights)
        return _with_tv({"content": c, "style": s, "total": content_weight * c + style_weight * s}, x, tv_weight)

    start = content if init == "content" else _noise(content.shape, seed, value_range).to(content.device)
    return _optimise(model, start, objective, steps, optimizer, lr, value_range)


def synthesize_texture(model: nn.Module, style: torch.Tensor, size: int | tuple[int, int] | None = None,
                       style_layers: Sequence[str] = STYLE_LAYERS, style_weights: dict[str, float] | None = None,
                       steps: int = 100, optimizer: str = "lbfgs", lr: float | None = None, seed: int = 0,
                       value_range: tuple[float, float] = (0.0, 1.0), tv_weight: float = 0.0) -> StyleResult:
    """Gatys et al.'s (2015) texture synthesis: (N, C, H', W') style -> (N, C, H, W) textures, one per style image.

    Minimises :func:`style_loss` alone, from uniform noise drawn with
    ``seed``. ``size`` (H, W), or an int for a square, defaults to the style
    image's size. Other settings as :func:`style_transfer`; ``losses`` holds
    "style" and "total" (the same here) per step.
    """
    function = "synthesize_texture"
    lr = _settings(function, steps, optimizer, lr, value_range, seed)
    style_layers = _layers(function, "style_layers", style_layers)
    weights = _layer_weights(function, "style_weights", style_layers, style_weights)
    _check_tv(function, tv_weight)
    style = check_image(function, "style", style, input_channels(model), value_range).to(device_of(model))
    size = tuple(style.shape[2:]) if size is None else (size, size) if isinstance(size, int) else size
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
        raise ValueError(f"{function}: size must be a positive int or (H, W) of positive ints; got {size!r}")
    grams = _grams(function, model, style, style_layers)

    def objective(x):
        s = style_loss(layer_outputs(model, x, style_layers, function), grams, weights)
        return _with_tv({"style": s, "total": s}, x, tv_weight)

    start = _noise((style.shape[0], style.shape[1], *size), seed, value_range).to(style.device)
    return _optimise(model, start, objective, steps, optimizer, lr, value_range)
