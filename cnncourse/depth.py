"""Depth from a single image (Eigen, Puhrsch & Fergus, 2014): coarse and fine networks, scale-invariant loss.

"Pixels in, pixels out" (the lecture): the network maps an image to a map of
log-depths. Eigen et al. use two networks:

* the *coarse* network sees the whole image: convolutions and pooling, then
  fully connected layers whose output is the depth map at 1/4 resolution, so
  every output pixel depends on the whole scene (global layout, vanishing points);
* the *fine* network refines it locally: a 9x9 stride-2 convolution and a
  2x2 pool bring the image to 1/4 resolution, the coarse prediction is
  concatenated as one more feature map, and two 5x5 convolutions give the
  refined log-depth.

The coarse network is trained first; then it is held fixed and the fine one
trained (``model.stage = "coarse"`` or ``"fine"``).

The paper's networks (on 304x228 NYU images: coarse 96 11x11/4, 256 5x5, 384,
384, 256 3x3, fully connected 4096 and 74x55; fine 63 9x9/2, 64 5x5, 1 5x5)
are scaled down here to the course's small images: the coarse convolutions are
:func:`~cnncourse.backbone.conv_backbone` (with batch norm, which the paper
predates), the rest as in the paper with configurable widths.

:func:`scale_invariant_loss` is the paper's training loss (eq. 4) and
:func:`depth_metrics` its evaluation measures (Section 4.2).
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import Conv2d, MaxPool2d
from cnncourse.backbone import WIDTHS, check_images, conv_backbone, image_size_pair

STAGES = ("coarse", "fine")
THRESHOLDS = {"delta1": 1.25, "delta2": 1.25**2, "delta3": 1.25**3}


class EigenDepth(nn.Module):
    """Coarse and fine depth networks: (N, C_in, H, W) -> log-depth (N, 1, H / 4, W / 4), as in the paper.

    ``stage="coarse"`` returns the coarse network's map; ``stage="fine"`` (the
    default) the refined one. In the fine stage the coarse prediction is
    computed without gradient and the coarse network stays in eval mode (no
    dropout, fixed batch-norm statistics) even under ``model.train()``: the
    paper's "fix the coarse network, train the fine one". ``hidden`` is the
    coarse network's fully connected width (4096 in the paper), ``fine_width``
    the channels after the concatenation (64 in the paper: 63 + 1).
    The input must be ``image_size`` (an int or (H, W)), a multiple of
    ``max(4, 2^len(widths))``.
    """

    def __init__(self, in_channels=3, widths=WIDTHS, image_size=64, hidden=256, fine_width=32, dropout=0.5,
                 stage="fine"):
        super().__init__()
        self.in_channels = in_channels
        self.image_size = image_size_pair("EigenDepth", image_size, max(4, 2 ** len(widths)))
        h, w = self.image_size
        self.output_size = (h // 4, w // 4)
        cells = (h >> len(widths)) * (w >> len(widths))
        self.coarse = nn.Sequential(
            conv_backbone(in_channels, widths), nn.Flatten(),
            nn.Linear(widths[-1] * cells, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, self.output_size[0] * self.output_size[1]),  # linear: log-depths
        )
        self.fine_features = nn.Sequential(
            Conv2d(in_channels, fine_width - 1, 9, stride=2, padding=4), nn.ReLU(inplace=True), MaxPool2d(2),
        )
        self.fine = nn.Sequential(
            Conv2d(fine_width, fine_width, 5, padding=2), nn.ReLU(inplace=True), Conv2d(fine_width, 1, 5, padding=2),
        )
        self.stage = stage

    @property
    def stage(self):
        """``"coarse"`` or ``"fine"``: which network's prediction ``forward`` returns (and trains)."""
        return self._stage

    @stage.setter
    def stage(self, value):
        if value not in STAGES:
            raise ValueError(f"EigenDepth: stage must be one of {STAGES}; got {value!r}")
        self._stage = value
        self.train(self.training)

    def train(self, mode=True):
        super().train(mode)
        if self._stage == "fine":
            self.coarse.eval()
        return self

    def forward(self, x):
        check_images("EigenDepth", x, self.in_channels, self.image_size)
        if self.stage == "coarse":
            return self.coarse(x).view(len(x), 1, *self.output_size)
        with torch.no_grad():
            coarse = self.coarse(x).view(len(x), 1, *self.output_size)
        return self.fine(torch.cat([self.fine_features(x), coarse], dim=1))


