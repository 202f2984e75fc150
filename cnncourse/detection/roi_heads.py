"""The second stage of Fast and Faster R-CNN: pool each region's features, classify it, refine its box.

Every proposal (from selective search in Fast R-CNN, from the RPN in Faster
R-CNN) is cut out of the shared feature map by a **pooler** of fixed output
size, ``"roi_pool"`` (Fast R-CNN, Girshick, 2015), ``"roi_align"`` (Mask
R-CNN, He et al., 2017) or ``"spp"`` (SPP-net, He et al., 2014: max pooling
over 1x1, 2x2 and 4x4 grids of the region, concatenated), then read by two
fully connected layers (``box_head``) and a predictor giving C + 1 class
logits and 4 (C + 1) box deltas, one box per class (``box_predictor``).

Training follows Fast R-CNN's RoI-centric mini-batches: the true boxes join
the proposals, each proposal takes the class of its best object at IoU 0.5
or more and the background otherwise, and ``batch_size_per_image`` of them
per image are sampled with up to ``positive_fraction`` foreground; the loss
is :func:`~cnncourse.detection.fast_rcnn_loss` with targets coded with
weights (10, 10, 5, 5). Detection takes each class's box and softmax score,
drops the background, scores of ``score_thresh`` or less and empty boxes,
runs NMS per class at ``nms_thresh`` and keeps ``detections_per_img``.
Conventions and results: torchvision's ``RoIHeads``, ``TwoMLPHead`` and
``FastRCNNPredictor`` (``tests/detection/test_roi_heads.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.boxes import box_iou
from cnncourse.detection.coder import BoxCoder
from cnncourse.detection.losses import fast_rcnn_loss
from cnncourse.detection.matching import BELOW_LOW, BETWEEN, Matcher, sample_balanced
from cnncourse.detection.nms import batched_nms
from cnncourse.detection.roi import roi_align, roi_pool
from cnncourse.detection.rpn import clip_boxes, nonempty

POOLERS = ("roi_pool", "roi_align", "spp")
SPP_LEVELS = (1, 2, 4)  # SPP-net's pyramid, as grids of bins per side


def pool_regions(features: torch.Tensor, boxes: list, pooler: str, output_size: int, spatial_scale: float,
                 sampling_ratio: int = 2) -> torch.Tensor:
    """Each region's features: (K, C * s * s) flattened, s = ``output_size`` (``"spp"``: C * 21 for 1, 2, 4).

    ``boxes``: a list of (L_n, 4) boxes per image in pixels;
    ``spatial_scale`` maps pixels to cells (1 / the backbone's stride).
    """
    if pooler == "roi_pool":
        return roi_pool(features, boxes, output_size, spatial_scale).flatten(1)
    if pooler == "roi_align":
        return roi_align(features, boxes, output_size, spatial_scale, sampling_ratio).flatten(1)
    if pooler == "spp":
        return torch.cat([roi_pool(features, boxes, level, spatial_scale).flatten(1) for level in SPP_LEVELS], 1)
    raise ValueError(f"pool_regions: pooler must be one of {POOLERS}; got {pooler!r}")


def pooled_size(pooler: str, channels: int, output_size: int) -> int:
    """The length of one region's pooled features."""
    if pooler not in POOLERS:
        raise ValueError(f"pooled_size: pooler must be one of {POOLERS}; got {pooler!r}")
    cells = sum(level * level for level in SPP_LEVELS) if pooler == "spp" else output_size * output_size
    return channels * cells


class TwoMLPHead(nn.Module):
    """Flatten, fc6 + ReLU, fc7 + ReLU: (K, in_features) -> (K, representation). Names as torchvision's."""

    def __init__(self, in_features: int, representation: int):
        super().__init__()
        self.fc6 = nn.Linear(in_features, representation)
        self.fc7 = nn.Linear(representation, representation)

    def forward(self, x):
        return F.relu(self.fc7(F.relu(self.fc6(x.flatten(1)))))


class FastRCNNPredictor(nn.Module):
    """(K, representation) -> class logits (K, C + 1) and box deltas (K, 4 (C + 1)). Names as torchvision's."""

    def __init__(self, representation: int, num_classes: int):
        super().__init__()
        self.cls_score = nn.Linear(representation, num_classes)
        self.bbox_pred = nn.Linear(representation, 4 * num_classes)

    def forward(self, x):
        return self.cls_score(x), self.bbox_pred(x)


class RoISampler(nn.Module):
    """What every second stage on proposals shares, with or without a box head (FCIS has none).

    :meth:`sample` labels the proposals and draws Fast R-CNN's RoI-centric
    mini-batch; :meth:`postprocess` turns class logits (R, C + 1) and box
    deltas (R, 4 (C + 1)) into detections. ``num_classes`` counts the background.
    """

    def __init__(self, num_classes: int, fg_iou_thresh: float = 0.5, bg_iou_thresh: float = 0.5,
                 batch_size_per_image: int = 64, positive_fraction: float = 0.25, score_thresh: float = 0.05,
                 nms_thresh: float = 0.5, detections_per_img: int = 100):
        super().__init__()
        self.num_classes = num_classes
        self.box_coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
        self.matcher = Matcher(fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=False)
        self.batch_size_per_image, self.positive_fraction = batch_size_per_image, positive_fraction
        self.score_thresh, self.nms_thresh, self.detections_per_img = score_thresh, nms_thresh, detections_per_img

    def sample(self, proposals, targets, matched: bool = False):
        """Fast R-CNN's RoI-centric mini-batch: (proposals, labels, regression targets), lists per image.

        With ``matched``, also the index of each sampled proposal's object in
        its image's targets (0 for the background), for Mask R-CNN's heads.
        """
        proposals = [torch.cat([p, t["boxes"].to(p)]) for p, t in zip(proposals, targets)]
        labels, objects = [], []
        for p, t in zip(proposals, targets):
            truths = t["boxes"].to(p)
            if len(truths) == 0:
                labels.append(torch.zeros(len(p), dtype=torch.int64, device=p.device))
                objects.append(torch.zeros(len(p), dtype=torch.int64, device=p.device))
                continue
            matches = self.matcher(box_iou(truths, p))
            label = t["labels"].to(p.device)[matches.clamp(min=0)].clone()
            label[matches == BELOW_LOW] = 0
            label[matches == BETWEEN] = -1
            labels.append(label)
            objects.append(matches.clamp(min=0))
        positives, negatives = sample_balanced(labels, self.batch_size_per_image, self.positive_fraction)
        chosen = [(pos | neg).nonzero().flatten() for pos, neg in zip(positives, negatives)]
        proposals = [p[i] for p, i in zip(proposals, chosen)]
        objects = [o[i] for o, i in zip(objects, chosen)]
        regression = [self.box_coder.encode(t["boxes"].to(p)[o] if len(t["boxes"]) else p, p)
                      for t, o, p in zip(targets, objects, proposals)]
        sampled = proposals, [label[i] for label, i in zip(labels, chosen)], regression
        return (*sampled, objects) if matched else sampled

    def postprocess(self, class_logits, box_regression, proposals, image_size) -> list:
        """Detections per image (``boxes``, ``scores``, ``labels``) from the head's outputs."""
        num_classes = class_logits.shape[-1]
        references = torch.cat(proposals).repeat_interleave(num_classes, 0)
        boxes = self.box_coder.decode(box_regression.reshape(-1, 4), references).view(-1, num_classes, 4)
        scores = F.softmax(class_logits, -1)
        results = []
        for b, s in zip(boxes.split([len(p) for p in proposals]), scores.split([len(p) for p in proposals])):
            b = clip_boxes(b, image_size)[:, 1:].reshape(-1, 4)
            labels = torch.arange(1, num_classes, device=s.device).repeat(len(s))
            s = s[:, 1:].reshape(-1)
            keep = (s > self.score_thresh).nonzero().flatten()
            b, s, labels = b[keep], s[keep], labels[keep]
            keep = nonempty(b, 1e-2)
            b, s, labels = b[keep], s[keep], labels[keep]
            keep = batched_nms(b, s, labels, self.nms_thresh)[: self.detections_per_img]
            results.append({"boxes": b[keep], "scores": s[keep], "labels": labels[keep]})
        return results


class RoIHeads(RoISampler):
    """``heads(features, proposals, image_size, targets=None)`` -> (detections, losses); see the module docstring.

    ``num_classes`` counts the background (4 for the shapes). In training
    mode ``targets`` (dicts with ``boxes`` and ``labels``) are required and
    the detections are an empty list; in eval mode ``losses`` is empty.
    """

    def __init__(self, in_channels: int, num_classes: int, spatial_scale: float, pooler: str = "roi_pool",
                 output_size: int = 4, representation: int = 256, fg_iou_thresh: float = 0.5,
                 bg_iou_thresh: float = 0.5, batch_size_per_image: int = 64, positive_fraction: float = 0.25,
                 score_thresh: float = 0.05, nms_thresh: float = 0.5, detections_per_img: int = 100,
                 sampling_ratio: int = 2):
        super().__init__(num_classes, fg_iou_thresh, bg_iou_thresh, batch_size_per_image, positive_fraction,
                         score_thresh, nms_thresh, detections_per_img)
        self.pooler, self.output_size, self.spatial_scale = pooler, output_size, spatial_scale
        self.sampling_ratio = sampling_ratio
        self.box_head = TwoMLPHead(pooled_size(pooler, in_channels, output_size), representation)
        self.box_predictor = FastRCNNPredictor(representation, num_classes)

    def region_features(self, features, boxes):
        pooled = pool_regions(features, boxes, self.pooler, self.output_size, self.spatial_scale,
                              self.sampling_ratio)
        return self.box_head(pooled)

    def forward(self, features, proposals, image_size, targets=None):
        if self.training:
            if targets is None:
                raise ValueError("RoIHeads: training mode needs targets (dicts with 'boxes' and 'labels'); got None")
            proposals, labels, regression = self.sample(proposals, targets)
        class_logits, box_regression = self.box_predictor(self.region_features(features, proposals))
        if self.training:
            loss_classifier, loss_box = fast_rcnn_loss(class_logits, box_regression, labels, regression)
            return [], {"loss_classifier": loss_classifier, "loss_box_reg": loss_box}
        return self.postprocess(class_logits, box_regression, proposals, image_size), {}
