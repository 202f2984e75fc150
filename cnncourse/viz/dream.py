"""DeepDream: amplify whatever a layer sees in a real image (Mordvintsev, Olah and Tyka, 2015).

Gradient ascent (:mod:`cnncourse.viz.ascent`) with three changes: it starts
from a photograph instead of noise, its objective is a whole layer's
activation (:class:`~cnncourse.viz.ascent.LayerNorm`: every pattern the layer
detects is strengthened, wherever it is), and it works at several scales.
The image is shrunk ``octaves - 1`` times by ``octave_scale``; the ascent
runs on the smallest version first, and the *detail* it added (the result
minus that octave's photograph) is enlarged and added to the next octave's
photograph, up to full size. Each step moves the pixels by ``step_size``
along the gradient divided by its mean absolute value, after a random
jitter; pixels stay in ``value_range``.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.viz._common import check_image, check_positive, input_channels, layer
from cnncourse.viz.ascent import Ascent, Jitter, LayerNorm, gradient_ascent

__all__ = ["deep_dream", "octave_loop", "octave_sizes"]


def octave_sizes(size: tuple[int, int], octaves: int, octave_scale: float) -> list[tuple[int, int]]:
    """The image sizes of the octaves, smallest first: size / octave_scale ** k, k = octaves - 1 .. 0."""
    h, w = size
    return [(max(1, round(h / octave_scale ** k)), max(1, round(w / octave_scale ** k)))
            for k in reversed(range(octaves))]


def _resized(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[2:]) == tuple(size):
        return image
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)


def octave_loop(image: torch.Tensor, octaves: int, octave_scale: float,
                ascend: Callable[[torch.Tensor, int], torch.Tensor],
                value_range: tuple[float, float] = (0.0, 1.0)) -> torch.Tensor:
    """DeepDream's multi-scale schedule around any ascent: (N, C, H, W) -> (N, C, H, W).

    ``ascend(start, octave)`` improves one octave's image (octave 0 is the
    smallest). The detail it adds, result minus that octave's photograph,
    is enlarged (bilinear) and added to the next octave's photograph; the
    photographs are ``image`` shrunk to :func:`octave_sizes` (bilinear,
    antialiased).
    """
    sizes = octave_sizes(tuple(image.shape[2:]), int(octaves), octave_scale)
    detail = torch.zeros_like(_resized(image, sizes[0]))
    for octave, size in enumerate(sizes):
        base = _resized(image, size)
        result = ascend((base + _resized(detail, size)).clamp(*value_range), octave)
        detail = result - base
    return result


def deep_dream(model: nn.Module, image: torch.Tensor, layer_name: str, octaves: int = 4, octave_scale: float = 1.4,
               steps: int = 10, step_size: float = 0.006, jitter: int = 4,
               value_range: tuple[float, float] = (0.0, 1.0), seed: int = 0) -> Ascent:
    """DeepDream on ``image`` (C, H, W) or (N, C, H, W) in ``value_range``, maximising ``layer_name``'s mean square.

    The defaults are Mordvintsev et al.'s (4 octaves of scale 1.4, 10 steps
    each, a step of 1.5 grey levels of 255) with a smaller jitter for small
    images. Returns the dreamed image (N, C, H, W) on the CPU and the
    objective before every step of every octave, smallest octave first:
    (octaves * steps, N).
    """
    check_positive("deep_dream", octaves=octaves, steps=steps, step_size=step_size)
    if not octave_scale > 1:
        raise ValueError(f"deep_dream: octave_scale must be greater than 1; got {octave_scale!r}")
    if jitter < 0:
        raise ValueError(f"deep_dream: jitter must be >= 0 pixels; got {jitter!r}")
    layer(model, layer_name, "deep_dream")
    photo = check_image("deep_dream", "image", image, input_channels(model), value_range).detach().float()
    trajectories = []

    def ascend(start, octave):
        dreamed = gradient_ascent(model, LayerNorm(layer_name), start, steps=int(steps), lr=step_size,
                                  regularizers=[Jitter(jitter)], mean=0.0, value_range=value_range,
                                  seed=seed + octave)
        trajectories.append(dreamed.trajectory)
        return dreamed.image

    result = octave_loop(photo, octaves, octave_scale, ascend, value_range)
    return Ascent(result, torch.cat(trajectories))