def _check_maps(fn, a, b, mask, names):
    """Two tensors (N, ...) of one shape and an optional bool mask of that shape; returns the mask (or None)."""
    for name, value in zip(names, (a, b)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{fn}: {name} must be a torch.Tensor; got {type(value).__name__}")
    if a.dim() < 2 or a.shape != b.shape:
        raise ValueError(f"{fn}: {names[0]} and {names[1]} must have one shape (N, ...), a map per image; "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}")
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor) or mask.shape != a.shape:
        got = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise ValueError(f"{fn}: mask must be a tensor of shape {tuple(a.shape)}; got {got}")
    return mask.bool()


def scale_invariant_loss(pred_log, target_log, lam=0.5, mask=None):
    """Eigen et al.'s (2014) training loss, eq. (4), averaged over the images of a batch.

    Per image, with ``d = pred_log - target_log`` over its n valid pixels::

        L = (1/n) sum d^2 - (lam / n^2) (sum d)^2

    ``lam = 0`` is the mean squared error of the log-depths; ``lam = 1`` is
    the scale-invariant error (eq. 1-3, the variance of d): adding a constant
    to every log-depth (scaling the depths) does not change it. The paper
    trains with 0.5. ``pred_log``, ``target_log`` (N, ...); ``mask`` (N, ...)
    marks the pixels with ground truth (images without any are left out).
    """
    fn = "scale_invariant_loss"
    mask = _check_maps(fn, pred_log, target_log, mask, ("pred_log", "target_log"))
    if not 0 <= lam <= 1:
        raise ValueError(f"{fn}: lam must be in [0, 1] (0: L2 of logs, 1: scale-invariant); got {lam!r}")
    d = (pred_log - target_log).flatten(1)
    n = d.new_full((len(d),), d.shape[1])
    if mask is not None:
        mask = mask.flatten(1)
        d, n = d * mask, mask.sum(1).to(d.dtype)
    valid = n > 0
    if not valid.any():
        raise ValueError(f"{fn}: mask leaves no valid pixel in any image")
    d, n = d[valid], n[valid]
    return (d.pow(2).sum(1) / n - lam * d.sum(1).pow(2) / n.pow(2)).mean()


def depth_metrics(pred, target, mask=None):
    """The error measures of Eigen et al. (2014), Section 4.2, over all valid pixels of the batch.

    ``pred`` and ``target`` are depths (not logs), positive where ``mask``
    (default: everywhere) is true; any shape (N, ...). With y the prediction,
    y* the truth and T the valid pixels, returns a dict of floats:

    * ``abs_rel``: mean |y - y*| / y*;  ``sq_rel``: mean (y - y*)^2 / y*;
    * ``rmse``: sqrt(mean (y - y*)^2);  ``rmse_log``: sqrt(mean (log y - log y*)^2);
    * ``delta1``, ``delta2``, ``delta3``: fraction with max(y / y*, y* / y) < 1.25, 1.25^2, 1.25^3.

    The paper averages over all pixels of the test set (T); to average per
    image first, call it once per image.
    """
    fn = "depth_metrics"
    mask = _check_maps(fn, pred, target, mask, ("pred", "target"))
    y, truth = (pred, target) if mask is None else (pred[mask], target[mask])
    if y.numel() == 0:
        raise ValueError(f"{fn}: mask leaves no valid pixel")
    for name, value in (("pred", y), ("target", truth)):
        if (value <= 0).any():
            raise ValueError(f"{fn}: {name} must be positive depths (not log-depths) at the valid pixels; "
                             f"got a minimum of {value.min().item():.4g} (mask out missing depths)")
    y, truth = y.double(), truth.double()
    ratio = torch.maximum(y / truth, truth / y)
    metrics = {
        "abs_rel": ((y - truth).abs() / truth).mean(),
        "sq_rel": ((y - truth).pow(2) / truth).mean(),
        "rmse": (y - truth).pow(2).mean().sqrt(),
        "rmse_log": (y.log() - truth.log()).pow(2).mean().sqrt(),
        **{name: (ratio < threshold).double().mean() for name, threshold in THRESHOLDS.items()},
    }
    return {name: value.item() for name, value in metrics.items()}
