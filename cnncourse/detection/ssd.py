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

:class:`SSD` puts it together on the course's backbone. Conventions of
torchvision's ``DefaultBoxGenerator``, ``SSDMatcher``, ``SSD.compute_loss``
and ``SSD.postprocess_detections``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.backbone import WIDTHS, check_images, conv_backbone, image_size_pair
from cnncourse.boxes import box_iou
from cnncourse.detection.coder import BoxCoder
from cnncourse.detection.losses import smooth_l1
from cnncourse.detection.matching import Matcher
from cnncourse.detection.nms import batched_nms
from cnncourse.detection.rpn import clip_boxes
from cnncourse.detection.scenes import NUM_CLASSES
from cnncourse.layers import Conv2d, ConvBNAct

SSD300 = {"aspect_ratios": ((2,), (2, 3), (2, 3), (2, 3), (2,), (2,)),  # the paper's six maps
          "feature_sizes": ((38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1))}
# the shapes scenes' SSD: maps of 8x8, 4x4, 2x2 and 1x1 cells on 64x64 images, the paper's scales
# (0.2 to 0.9 of the image)
SHAPES_SSD = {"aspect_ratios": ((2,), (2, 3), (2, 3), (2,)), "min_ratio": 0.2, "max_ratio": 0.9}


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


