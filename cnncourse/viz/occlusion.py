"""Which input regions matter, by hiding them (Zeiler & Fergus, 2014).

Slide a grey (or ``baseline``) square over the image and watch the score of
the target class. :func:`occlusion_map` gives, for every position of the
occluder that fits in the image (every ``stride`` pixels), the target's
probability (Zeiler and Fergus's Figure 7);
:func:`occlusion` turns the drops into a per-pixel attribution: the mean,
over all the windows covering a pixel, of the drop in the target's score
(Captum's ``Occlusion``: windows start at 0 every ``stride`` pixels, the last
one is cut at the border, the window covers all channels).

``target`` is a class (an int, or one per image) or any function
``f(model, x) -> (N,)`` (a unit's response, say). Work is batched over
occluder positions, ``batch_size`` images at a time.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from cnncourse.viz._common import check_input, evaluating, prepared, targets


def _pair(function, name, value):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or any(not isinstance(v, int) or v < 1 for v in pair):
        raise ValueError(f"{function}: {name} must be a positive int or a pair of them; got {value!r}")
    return pair


def _windows(function, size, window, stride, partial):
    """(top, left) of every occluder position, and the grid's shape. With ``partial`` the
    last window may stick out of the image (Captum's convention), else every window fits."""
    wh, ww = _pair(function, "window", window)
    sh, sw = _pair(function, "stride", stride)
    h, w = size
    if wh > h or ww > w:
        raise ValueError(f"{function}: window {wh}x{ww} is larger than the image ({h}x{w})")
    count = math.ceil if partial else math.floor
    rows, cols = count((h - wh) / sh) + 1, count((w - ww) / sw) + 1
    return [(i * sh, j * sw) for i in range(rows) for j in range(cols)], (rows, cols), (wh, ww)


def _scores(function, model, x, target, probability):
    """The target's score for every image of ``x``: (N,)."""
    if callable(target):
        return target(model, x)
    logits = model(x)
    t = targets(function, target, x.shape[0], logits.shape[1], logits.device)
    values = logits.softmax(dim=1) if probability else logits
    return values.gather(1, t[:, None])[:, 0]


@torch.no_grad()
def _occluded_scores(function, model, input, target, window, stride, baseline, batch_size, probability=False):
    """Scores of the intact images (N,) and of every occluded version (N, P), plus the windows."""
    x = prepared(function, model, input)
    positions, grid, (wh, ww) = _windows(function, x.shape[-2:], window, stride, partial=not probability)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"{function}: batch_size must be a positive int; got {batch_size!r}")
    with evaluating(model):
        base = _scores(function, model, x, target, probability).cpu()
        per_image = None if callable(target) else torch.as_tensor(target).flatten().expand(x.shape[0])
        occluded = torch.empty(x.shape[0], len(positions))
        for n in range(x.shape[0]):
            t = target if per_image is None else int(per_image[n])
            for start in range(0, len(positions), batch_size):
                chunk = positions[start:start + batch_size]
                copies = x[n:n + 1].repeat(len(chunk), 1, 1, 1)
                for c, (top, left) in enumerate(chunk):
                    copies[c, :, top:top + wh, left:left + ww] = baseline
                occluded[n, start:start + len(chunk)] = _scores(function, model, copies, t, probability).cpu()
    return base, occluded, positions, grid, (wh, ww)


def occlusion(model: nn.Module, input: torch.Tensor, target, window=8, stride=4, baseline=0.0,
              batch_size: int = 64) -> torch.Tensor:
    """Per-pixel attribution: the mean drop of the target's score over the windows covering each pixel.

    (N, C, H, W) in, (N, C, H, W) out (the same value in every channel).
    """
    check_input("occlusion", input)
    base, occluded, positions, _, (wh, ww) = _occluded_scores(
        "occlusion", model, input, target, window, stride, baseline, batch_size)
    h, w = input.shape[-2:]
    masks = torch.zeros(len(positions), h, w)
    for p, (top, left) in enumerate(positions):
        masks[p, top:top + wh, left:left + ww] = 1
    drops = base[:, None] - occluded  # (N, P)
    total = torch.einsum("np,phw->nhw", drops, masks)
    attribution = total / masks.sum(0).clamp(min=1)
    return attribution[:, None].expand(-1, input.shape[1], -1, -1).contiguous()


def occlusion_map(model: nn.Module, input: torch.Tensor, target, window=8, stride=4, baseline=0.0,
                  batch_size: int = 64) -> torch.Tensor:
    """The target's softmax probability with the occluder at each position: (N, rows, cols)."""
    check_input("occlusion_map", input)
    _, occluded, _, (rows, cols), _ = _occluded_scores(
        "occlusion_map", model, input, target, window, stride, baseline, batch_size, probability=True)
    return occluded.reshape(-1, rows, cols)
