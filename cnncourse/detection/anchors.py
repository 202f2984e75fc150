"""Anchors: the reference boxes a region proposal network (or SSD) scores and refines at every position.

Faster R-CNN (Ren et al., 2015) places k anchors at every cell of the
feature map: 3 sizes x 3 aspect ratios, 9 per position. The settings are
data: ``sizes`` per feature map (one tuple per map, for a pyramid) and
``aspect_ratios`` (height / width). An anchor of size s and ratio r has
width ``s / sqrt(r)`` and height ``s * sqrt(r)`` (area s^2), centred on the
cell's top-left corner ``(x * stride, y * stride)`` and its coordinates
rounded to whole pixels: the conventions of torchvision's
``AnchorGenerator``, so that the order of anchors (position-major, then
ratio, then size) and every coordinate are the same.
"""

from __future__ import annotations

import torch

FASTER_RCNN = {"sizes": ((128, 256, 512),), "aspect_ratios": ((0.5, 1.0, 2.0),)}  # the paper's 9 anchors, stride 16


def _positive_numbers(fn, name, values):
    if not values or any(not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0 for v in values):
        raise ValueError(f"{fn}: {name} must be a non-empty sequence of positive numbers; got {values!r}")


def cell_anchors(sizes, aspect_ratios, dtype=torch.float32, device=None) -> torch.Tensor:
    """The anchors of one position, centred on (0, 0): (len(aspect_ratios) * len(sizes), 4) xyxy.

    Ratio-major: all sizes of the first ratio, then of the second, ...
    """
    _positive_numbers("cell_anchors", "sizes", sizes)
    _positive_numbers("cell_anchors", "aspect_ratios", aspect_ratios)
    scales = torch.as_tensor(sizes, dtype=dtype, device=device)
    h_ratios = torch.as_tensor(aspect_ratios, dtype=dtype, device=device).sqrt()
    widths = (scales[None, :] / h_ratios[:, None]).flatten()
    heights = (scales[None, :] * h_ratios[:, None]).flatten()
    return (torch.stack([-widths, -heights, widths, heights], 1) / 2).round()


def grid_anchors(feature_size, stride, anchors: torch.Tensor) -> torch.Tensor:
    """``anchors`` (A, 4) at every cell of a (h, w) feature map of ``stride`` (sy, sx) pixels: (h * w * A, 4).

    Position-major (row by row), then anchor; cell (y, x) puts them at
    ``(x * sx, y * sy)``.
    """
    (h, w), (sy, sx) = feature_size, stride
    ys = torch.arange(h, device=anchors.device) * sy
    xs = torch.arange(w, device=anchors.device) * sx
    shift_y, shift_x = torch.meshgrid(ys, xs, indexing="ij")
    shifts = torch.stack([shift_x, shift_y, shift_x, shift_y], -1).reshape(-1, 1, 4)
    return (shifts + anchors[None]).reshape(-1, 4)


def generate_anchors(image_size, feature_sizes, sizes=FASTER_RCNN["sizes"],
                     aspect_ratios=FASTER_RCNN["aspect_ratios"], dtype=torch.float32, device=None) -> torch.Tensor:
    """Every anchor of an image of ``image_size`` (H, W) over feature maps of ``feature_sizes`` [(h, w), ...].

    One tuple of ``sizes`` and one of ``aspect_ratios`` per feature map; each
    map's stride is ``(H // h, W // w)``. Returns (sum of h * w * A, 4) xyxy in
    pixels, map by map, as torchvision's ``AnchorGenerator`` gives for one image.
    """
    if not (len(feature_sizes) == len(sizes) == len(aspect_ratios)):
        raise ValueError(f"generate_anchors: one tuple of sizes and one of aspect_ratios per feature map; got "
                         f"{len(feature_sizes)} feature maps, {len(sizes)} sizes, {len(aspect_ratios)} aspect_ratios")
    H, W = image_size
    per_map = []
    for (h, w), s, r in zip(feature_sizes, sizes, aspect_ratios):
        if not (0 < h <= H and 0 < w <= W):
            raise ValueError(f"generate_anchors: a feature map must be 1 to {H}x{W} cells (the image); got {h}x{w}")
        per_map.append(grid_anchors((h, w), (H // h, W // w), cell_anchors(s, r, dtype, device)))
    return torch.cat(per_map)
