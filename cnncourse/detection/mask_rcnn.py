"""Mask R-CNN (He et al., 2017): Faster R-CNN with a mask branch and a keypoint branch on RoIAlign.

Faster R-CNN's two stages stay as they are; beside the box head, a small
fully convolutional **mask head** reads each region's features pooled to
``mask_pool`` x ``mask_pool`` and predicts one mask of 2 ``mask_pool``
cells a side per class (a per-pixel sigmoid; the detected class picks its
own mask, so the classes do not compete, as in the paper); a **keypoint
head** of the same shape predicts one map per keypoint, trained with a
softmax over its cells (:mod:`~cnncourse.detection.keypoints`).

The paper's point is the pooling: RoI pooling rounds each region to the
feature map's cells, which moves it by up to half a cell (4 pixels at
stride 8), harmless for a class but not for a mask. **RoIAlign** reads the
map at exact positions by bilinear interpolation. ``pooler`` chooses for
every branch, so the two can be trained and compared (``MASK_RCNN``).

The interface is torchvision's ``MaskRCNN`` / ``KeypointRCNN``: in
training, the losses (RPN, box head, ``loss_mask``, ``loss_keypoint``); in
eval, per image ``boxes``, ``scores``, ``labels``, ``masks`` (K, 1, H, W)
probabilities pasted into the image and ``keypoints`` (K, P, 3).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.backbone import check_images, conv_backbone
from cnncourse.detection.keypoints import keypoint_loss
from cnncourse.detection.losses import fast_rcnn_loss, mask_loss
from cnncourse.detection.roi_heads import RoIHeads, pool_regions
from cnncourse.detection.rpn import RegionProposalNetwork
from cnncourse.detection.scenes import NUM_CLASSES
from cnncourse.detection.two_stage import ANCHOR_SIZES, ASPECT_RATIOS, WIDTHS
from cnncourse.layers import Conv2d, ConvTranspose2d

# name -> the pooler of every branch (the paper's Table 2c compares them)
MASK_RCNN = {"mask_rcnn": "roi_align", "mask_rcnn_roi_pool": "roi_pool"}
KEYPOINTS = 4  # the shapes' keypoints per object


def paste_masks(masks: torch.Tensor, boxes: torch.Tensor, image_size) -> torch.Tensor:
    """Each M x M mask (K, M, M) resized into its box (K, 4) of an image of ``image_size`` (H, W): (K, H, W).

    Image pixel (i, j), centred at (j + 1/2, i + 1/2), reads the mask
    bilinearly at the same fraction of the way across the box (the nearest
    edge value within half a mask cell of the edge); a pixel whose centre
    lies outside the box is 0. For a box with whole-pixel corners this is
    ``F.interpolate`` of the mask to the box's size, placed in the box.
    (torchvision's ``paste_masks_in_image`` rounds the box to whole pixels
    and widens it by one pixel, an older convention.)
    """
    h, w = image_size
    if len(masks) == 0:
        return masks.new_zeros(0, h, w)
    x = (torch.arange(w, device=masks.device, dtype=masks.dtype) + 0.5)[None]  # (1, W)
    y = (torch.arange(h, device=masks.device, dtype=masks.dtype) + 0.5)[None]
    boxes = boxes.to(masks.dtype)
    u = (x - boxes[:, 0:1]) / (boxes[:, 2:3] - boxes[:, 0:1]).clamp(min=1e-6) * 2 - 1  # (K, W) in [-1, 1] inside
    v = (y - boxes[:, 1:2]) / (boxes[:, 3:4] - boxes[:, 1:2]).clamp(min=1e-6) * 2 - 1
    grid = torch.stack(torch.broadcast_tensors(u[:, None, :], v[:, :, None]), -1)  # (K, H, W, 2)
    inside = (grid.abs() <= 1).all(-1)
    pasted = F.grid_sample(masks[:, None], grid, mode="bilinear", padding_mode="border", align_corners=False)[:, 0]
    return pasted * inside


def _head(in_channels: int, width: int, outputs: int) -> nn.Sequential:
    """Two 3x3 conv + ReLU, a 2x2 transposed convolution of stride 2 + ReLU, a 1x1 conv: (R, C, s, s) -> (R, outputs, 2s, 2s)."""
    return nn.Sequential(Conv2d(in_channels, width, 3, padding=1), nn.ReLU(inplace=True),
                         Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True),
                         ConvTranspose2d(width, width, 2, stride=2), nn.ReLU(inplace=True),
                         Conv2d(width, outputs, 1))


def decode_keypoints(logits: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Keypoints (R, P, 3) = (x, y, score) from maps (R, P, M, M): the best cell's centre, mapped into each box."""
    R, P, M, _ = logits.shape
    scores, cell = logits.flatten(2).max(-1)
    col, row = (cell % M).to(boxes.dtype), (cell // M).to(boxes.dtype)
    widths, heights = boxes[:, 2:3] - boxes[:, 0:1], boxes[:, 3:4] - boxes[:, 1:2]
    x = boxes[:, 0:1] + (col + 0.5) / M * widths
    y = boxes[:, 1:2] + (row + 0.5) / M * heights
    return torch.stack([x, y, scores.to(boxes.dtype)], -1)


class InstanceSegmenter(nn.Module):
    """Faster R-CNN's backbone and RPN, then heads per region that give each detection a mask.

    Mask R-CNN and FCIS share this ``forward``; a subclass sets ``backbone``,
    ``rpn`` and ``stride`` and defines ``head_losses(features, proposals,
    targets)`` (a dict of losses) and ``detect(features, proposals, size)``
    (one dict per image). Images (N, 3, H, W), H and W multiples of the
    stride; targets hold ``boxes``, ``labels`` and ``masks`` (K, H, W).
    """

    def forward(self, images: torch.Tensor, targets=None):
        check_images(type(self).__name__, images, 3, multiple=self.stride)
        if self.training and targets is None:
            raise ValueError(f"{type(self).__name__}: training mode needs targets, one dict with 'boxes', 'labels' "
                             f"and 'masks' per image; got None")
        size = tuple(images.shape[-2:])
        features = self.backbone(images)
        proposals, _, losses = self.rpn(features, size, targets)
        if not self.training:
            return self.detect(features, proposals, size)
        return {**losses, **self.head_losses(features, proposals, targets)}


def attach(detections: list, name: str, values: torch.Tensor) -> None:
    """Split ``values`` (one row per detection, all images) among the images' dicts under ``name``."""
    for d, v in zip(detections, values.split([len(d["boxes"]) for d in detections])):
        d[name] = v


def attach_masks(detections: list, mask_logits: torch.Tensor, size) -> None:
    """Each detection's mask: its class's logits (K, C + 1, M, M) -> probabilities pasted into its box, (K, 1, H, W)."""
    boxes = torch.cat([d["boxes"] for d in detections])
    labels = torch.cat([d["labels"] for d in detections])
    masks = mask_logits[torch.arange(len(labels), device=labels.device), labels].sigmoid()
    attach(detections, "masks", paste_masks(masks, boxes, size)[:, None])  # as torchvision's


class MaskRCNN(InstanceSegmenter):
    """Backbone, RPN, box head, mask head and (``keypoints`` > 0) keypoint head; see the module docstring.

    Images (N, 3, H, W), H and W multiples of the stride. Targets hold
    ``boxes``, ``labels``, ``masks`` (K, H, W) and, with a keypoint head,
    ``keypoints`` (K, P, 3).
    """

    def __init__(self, num_classes: int = NUM_CLASSES, widths=WIDTHS, pooler: str = "roi_align",
                 keypoints: int = KEYPOINTS, mask_pool: int = 7, head_width: int = 64, representation: int = 256,
                 rois_per_image: int = 32):
        super().__init__()
        self.stride = 2 ** len(widths)
        self.pooler, self.mask_pool, self.keypoints = pooler, mask_pool, keypoints
        self.backbone = conv_backbone(3, widths)
        self.rpn = RegionProposalNetwork(widths[-1], ANCHOR_SIZES, ASPECT_RATIOS)
        self.roi_heads = RoIHeads(widths[-1], num_classes + 1, 1 / self.stride, pooler, 4, representation,
                                  batch_size_per_image=rois_per_image)
        self.mask_head = _head(widths[-1], head_width, num_classes + 1)
        self.keypoint_head = _head(widths[-1], head_width, keypoints) if keypoints else None

    def _pool(self, features, boxes):
        return pool_regions(features, boxes, self.pooler, self.mask_pool, 1 / self.stride).unflatten(
            1, (features.shape[1], self.mask_pool, self.mask_pool))

    def head_losses(self, features, proposals, targets) -> dict:
        heads, losses = self.roi_heads, {}
        proposals, labels, regression, matched = heads.sample(proposals, targets, matched=True)
        class_logits, box_regression = heads.box_predictor(heads.region_features(features, proposals))
        losses["loss_classifier"], losses["loss_box_reg"] = fast_rcnn_loss(class_logits, box_regression, labels,
                                                                           regression)
        positive = [label > 0 for label in labels]
        boxes = [p[k] for p, k in zip(proposals, positive)]
        objects = [m[k] for m, k in zip(matched, positive)]
        pooled = self._pool(features, boxes)
        losses["loss_mask"] = mask_loss(self.mask_head(pooled), boxes, [t["masks"].to(pooled) for t in targets],
                                        [t["labels"].to(pooled.device) for t in targets], objects)
        if self.keypoint_head is not None:
            losses["loss_keypoint"] = keypoint_loss(self.keypoint_head(pooled), boxes,
                                                    [t["keypoints"].to(pooled) for t in targets], objects)
        return losses

    def detect(self, features, proposals, size) -> list:
        detections, _ = self.roi_heads(features, proposals, size)
        boxes = [d["boxes"] for d in detections]
        pooled = self._pool(features, boxes)
        attach_masks(detections, self.mask_head(pooled), size)
        if self.keypoint_head is not None:
            attach(detections, "keypoints", decode_keypoints(self.keypoint_head(pooled), torch.cat(boxes)))
        return detections
