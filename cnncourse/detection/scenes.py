"""The detection chapters' data: shapes scenes as images and per-image targets, and warped crops.

Every detector of the course trains and is scored on the same scenes
(:class:`cnncourse.data.Shapes`, several objects per image), in the format of
torchvision's detection models and torchmetrics: a stack of images
(N, 3, S, S) and one dict per image with ``boxes`` (K, 4) xyxy in pixels,
``labels`` (K,) in 1..3 (0 is the background), ``masks`` (K, S, S) and
``keypoints`` (K, 4, 3). :func:`warp` cuts boxes out of images and resizes
them to a fixed square, R-CNN's "warped region" (Girshick et al., 2014).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from cnncourse import data
from cnncourse.backbone import check_images
from cnncourse.boxes import box_iou, check_boxes

CLASSES = data.SHAPE_CLASSES  # background, circle, square, triangle
NUM_CLASSES = len(CLASSES) - 1  # the object classes


class DetectionSet(NamedTuple):
    """Scenes for detection: ``images`` (N, 3, S, S) in [0, 1] and ``targets``, one dict per image."""

    images: torch.Tensor
    targets: list

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, n: int) -> "DetectionSet":
        """The first ``n`` scenes."""
        return DetectionSet(self.images[:n], self.targets[:n])


def detection_scenes(n: int = 1000, size: int = 64, seed: int = 0, objects=(1, 3), radius=(0.12, 0.25),
                     background: str = "gratings") -> DetectionSet:
    """``n`` deterministic shapes scenes with 1 to 3 objects each (see :class:`cnncourse.data.Shapes`)."""
    scenes = data.shapes(n=n, size=size, objects=tuple(objects), seed=seed, background=background,
                         radius=tuple(radius))
    samples = [scenes[i] for i in range(n)]
    images = torch.stack([s.pop("image") for s in samples])
    for s in samples:
        s.pop("semantic")
    return DetectionSet(images, samples)


def warp(images: torch.Tensor, boxes, size: int) -> torch.Tensor:
    """The pixels inside each box, resized to ``size`` x ``size``: R-CNN's warped regions.

    ``images`` (N, 3, H, W); ``boxes`` a (K, 5) tensor (batch index, x1, y1,
    x2, y2) in pixels, as for :func:`~cnncourse.detection.roi_align`. Output
    pixel (i, j) reads the image bilinearly at the point (j + 1/2, i + 1/2)
    / ``size`` of the way across the box (``F.grid_sample``, the spatial
    transformer's sampler); past the image's edge it reads zeros, like
    padding. -> (K, 3, size, size), in the order of ``boxes``.
    """
    fn = "warp"
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"{fn}: size must be a positive int; got {size!r}")
    check_images(fn, images, images.shape[1] if isinstance(images, torch.Tensor) and images.dim() == 4 else 3)
    if not isinstance(boxes, torch.Tensor) or boxes.dim() != 2 or boxes.shape[1] != 5:
        got = tuple(boxes.shape) if isinstance(boxes, torch.Tensor) else type(boxes).__name__
        raise ValueError(f"{fn}: boxes must be a (K, 5) tensor of (batch index, x1, y1, x2, y2); got {got}")
    index = boxes[:, 0].long()
    if len(boxes) and (index.min() < 0 or index.max() >= len(images)):
        raise ValueError(f"{fn}: batch indices in boxes[:, 0] must be in [0, {len(images)}); got "
                         f"{index.min().item()} to {index.max().item()}")
    H, W = images.shape[-2:]
    steps = (torch.arange(size, dtype=images.dtype, device=images.device) + 0.5) / size
    x = boxes[:, 1:2] + steps * (boxes[:, 3:4] - boxes[:, 1:2])  # (K, size) pixel coordinates
    y = boxes[:, 2:3] + steps * (boxes[:, 4:5] - boxes[:, 2:3])
    grid = torch.stack(torch.broadcast_tensors(x[:, None, :] * 2 / W - 1, y[:, :, None] * 2 / H - 1), -1)
    out = images.new_zeros(len(boxes), images.shape[1], size, size)
    for n in index.unique().tolist():
        rows = (index == n).nonzero(as_tuple=True)[0]
        out[rows] = F.grid_sample(images[n:n + 1].expand(len(rows), -1, -1, -1), grid[rows], mode="bilinear",
                                  padding_mode="zeros", align_corners=False)
    return out


def squares(boxes: torch.Tensor, context: float = 1.0) -> torch.Tensor:
    """The square around each box's centre whose side is ``context`` times its longer side: (K, 4) -> (K, 4)."""
    check_boxes("squares", "boxes", boxes)
    if not context > 0:
        raise ValueError(f"squares: context must be a positive number; got {context!r}")
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]).max(1, keepdim=True).values * context / 2
    return torch.cat([centre - half, centre + half], 1)


def scale_boxes(boxes: torch.Tensor, factor: float) -> torch.Tensor:
    """Boxes (K, 4) scaled about their centres by ``factor`` in each direction."""
    centre, half = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) * factor / 2
    return torch.cat([centre - half, centre + half], 1)


def max_iou(boxes: torch.Tensor, truths: torch.Tensor) -> torch.Tensor:
    """Each box's best IoU with any of ``truths`` (0 where there are none): (K, 4), (G, 4) -> (K,)."""
    if len(truths) == 0 or len(boxes) == 0:
        return boxes.new_zeros(len(boxes))
    return box_iou(boxes, truths).max(1).values


def trivial_detections(train: DetectionSet, images: int, grid: int = 4) -> list:
    """A baseline that does not look at the image: for every image, the same ``grid`` x ``grid`` boxes of
    the median training size, centred on a regular grid, each with every class at score 1/3.

    The floor each detector of the chapters must beat.
    """
    boxes = torch.cat([t["boxes"] for t in train.targets])
    side = (boxes[:, 2:] - boxes[:, :2]).median(0).values
    size = train.images.shape[-1]
    centres = (torch.arange(grid) + 0.5) * size / grid
    cy, cx = torch.meshgrid(centres, centres, indexing="ij")
    centre = torch.stack([cx.flatten(), cy.flatten()], 1)
    grid_boxes = torch.cat([centre - side / 2, centre + side / 2], 1).clamp(0, size)
    labels = torch.arange(1, NUM_CLASSES + 1).repeat_interleave(len(grid_boxes))
    one = {"boxes": grid_boxes.repeat(NUM_CLASSES, 1), "labels": labels,
           "scores": torch.full((len(labels),), 1 / NUM_CLASSES)}
    return [dict(one) for _ in range(images)]
