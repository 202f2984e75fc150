"""Gradient ascent: the image a network wants to see.

Start from noise (or an image) and climb the gradient of one number the
network computes, a class logit or a unit's activation, with respect to the
pixels (Erhan et al., 2009; Simonyan et al., 2014):

    x <- x + lr * dJ/dx,   J(x) = f(x) - Omega(x)

Unregularised, the climb finds high-frequency patterns that no photograph
contains. The regularisers ``Omega`` below make the image more natural;
each is a small object applied after every step, in the order given:

* :class:`L2Decay`: shrink the image towards the mean (Simonyan et al., 2014);
* :class:`GaussianBlur`: blur it every few steps, :class:`ClipNorm`: zero the
  pixels of small norm, :class:`ClipContribution`: zero the pixels whose
  contribution to the objective is small (Yosinski et al., 2015, who apply
  decay, blur, then the two clippings, in this order);
* :class:`Jitter`: shift the image by a random offset before each forward
  pass (Mordvintsev et al., 2015), so no pattern can rely on exact pixel
  positions;
* :class:`LinfBall`: stay within ``radius`` of a reference image: with it,
  the ascent makes a *fooling image* (Szegedy et al., 2014; Nguyen et al.,
  2015) instead of a visualisation.

The regularisers act on the *centred* image ``x - mean``; decay therefore
pulls towards the mean image, not towards black.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.runtime import device_of
from cnncourse.viz._common import check_image, check_positive, frozen, input_channels, layer, layer_outputs

__all__ = ["Ascent", "Channel", "ClassLogit", "ClipContribution", "ClipNorm", "GaussianBlur", "Jitter", "L2Decay",
           "LayerNorm", "LinfBall", "Objective", "Regularizer", "Unit", "gradient_ascent", "objective_values"]


# --- objectives: one score per image, (N,) ---------------------------------------------------------------------

class Objective:
    """What the ascent maximises: ``__call__(output) -> (N,)`` of the layer named ``layer`` (None: the logits)."""

    layer: str | None = None

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class ClassLogit(Objective):
    """The unnormalised score of class ``target`` (Simonyan et al., 2014 maximise the logit, not the softmax)."""

    def __init__(self, target: int):
        self.target = int(target)

    def __call__(self, output):
        if not 0 <= self.target < output.shape[1]:
            raise ValueError(f"ClassLogit: target must be in 0..{output.shape[1] - 1}; got {self.target}")
        return output[:, self.target]

    def __repr__(self):
        return f"ClassLogit({self.target})"


class Unit(Objective):
    """One neuron: channel ``channel`` of ``layer`` at ``position`` (row, column); default the centre."""

    def __init__(self, layer: str, channel: int, position: tuple[int, int] | None = None):
        self.layer, self.channel, self.position = layer, int(channel), position

    def __call__(self, output):  # (N, C, H, W)
        _check_channel(self, output)
        row, col = self.position if self.position is not None else (output.shape[2] // 2, output.shape[3] // 2)
        return output[:, self.channel, row, col]

    def __repr__(self):
        return f"Unit({self.layer!r}, {self.channel}, {self.position})"


class Channel(Objective):
    """The mean of channel ``channel`` of ``layer`` over all positions (a feature, wherever it appears)."""

    def __init__(self, layer: str, channel: int):
        self.layer, self.channel = layer, int(channel)

    def __call__(self, output):  # (N, C, H, W)
        _check_channel(self, output)
        return output[:, self.channel].flatten(1).mean(dim=1)

    def __repr__(self):
        return f"Channel({self.layer!r}, {self.channel})"


class LayerNorm(Objective):
    """A whole layer's squared L2 norm divided by its size (DeepDream's objective): ``mean(a ** 2)``."""

    def __init__(self, layer: str):
        self.layer = layer

    def __call__(self, output):
        return output.pow(2).flatten(1).mean(dim=1)

    def __repr__(self):
        return f"LayerNorm({self.layer!r})"


def _check_channel(objective, output):
    if output.dim() != 4 or not 0 <= objective.channel < output.shape[1]:
        raise ValueError(f"{type(objective).__name__}: channel must be in 0..{output.shape[1] - 1} of layer "
                         f"{objective.layer!r} (output {tuple(output.shape)}); got {objective.channel}")


def objective_values(model: nn.Module, objective: Objective, x: torch.Tensor) -> torch.Tensor:
    """``objective`` on the images ``x`` (on the model's device, differentiable): (N,)."""
    if objective.layer is None:
        return objective(model(x))
    return objective(layer_outputs(model, x, objective.layer, "gradient_ascent")[objective.layer])


# --- regularisers: act on the centred image z = x - mean, (N, C, H, W) --------------------------------------------

class Regularizer:
    """A change of the image after each step: ``__call__(z, grad, step) -> z``."""

    def __call__(self, z: torch.Tensor, grad: torch.Tensor, step: int) -> torch.Tensor:
        return z

    def shift(self, generator: torch.Generator) -> tuple[int, int]:
        """The (rows, columns) offset of the image for the next forward pass; (0, 0) but for :class:`Jitter`."""
        return 0, 0

    def bind(self, mean: torch.Tensor, channels: int) -> None:
        """Called once before the ascent with its mean (1, C, 1, 1) and the model's channel count."""


class L2Decay(Regularizer):
    """``z <- (1 - decay) z``: the gradient step of ``decay/2 * ||z||^2`` (Simonyan et al., 2014)."""

    def __init__(self, decay: float):
        if not 0 <= decay < 1:
            raise ValueError(f"L2Decay: decay must be in [0, 1); got {decay!r}")
        self.decay = decay

    def __call__(self, z, grad, step):
        return z * (1 - self.decay)

    def __repr__(self):
        return f"L2Decay({self.decay})"


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """A normalised 1-D Gaussian with radius ceil(3 sigma): (2r + 1,)."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


class GaussianBlur(Regularizer):
    """Blur with a Gaussian of std ``sigma`` pixels every ``every`` steps (Yosinski et al., 2015); sigma 0: none.

    Separable: one horizontal and one vertical depthwise pass, reflecting at the border.
    """

    def __init__(self, sigma: float, every: int = 1):
        if sigma < 0:
            raise ValueError(f"GaussianBlur: sigma must be >= 0; got {sigma!r}")
        check_positive("GaussianBlur", every=every)
        self.sigma, self.every = sigma, int(every)

    def __call__(self, z, grad, step):
        if self.sigma == 0 or step % self.every:
            return z
        kernel = gaussian_kernel(self.sigma).to(z)
        c, r = z.shape[1], kernel.numel() // 2
        if r >= min(z.shape[2:]):
            raise ValueError(f"GaussianBlur: sigma {self.sigma} needs an image wider than {r} pixels; "
                             f"got {tuple(z.shape[2:])}")
        z = F.conv2d(F.pad(z, (r, r, 0, 0), mode="reflect"), kernel.expand(c, 1, 1, -1), groups=c)
        return F.conv2d(F.pad(z, (0, 0, r, r), mode="reflect"), kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)

    def __repr__(self):
        return f"GaussianBlur({self.sigma}, every={self.every})"


def _zero_smallest(z: torch.Tensor, measure: torch.Tensor, percentile: float) -> torch.Tensor:
    """Zero, in each image, the ``percentile`` % of pixels with the smallest ``measure`` (N, H, W)."""
    n, h, w = measure.shape
    count = round(percentile / 100 * h * w)
    if count == 0:
        return z
    smallest = measure.flatten(1).topk(count, dim=1, largest=False).indices
    keep = torch.ones(n, h * w, device=z.device, dtype=z.dtype).scatter_(1, smallest, 0.0)
    return z * keep.view(n, 1, h, w)


class ClipNorm(Regularizer):
    """Zero the ``percentile`` % of pixels with the smallest norm over the channels (Yosinski et al., 2015)."""

    def __init__(self, percentile: float):
        if not 0 <= percentile <= 100:
            raise ValueError(f"ClipNorm: percentile must be in [0, 100]; got {percentile!r}")
        self.percentile = percentile

    def __call__(self, z, grad, step):
        return _zero_smallest(z, z.norm(dim=1), self.percentile)

    def __repr__(self):
        return f"ClipNorm({self.percentile})"


class ClipContribution(Regularizer):
    """Zero the ``percentile`` % of pixels that contribute least to the objective (Yosinski et al., 2015).

    A pixel's contribution is the first-order estimate of how much the
    objective would change if the pixel were set to the mean: ``|sum_c z * grad|``.
    """

    def __init__(self, percentile: float):
        if not 0 <= percentile <= 100:
            raise ValueError(f"ClipContribution: percentile must be in [0, 100]; got {percentile!r}")
        self.percentile = percentile

    def __call__(self, z, grad, step):
        return _zero_smallest(z, (z * grad).sum(dim=1).abs(), self.percentile)

    def __repr__(self):
        return f"ClipContribution({self.percentile})"


class Jitter(Regularizer):
    """Roll the image by up to ``pixels`` in each direction before every forward pass (and back after)."""

    def __init__(self, pixels: int):
        if pixels < 0:
            raise ValueError(f"Jitter: pixels must be >= 0; got {pixels!r}")
        self.pixels = int(pixels)

    def shift(self, generator):
        dy, dx = torch.randint(-self.pixels, self.pixels + 1, (2,), generator=generator).tolist()
        return dy, dx

    def __repr__(self):
        return f"Jitter({self.pixels})"


class LinfBall(Regularizer):
    """Keep every pixel within ``radius`` of ``reference`` (a projection: the ascent becomes a fooling image)."""

    def __init__(self, reference: torch.Tensor, radius: float):
        check_positive("LinfBall", radius=radius)
        self.reference, self.radius = reference, radius

    def bind(self, mean, channels):
        reference = check_image("LinfBall", "reference", self.reference, channels, value_range=None)
        self.centred = reference.to(mean) - mean

    def __call__(self, z, grad, step):
        return torch.maximum(torch.minimum(z, self.centred + self.radius), self.centred - self.radius)

    def __repr__(self):
        return f"LinfBall(radius={self.radius})"


# --- the ascent ---------------------------------------------------------------------------------------------------

class Ascent(NamedTuple):
    image: torch.Tensor       # (N, C, H, W) on the CPU
    trajectory: torch.Tensor  # (steps, N): the objective before each step


def gradient_ascent(model: nn.Module, objective: Objective, start: torch.Tensor | None = None, *,
                    size: int | tuple[int, int] | None = None, batch: int = 1, steps: int = 100, lr: float = 0.05,
                    regularizers: Sequence[Regularizer] = (), mean: float | Sequence[float] = 0.5,
                    value_range: tuple[float, float] | None = (0.0, 1.0), normalize: bool = True,
                    noise: float = 0.01, seed: int = 0) -> Ascent:
    """Climb ``objective`` from ``start`` (N, C, H, W), or from seeded noise of ``size`` around ``mean``.

    One step: shift the image by the jitter (if any), compute the objective
    and its gradient, move ``lr`` along the gradient (with ``normalize``,
    divided by its mean absolute value per image, so ``lr`` is in pixel
    units), then apply ``regularizers`` in order, then clamp to
    ``value_range``. The model is left as it was (eval mode during the
    ascent, no parameter gradients). Returns the image and the objective
    before each step, on the CPU.
    """
    check_positive("gradient_ascent", steps=steps, lr=lr, batch=batch)
    if objective.layer is not None:
        layer(model, objective.layer, "gradient_ascent")
    device, channels = device_of(model), input_channels(model) or 3
    centre = torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1).to(device)
    generator = torch.Generator().manual_seed(seed)
    if start is None:
        if size is None:
            raise ValueError("gradient_ascent: give a start image (N, C, H, W) or a size; got neither")
        h, w = (size, size) if isinstance(size, int) else size
        z = noise * torch.randn(batch, channels, h, w, generator=generator)
    else:
        start = check_image("gradient_ascent", "start", start, channels, value_range)
        z = start.detach().to(device) - centre
    z = z.to(device)
    for reg in regularizers:
        reg.bind(centre, channels)
    trajectory = []
    with frozen(model), torch.enable_grad():  # also inside a caller's no_grad block
        for step in range(steps):
            dy, dx = map(sum, zip((0, 0), *(reg.shift(generator) for reg in regularizers)))
            z = z.detach().requires_grad_(True)
            x = torch.roll(centre + z, (dy, dx), dims=(2, 3))
            score = objective_values(model, objective, x)
            (grad,) = torch.autograd.grad(score.sum(), z)
            trajectory.append(score.detach().cpu())
            with torch.no_grad():
                step_direction = grad
                if normalize:
                    step_direction = grad / grad.abs().mean(dim=(1, 2, 3), keepdim=True).clamp(min=1e-12)
                z = z + lr * step_direction
                for reg in regularizers:
                    z = reg(z, grad, step)
                if value_range is not None:
                    z = (centre + z).clamp(*value_range) - centre
    image = centre + z.detach()
    image = image.clamp(*value_range) if value_range is not None else image  # exactly in range, after rounding
    return Ascent(image.cpu(), torch.stack(trajectory))