class SSD(nn.Module):
    """SSD on the course's backbone: class scores and box offsets for every default box of several maps.

    The backbone's stride-8 map and one more 3x3 conv-BN-ReLU at that stride
    (``top``, the part of the paper's VGG-16 converted fc6 and fc7 play), then
    ``len(aspect_ratios) - 1`` extra stages (3x3 convolution of stride 2,
    batch norm, ReLU), each map read by
    a 3x3 convolution giving, per cell and default box, C + 1 class logits
    and 4 offsets (coded as Faster R-CNN's, weights (10, 10, 5, 5)).
    ``anchors`` (D, 4) holds the default boxes, map by map and cell by cell,
    in the order of the predictions.

    Training (``forward(images, targets)`` in training mode) returns
    ``loss_box`` (smooth L1, beta 1, on the matched boxes) and
    ``loss_class`` (cross-entropy over the positives and the hard
    negatives, ``neg_to_pos_ratio`` per positive), each divided by the
    number of positives in the batch. In eval mode, per image and class:
    softmax scores above ``score_thresh``, the ``topk_candidates`` best,
    decoded and clipped; NMS per class at ``nms_thresh``; the
    ``detections_per_img`` best.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, widths=WIDTHS[:3], image_size: int = 64,
                 aspect_ratios=SHAPES_SSD["aspect_ratios"], min_ratio: float = SHAPES_SSD["min_ratio"],
                 max_ratio: float = SHAPES_SSD["max_ratio"], extra_width: int = 64, score_thresh: float = 0.01,
                 nms_thresh: float = 0.45, topk_candidates: int = 100, detections_per_img: int = 100,
                 neg_to_pos_ratio: int = 3):
        super().__init__()
        stride = 2 ** len(widths)
        if isinstance(image_size, (tuple, list)):
            raise ValueError(f"SSD: image_size must be one int (square images); got {image_size!r}")
        image_size_pair("SSD", image_size, stride)  # a positive multiple of the stride
        self.image_size, self.num_classes = image_size, num_classes
        self.score_thresh, self.nms_thresh, self.topk_candidates = score_thresh, nms_thresh, topk_candidates
        self.detections_per_img, self.neg_to_pos_ratio = detections_per_img, neg_to_pos_ratio
        self.backbone = conv_backbone(3, widths)
        self.top = ConvBNAct(widths[-1], extra_width)
        channels = [extra_width] * len(aspect_ratios)
        self.extras = nn.ModuleList(ConvBNAct(c, extra_width, stride=2) for c in channels[:-1])
        sizes = [image_size // stride]
        for _ in self.extras:
            sizes.append((sizes[-1] + 1) // 2)  # a 3x3 convolution of stride 2, padding 1
        per_cell = [2 + 2 * len(r) for r in aspect_ratios]
        self.cls_heads = nn.ModuleList(Conv2d(c, a * (num_classes + 1), 3, padding=1)
                                       for c, a in zip(channels, per_cell))
        self.box_heads = nn.ModuleList(Conv2d(c, a * 4, 3, padding=1) for c, a in zip(channels, per_cell))
        self.feature_sizes = [(s, s) for s in sizes]
        self.register_buffer("anchors", default_boxes((image_size, image_size), self.feature_sizes, aspect_ratios,
                                                      min_ratio, max_ratio), persistent=False)
        self.coder = BoxCoder((10.0, 10.0, 5.0, 5.0))

    def predict(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Class logits (N, D, C + 1) and box offsets (N, D, 4) for the D default boxes."""
        check_images(type(self).__name__, images, 3, size=(self.image_size, self.image_size))
        x = self.top(self.backbone(images))
        logits, offsets = [], []
        for k, (cls_head, box_head) in enumerate(zip(self.cls_heads, self.box_heads)):
            if k:
                x = self.extras[k - 1](x)
            # (N, A * K, h, w) -> (N, h * w * A, K): cell by cell, then the cell's default boxes
            logits.append(cls_head(x).unflatten(1, (-1, self.num_classes + 1)).permute(0, 3, 4, 1, 2).flatten(1, 3))
            offsets.append(box_head(x).unflatten(1, (-1, 4)).permute(0, 3, 4, 1, 2).flatten(1, 3))
        return torch.cat(logits, 1), torch.cat(offsets, 1)

    def loss(self, logits: torch.Tensor, offsets: torch.Tensor, targets) -> dict:
        """``loss_box`` and ``loss_class`` of predictions (N, D, C + 1), (N, D, 4) against ``targets``."""
        classes = torch.zeros(logits.shape[:2], dtype=torch.long, device=logits.device)
        box_loss = offsets.new_zeros(())
        for n, target in enumerate(targets):
            boxes = target["boxes"].to(offsets)
            if len(boxes) == 0:
                continue
            matched = ssd_match(box_iou(boxes, self.anchors))
            positive = matched >= 0
            truth = self.coder.encode(boxes[matched[positive]], self.anchors[positive])
            box_loss = box_loss + smooth_l1(offsets[n, positive], truth, beta=1.0)
            classes[n, positive] = target["labels"].to(classes)[matched[positive]]
        positive = classes > 0
        per_box = F.cross_entropy(logits.flatten(0, 1), classes.flatten(), reduction="none").view_as(classes)
        negative = hard_negatives(per_box.detach(), positive, self.neg_to_pos_ratio)
        count = max(1, int(positive.sum()))
        return {"loss_box": box_loss / count, "loss_class": (per_box[positive].sum() + per_box[negative].sum()) / count}

    def postprocess(self, logits: torch.Tensor, offsets: torch.Tensor) -> list:
        """Detections per image (``boxes``, ``scores``, ``labels`` 1..C) from the predictions."""
        detections = []
        size = (self.image_size, self.image_size)
        for scores, codes in zip(logits.softmax(-1), offsets):
            boxes = clip_boxes(self.coder.decode(codes, self.anchors), size)
            kept_boxes, kept_scores, kept_labels = [], [], []
            for label in range(1, self.num_classes + 1):
                score = scores[:, label]
                above = (score > self.score_thresh).nonzero().flatten()
                best = score[above].topk(min(self.topk_candidates, len(above)))
                kept_boxes.append(boxes[above[best.indices]])
                kept_scores.append(best.values)
                kept_labels.append(torch.full_like(best.indices, label))
            boxes, scores, labels = torch.cat(kept_boxes), torch.cat(kept_scores), torch.cat(kept_labels)
            keep = batched_nms(boxes, scores, labels, self.nms_thresh)[:self.detections_per_img]
            detections.append({"boxes": boxes[keep], "scores": scores[keep], "labels": labels[keep]})
        return detections

    def forward(self, images: torch.Tensor, targets=None):
        logits, offsets = self.predict(images)
        if not self.training:
            return self.postprocess(logits, offsets)
        if targets is None:
            raise ValueError("SSD: training mode needs targets, one dict with 'boxes' and 'labels' per image; got None")
        return self.loss(logits, offsets, targets)
