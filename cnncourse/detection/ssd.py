"""SSD (Liu et al., 2016): default boxes on several feature maps, matching, and hard negative mining.

Like YOLO, SSD predicts from a grid in one pass, but at several scales: each
feature map k of a pyramid (finer maps for smaller objects) has, at every
cell, default boxes of scale ``s_k`` (a fraction of the image, spaced evenly
from ``min_ratio`` to ``max_ratio``) and aspect ratios: two squares (``s_k``
and ``sqrt(s_k * s_{k+1})``) and, for each ratio r of the map's list, a box
``s_k sqrt(r)`` wide and ``s_k / sqrt(r)`` high and its transpose (the
paper's {1, 2, 3, 1/2, 1/3}). Per default box the head predicts class scores
and four box offsets (the Faster R-CNN coder).

Training matches each ground-truth box to the default box that overlaps it
most, and every default box to any object it overlaps with IoU >= 0.5; the
rest are background. Most default boxes are background, so the
classification loss keeps only the negatives with the highest loss, three
for every positive ("hard negative mining").

Conventions of torchvision's ``DefaultBoxGenerator``, ``SSDMatcher`` and
``SSD.compute_loss``.
"""

from __future__ import annotations

import math

import torch

from cnncourse.detection.matching import Matcher

SSD300 = {"aspect_ratios": ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,)),  # the paper's six maps
          "feature_sizes": ((38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1))}


def box_scales(maps: int, min_ratio: float = 0.15, max_ratio: float = 0.9) -> list[float]:
    """``s_1 .. s_m`` spaced evenly from ``min_ratio`` to ``max_ratio``, then 1 (for the last ``s'``)."""
    if maps == 1:
        return [min_ratio, max_ratio]
    return [min_ratio + (max_ratio - min_ratio) * k / (maps - 1.0) for k in range(maps)] + [1.0]


def default_boxes(image_size, feature_sizes, aspect_ratios=SSD300["aspect_ratios"], min_ratio: float = 0.15,
                  max_ratio: float = 0.9, scales=None, steps=None, clip: bool = True) -> torch.Tensor:
    """Every default box of an image of ``image_size`` (H, W): (sum over maps of h * w * (2 + 2 len(r)), 4) xyxy.

    Map by map, cell by cell (row-major), then the map's boxes in order: the
    two squares, then each ratio and its transpose. Cell centres are
    ``(j + 0.5) / w`` of the width (``steps``: ``(j + 0.5) * step / W``
    instead); with ``clip``, widths and heights are clipped to [0, 1] before
    the boxes are placed.
    """
    if len(feature_sizes) != len(aspect_ratios) or (steps is not None and len(steps) != len(aspect_ratios)):
        raise ValueError(f"default_boxes: one list of aspect_ratios (and one step) per feature map; got "
                         f"{len(feature_sizes)} feature maps, {len(aspect_ratios)} aspect_ratios"
                         + (f", {len(steps)} steps" if steps is not None else ""))
    scales = list(scales) if scales is not None else box_scales(len(aspect_ratios), min_ratio, max_ratio)
    H, W = image_size
    boxes = []
    for k, ((h, w), ratios) in enumerate(zip(feature_sizes, aspect_ratios)):
        s, s_next = scales[k], math.sqrt(scales[k] * scales[k + 1])
        shapes = [(s, s), (s_next, s_next)]
        for r in ratios:
            shapes += [(s * math.sqrt(r), s / math.sqrt(r)), (s / math.sqrt(r), s * math.sqrt(r))]
        shapes = torch.tensor(shapes, dtype=torch.float32)
        shapes = shapes.clamp(0, 1) if clip else shapes
        cells_x, cells_y = (W / steps[k], H / steps[k]) if steps is not None else (w, h)
        cx = ((torch.arange(w) + 0.5) / cells_x).float()
        cy = ((torch.arange(h) + 0.5) / cells_y).float()
        grid_y, grid_x = torch.meshgrid(cy, cx, indexing="ij")
        centres = torch.stack([grid_x, grid_y], -1).reshape(-1, 1, 2).expand(-1, len(shapes), 2)
        sizes = shapes[None].expand_as(centres)
        scale = torch.tensor([W, H])
        boxes.append(torch.cat([(centres - sizes / 2) * scale, (centres + sizes / 2) * scale], -1).reshape(-1, 4))
    return torch.cat(boxes)


def ssd_match(iou: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """The object index of each default box, or -1 for background, from ``iou`` (G objects, D default boxes).

    IoU >= ``threshold`` with some object matches its best object; besides,
    each object takes the default box that overlaps it most, whatever the IoU.
    """
    matches = Matcher(threshold, threshold, allow_low_quality_matches=False)(iou)
    best = iou.argmax(dim=1)  # (G,) each object's best default box
    matches[best] = torch.arange(len(best), device=matches.device)
    return matches


def hard_negatives(loss: torch.Tensor, positive: torch.Tensor, ratio: int = 3) -> torch.Tensor:
    """(N, D) bool: per image, the ``ratio`` x #positives negatives with the highest classification ``loss``.

    ``loss`` (N, D) per default box, ``positive`` (N, D) bool. When fewer
    negatives remain, all of them.
    """
    if loss.shape != positive.shape or loss.dim() != 2:
        raise ValueError(f"hard_negatives: loss and positive must both be (N, D); got {tuple(loss.shape)} and "
                         f"{tuple(positive.shape)}")
    wanted = ratio * positive.sum(1, keepdim=True)
    ranked = loss.masked_fill(positive, -math.inf).argsort(1, descending=True)
    rank = ranked.argsort(1)  # each box's place in its image's ranking
    return (rank < wanted) & ~positive
