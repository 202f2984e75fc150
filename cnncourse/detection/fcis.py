"""FCIS (Li et al., 2017): instance masks assembled from position-sensitive inside and outside score maps.

Mask R-CNN gives every region its own small network (the mask head). FCIS
has no per-region layers at all: one 1x1 convolution turns the shared map
into k x k groups of **score maps**, two per class in each group (*inside*:
this pixel is in the object, at this relative position; *outside*: it is in
the box but not in the object) and the background's pair, 2 k^2 (C + 1) maps.
A region is cut into k x k cells and each cell copies its own group's maps
(:func:`assemble`), so the same pixel scores differently in two regions
where it sits at different relative positions: that is what separates two
touching objects of one class, which a translation-invariant score map
(k = 1, semantic segmentation) cannot.

From the assembled maps, per class:

* the **mask** is a per-pixel softmax over inside and outside, i.e.
  ``sigmoid(inside - outside)``;
* the **class score** is ``max(inside, outside)`` averaged over the region
  (a pixel counts for the class if it is either clearly in the object or
  clearly outside it within the box), then a softmax over the C + 1 classes.

The box is refined by a sibling 1x1 convolution to 4 k^2 maps,
position-sensitively pooled (R-FCN's :func:`~cnncourse.detection.ps_roi_align`)
and averaged: one class-agnostic box per region, as in the paper's code. The
RPN and the losses are Faster R-CNN's (cross-entropy over classes, smooth L1
on the boxes) plus the mask's binary cross-entropy on the positive regions
for their true class. The paper's k is 7 on a stride-16 ResNet-101 map (its
official code assembles regions at 21 x 21); here k = 3 and 9 x 9 on the
course's stride-8 map of a 64x64 scene, where an object spans two to four cells.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.backbone import conv_backbone
from cnncourse.detection.losses import fast_rcnn_loss, mask_loss
from cnncourse.detection.mask_rcnn import InstanceSegmenter, attach_masks
from cnncourse.detection.ps_roi import ps_roi_align
from cnncourse.detection.roi import roi_align
from cnncourse.detection.roi_heads import RoISampler
from cnncourse.detection.rpn import RegionProposalNetwork
from cnncourse.detection.scenes import NUM_CLASSES
from cnncourse.detection.two_stage import ANCHOR_SIZES, ASPECT_RATIOS, WIDTHS
from cnncourse.layers import Conv2d


def assemble(score_maps: torch.Tensor, boxes, k: int, size: int, spatial_scale: float) -> torch.Tensor:
    """Position-sensitive assembling: (N, D k^2, H, W) score maps -> (R, D, size, size) per region.

    Map d of cell (a, b) (row a, column b of the k x k cells) is channel
    ``(d * k + a) * k + b``, torchvision's ``ps_roi_align`` layout. Output
    pixel (i, j) lies in cell (i // r, j // r), r = size / k, and reads that
    cell's maps bilinearly at its own position inside the region (RoIAlign
    with one sample per pixel, half-pixel aligned): every group is
    resampled to the region, then each pixel picks its cell's group.
    ``boxes``: a (R, 5) tensor (batch index, x1, y1, x2, y2) or a list of
    (L, 4) tensors per image, in pixels; ``spatial_scale``: cells per pixel.
    """
    if not isinstance(k, int) or k < 1 or not isinstance(size, int) or size % k:
        raise ValueError(f"assemble: need a positive int k and a size that is a multiple of it; got k={k!r}, "
                         f"size={size!r}")
    if score_maps.dim() != 4 or score_maps.shape[1] % (k * k):
        raise ValueError(f"assemble: score_maps must be (N, D * {k * k}, H, W); got {tuple(score_maps.shape)}")
    groups = score_maps.shape[1] // (k * k)
    pooled = roi_align(score_maps, boxes, (size, size), spatial_scale, 1, aligned=True)  # (R, D k^2, M, M)
    pooled = pooled.unflatten(1, (groups, k * k))
    cell = torch.arange(size, device=score_maps.device) // (size // k)
    group = cell[:, None] * k + cell[None, :]  # (M, M): the group each pixel reads
    index = group.expand(len(pooled), groups, 1, size, size)
    return pooled.gather(2, index)[:, :, 0]


def assemble_loop(score_maps: torch.Tensor, boxes, k: int, size: int, spatial_scale: float) -> torch.Tensor:
    """:func:`assemble` pixel by pixel (for teaching and testing)."""
    groups, r = score_maps.shape[1] // (k * k), size // k
    pooled = roi_align(score_maps, boxes, (size, size), spatial_scale, 1, aligned=True)
    out = pooled.new_zeros(len(pooled), groups, size, size)
    for i in range(size):
        for j in range(size):
            channels = torch.arange(groups) * k * k + (i // r) * k + j // r
            out[:, :, i, j] = pooled[:, channels, i, j]
    return out


def inside_outside(assembled: torch.Tensor, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(R, 2 (C + 1), M, M) assembled maps -> class logits (R, C + 1) and mask logits (R, C + 1, M, M).

    Maps 2c and 2c + 1 are class c's inside and outside scores (c = 0 the background).
    """
    pairs = assembled.unflatten(1, (num_classes, 2))
    inside, outside = pairs[:, :, 0], pairs[:, :, 1]
    return torch.maximum(inside, outside).mean((-2, -1)), inside - outside


