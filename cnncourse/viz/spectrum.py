"""Image statistics in the frequency domain: how much fine detail an image has, how alike two textures are.

Used to measure synthesised images without a network: a visualisation's
high-frequency share (:func:`high_frequency_share`; gradient ascent without
regularisers is dominated by fine patterns), and the distance between the
radially averaged power spectra of two images (:func:`spectrum_distance`;
a texture and its synthesis should share the scale of their structures).
"""

from __future__ import annotations

import torch

__all__ = ["high_frequency_share", "radial_spectrum", "spectrum_distance"]


def _check(function: str, name: str, images) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{function}: {name} must be (N, C, H, W); got {got}")
    return images


def _power(images: torch.Tensor) -> torch.Tensor:
    """The power spectrum of each image minus its mean (per channel), summed over channels: (N, H, W)."""
    centred = images - images.mean(dim=(2, 3), keepdim=True)
    return torch.fft.fft2(centred.double()).abs().pow(2).sum(dim=1)


def _radius(h: int, w: int) -> torch.Tensor:
    """Each frequency's distance from zero, in cycles per pixel: (H, W)."""
    fy = torch.fft.fftfreq(h, dtype=torch.float64)
    fx = torch.fft.fftfreq(w, dtype=torch.float64)
    return (fy[:, None] ** 2 + fx[None, :] ** 2).sqrt()


def high_frequency_share(images: torch.Tensor, cutoff: float = 0.5) -> torch.Tensor:
    """The share of each image's variance above ``cutoff`` x the Nyquist frequency: (N, C, H, W) -> (N,).

    The power spectrum of the image minus its mean (per channel), summed
    over the channels; a frequency counts as high when its radius
    sqrt(fy^2 + fx^2), in cycles per pixel, exceeds ``cutoff`` x 0.5. Noise
    scores about 1 - pi cutoff^2 / 4 (0.80 at 0.5), a photograph far less.
    """
    power = _power(_check("high_frequency_share", "images", images))
    high = _radius(*images.shape[2:]) > cutoff * 0.5
    return (power[:, high].sum(dim=1) / power.flatten(1).sum(dim=1).clamp(min=1e-30)).float()


def radial_spectrum(images: torch.Tensor, bins: int = 16) -> torch.Tensor:
    """The share of each image's variance in ``bins`` rings of frequency, 0 to Nyquist: (N, C, H, W) -> (N, bins).

    Frequencies beyond the Nyquist radius (the corners of the spectrum) go
    to the last ring. Rows sum to 1 (0 for a constant image).
    """
    power = _power(_check("radial_spectrum", "images", images))
    ring = (_radius(*images.shape[2:]) / 0.5 * bins).long().clamp(max=bins - 1).flatten()
    shares = torch.zeros(power.shape[0], bins, dtype=torch.float64).index_add_(1, ring, power.flatten(1))
    return (shares / shares.sum(dim=1, keepdim=True).clamp(min=1e-30)).float()


def spectrum_distance(images: torch.Tensor, reference: torch.Tensor, bins: int = 16) -> torch.Tensor:
    """How differently two images spread their variance over scales: (N, C, H, W), (1 or N, C, H', W') -> (N,).

    The L1 distance between their :func:`radial_spectrum` shares (0: the same
    spread over scales, 2: disjoint), comparable across image sizes because
    the rings are in cycles per pixel.
    """
    ours = radial_spectrum(images, bins)
    theirs = radial_spectrum(_check("spectrum_distance", "reference", reference), bins)
    return (ours - theirs).abs().sum(dim=1)
