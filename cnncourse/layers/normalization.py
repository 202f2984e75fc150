"""Normalisation layers: local contrast, local response (AlexNet), batch norm, mean image.

* :func:`local_contrast_norm`: Jarrett et al. (2009): subtract the local mean and
  divide by the local standard deviation, both under a Gaussian window that
  spans all feature maps;
* :func:`local_response_norm`: Krizhevsky et al. (2012), ``F.local_response_norm``;
* :func:`batch_norm`: Ioffe & Szegedy (2015), ``F.batch_norm``, with running statistics;
* :func:`subtract_mean_image`: the input normalisation of AlexNet.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers._args import check_tensor
from cnncourse.layers.conv import conv2d
from cnncourse.layers.kernels import torch_kernels


def gaussian_window(size=7, sigma=None, dtype=torch.float32):
    """A size x size Gaussian that sums to one (sigma defaults to size / 4)."""
    if not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(f"gaussian_window: size must be a positive odd int; got {size!r}")
    sigma = sigma or size / 4
    r = torch.arange(size, dtype=dtype) - size // 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    window = g[:, None] * g[None, :]
    return window / window.sum()


def local_contrast_norm(input, size=7, sigma=None, eps=1e-4):
    """Local mean 0 and local standard deviation 1 under a Gaussian window across feature maps.

    (N, C, H, W) -> (N, C, H, W). With ``w`` the Gaussian (summing to one over
    the window and the C maps), ``v = x - w * x`` and ``y = v / max(c, sqrt(w * v^2))``,
    where ``c`` is the mean local deviation of the image: flat regions are not
    blown up into noise. Borders are handled by renormalising the window to
    the part that lies inside the image.
    """
    check_tensor("local_contrast_norm", "input", input, 4, "(N, C, H, W)")
    c = input.shape[1]
    window = gaussian_window(size, sigma, input.dtype).to(input.device)
    kernel = (window / c).expand(1, c, size, size)
    coverage = conv2d(torch.ones_like(input[:1]), kernel, padding=size // 2)  # < 1 near the border

    def local_mean(t):
        return conv2d(t, kernel, padding=size // 2) / coverage  # (N, 1, H, W)

    centred = input - local_mean(input)
    deviation = local_mean(centred**2).sqrt()
    floor = deviation.mean(dim=(1, 2, 3), keepdim=True).clamp(min=eps)
    return centred / torch.maximum(deviation, floor)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """AlexNet's normalisation across neighbouring channels, like ``F.local_response_norm``.

    ``b_c = a_c / (k + alpha / size * sum_{c' near c} a_{c'}^2) ^ beta``, the sum over
    ``size`` channels centred on c (zero beyond the first and last channel).
    """
    if not isinstance(input, torch.Tensor) or input.dim() < 3:
        got = tuple(input.shape) if isinstance(input, torch.Tensor) else type(input).__name__
        raise ValueError(f"local_response_norm: input must be (N, C, ...) with 3 or more dims; got {got}")
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int; got {size!r}")
    squares = input.pow(2).flatten(2)  # (N, C, L)
    padded = F.pad(squares, (0, 0, size // 2, (size - 1) // 2))  # zero channels before and after
    sums = padded.unfold(1, size, 1).sum(-1)  # (N, C, L): the window of channels around each c
    return input / (k + alpha / size * sums.view_as(input)).pow(beta)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation, like ``F.batch_norm``: (N, C, ...) -> same shape.

    Training: normalise with the batch's per-channel mean and (biased)
    variance, and update the running statistics in place with the unbiased
    variance: ``running = (1 - momentum) * running + momentum * batch``.
    Evaluation: normalise with the running statistics.
    """
    fn = "batch_norm"
    if not isinstance(input, torch.Tensor) or input.dim() < 2:
        raise ValueError(f"{fn}: input must be (N, C) or (N, C, ...); got {getattr(input, 'shape', type(input).__name__)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"{fn}: {name} must have shape ({c},), one value per channel; got {tuple(t.shape)}")
    dims = [0] + list(range(2, input.dim()))
    shape = [1, c] + [1] * (input.dim() - 2)
    if training:
        count = input.numel() // c
        if count < 2:
            raise ValueError(
                f"{fn}: training needs more than 1 value per channel to estimate a variance; "
                f"input of shape {tuple(input.shape)} has {count}"
            )
        var, mean = torch.var_mean(input, dim=dims, unbiased=False)
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var * count / (count - 1))
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{fn}: evaluation mode needs running_mean and running_var")
        mean, var = running_mean, running_var
    # (x - mean) / sqrt(var + eps) * weight + bias is one affine map per channel,
    # x * scale + shift: one pass over the input instead of four. (At inference
    # scale and shift are constants, which is why BN can be folded into the
    # convolution before it.)
    scale = torch.rsqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    return (input * scale.view(shape)).add_(shift.view(shape))


class BatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` computed by :func:`batch_norm`; same parameters, buffers and state_dict."""

    def forward(self, input):
        if torch_kernels():
            return super().forward(input)
        check_tensor("BatchNorm2d", "input", input, 4, "(N, C, H, W)")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked)
        use_batch = self.training or not self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight, self.bias, use_batch, momentum, self.eps,
        )


class LocalResponseNorm(nn.LocalResponseNorm):
    """``nn.LocalResponseNorm`` computed by :func:`local_response_norm`."""

    def forward(self, input):
        if torch_kernels():
            return super().forward(input)
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)


def mean_image(images):
    """The per-pixel mean of a stack of images (N, C, H, W) -> (C, H, W), as AlexNet subtracts."""
    check_tensor("mean_image", "images", images, 4, "(N, C, H, W)")
    return images.mean(dim=0)


def subtract_mean_image(images, mean=None):
    """Centre images on the training set's mean image (computed from ``images`` when not given)."""
    mean = mean_image(images) if mean is None else mean
    if mean.shape != images.shape[1:]:
        raise ValueError(f"subtract_mean_image: mean {tuple(mean.shape)} must match one image {tuple(images.shape[1:])}")
    return images - mean