class FCIS(InstanceSegmenter):
    """Backbone, RPN, inside/outside score maps and box maps; see the module docstring.

    ``k``: cells per side of a region; ``mask_size``: the assembled region's
    side (a multiple of k); ``head_width``: channels of the 1x1 convolution
    before the score maps (the paper's 1024). Same interface as
    :class:`~cnncourse.detection.mask_rcnn.MaskRCNN` (without keypoints).
    """

    def __init__(self, num_classes: int = NUM_CLASSES, widths=WIDTHS, k: int = 3, mask_size: int = 9,
                 head_width: int = 128, rois_per_image: int = 32):
        super().__init__()
        if mask_size % k:
            raise ValueError(f"FCIS: mask_size must be a multiple of k={k}; got {mask_size}")
        self.stride, self.k, self.mask_size = 2 ** len(widths), k, mask_size
        self.backbone = conv_backbone(3, widths)
        self.rpn = RegionProposalNetwork(widths[-1], ANCHOR_SIZES, ASPECT_RATIOS)
        self.sampler = RoISampler(num_classes + 1, batch_size_per_image=rois_per_image)
        self.reduce = nn.Sequential(Conv2d(widths[-1], head_width, 1), nn.ReLU(inplace=True))
        self.score_maps = Conv2d(head_width, 2 * (num_classes + 1) * k * k, 1)  # (N, 2 (C + 1) k^2, H, W)
        self.box_maps = Conv2d(head_width, 4 * k * k, 1)  # (N, 4 k^2, H, W)

    def maps(self, features) -> tuple[torch.Tensor, torch.Tensor]:
        """The score maps (N, 2 (C + 1) k^2, H, W) and the box maps (N, 4 k^2, H, W) of the shared map."""
        shared = self.reduce(features)
        return self.score_maps(shared), self.box_maps(shared)

    def mask_logits(self, score_maps, boxes) -> tuple[torch.Tensor, torch.Tensor]:
        """Class logits (R, C + 1) and mask logits (R, C + 1, M, M) of the regions, assembled from the score maps."""
        assembled = assemble(score_maps, boxes, self.k, self.mask_size, 1 / self.stride)
        return inside_outside(assembled, self.sampler.num_classes)

    def box_deltas(self, box_maps, boxes) -> torch.Tensor:
        """(R, 4 (C + 1)): one class-agnostic box per region, repeated for every class."""
        deltas = ps_roi_align(box_maps, boxes, self.k, 1 / self.stride, 2).mean((-2, -1))
        return deltas.repeat(1, self.sampler.num_classes)

    def head_losses(self, features, proposals, targets) -> dict:
        proposals, labels, regression, matched = self.sampler.sample(proposals, targets, matched=True)
        score_maps, box_maps = self.maps(features)
        class_logits, mask_logits = self.mask_logits(score_maps, proposals)
        losses = dict(zip(("loss_classifier", "loss_box_reg"),
                          fast_rcnn_loss(class_logits, self.box_deltas(box_maps, proposals), labels, regression)))
        positive = [label > 0 for label in labels]
        losses["loss_mask"] = mask_loss(mask_logits[torch.cat(positive)], [p[k] for p, k in zip(proposals, positive)],
                                        [t["masks"].to(mask_logits) for t in targets],
                                        [t["labels"].to(mask_logits.device) for t in targets],
                                        [m[k] for m, k in zip(matched, positive)])
        return losses

    def detect(self, features, proposals, size) -> list:
        score_maps, box_maps = self.maps(features)
        class_logits, _ = self.mask_logits(score_maps, proposals)
        detections = self.sampler.postprocess(class_logits, self.box_deltas(box_maps, proposals), proposals, size)
        _, mask_logits = self.mask_logits(score_maps, [d["boxes"] for d in detections])  # on the refined boxes
        attach_masks(detections, mask_logits, size)
        return detections
