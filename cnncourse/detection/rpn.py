"""Faster R-CNN's region proposal network (Ren et al., 2015): proposals from the shared feature map.

A small network slides over the backbone's feature map (N, C, h, w): a 3x3
convolution and ReLU, then two 1x1 convolutions giving, at every cell and for
each of its A anchors (:func:`~cnncourse.detection.generate_anchors`), an
*objectness* logit and four box deltas (tx, ty, tw, th)
(:class:`~cnncourse.detection.BoxCoder`). Training labels each anchor by its
best IoU with an object, positive from 0.7 (and the best anchor of each
object whatever its IoU), negative below 0.3, ignored between
(:class:`~cnncourse.detection.Matcher`), samples 256 anchors per image, up to
half positive (:func:`~cnncourse.detection.sample_balanced`), and sums the
two RPN losses (:func:`~cnncourse.detection.rpn_loss`). The proposals are
the decoded anchors: the ``pre_nms_top_n`` most object-like, clipped to the
image, without empty boxes, reduced by NMS at 0.7 to ``post_nms_top_n``.

Conventions, parameter names and results are those of torchvision's
``RegionProposalNetwork`` and ``RPNHead`` for one feature map
(``tests/detection/test_rpn.py`` loads the same weights into both).
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.boxes import box_iou
from cnncourse.detection.anchors import generate_anchors
from cnncourse.detection.coder import BoxCoder
from cnncourse.detection.losses import rpn_loss
from cnncourse.detection.matching import BELOW_LOW, BETWEEN, Matcher, sample_balanced
from cnncourse.detection.nms import nms
from cnncourse.layers import Conv2d


class RPNHead(nn.Module):
    """3x3 conv + ReLU, then 1x1 convs to A objectness logits and 4A deltas per cell.

    (N, C, h, w) -> (N, A, h, w), (N, 4A, h, w). Parameter names as
    torchvision's ``RPNHead`` (``conv.0.0``, ``cls_logits``, ``bbox_pred``);
    weights drawn from N(0, 0.01^2), biases zero, as there.
    """

    def __init__(self, in_channels: int, num_anchors: int):
        super().__init__()
        self.conv = nn.Sequential(nn.Sequential(Conv2d(in_channels, in_channels, 3, padding=1),
                                                nn.ReLU(inplace=True)))
        self.cls_logits = Conv2d(in_channels, num_anchors, 1)
        self.bbox_pred = Conv2d(in_channels, 4 * num_anchors, 1)
        for layer in self.modules():
            if isinstance(layer, Conv2d):
                nn.init.normal_(layer.weight, std=0.01)
                nn.init.zeros_(layer.bias)

    def forward(self, features: torch.Tensor):
        t = self.conv(features)
        return self.cls_logits(t), self.bbox_pred(t)


def _per_anchor(x: torch.Tensor, values: int) -> torch.Tensor:
    """(N, A * values, h, w) -> (N, h * w * A, values): position-major, then anchor, as the anchors are listed."""
    n, _, h, w = x.shape
    return x.view(n, -1, values, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, values)


def clip_boxes(boxes: torch.Tensor, image_size) -> torch.Tensor:
    """Boxes (..., 4) clipped to an image of ``image_size`` (H, W)."""
    h, w = image_size
    x = boxes[..., 0::2].clamp(0, w)
    y = boxes[..., 1::2].clamp(0, h)
    return torch.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], -1)


def nonempty(boxes: torch.Tensor, min_size: float) -> torch.Tensor:
    """Indices of the boxes whose width and height both reach ``min_size``."""
    wh = boxes[:, 2:] - boxes[:, :2]
    return ((wh[:, 0] >= min_size) & (wh[:, 1] >= min_size)).nonzero().flatten()


class RegionProposalNetwork(nn.Module):
    """``rpn(features, image_size, targets=None)`` -> (proposals, scores, losses).

    ``features`` (N, C, h, w) of images of ``image_size`` (H, W); the anchors
    are ``sizes`` x ``aspect_ratios`` at every cell, stride (H // h, W // w).
    ``proposals`` and ``scores``: lists of N tensors (P_n, 4) and (P_n,);
    ``losses``: ``loss_objectness`` and ``loss_rpn_box_reg`` in training
    mode (``targets`` one dict with ``boxes`` per image), else empty.
    ``pre_nms_top_n`` and ``post_nms_top_n`` are dicts with ``training``
    and ``testing`` counts, as in torchvision.
    """

    def __init__(self, in_channels: int, sizes=(16, 24, 32), aspect_ratios=(0.5, 1.0, 2.0),
                 fg_iou_thresh: float = 0.7, bg_iou_thresh: float = 0.3, batch_size_per_image: int = 256,
                 positive_fraction: float = 0.5, pre_nms_top_n=None, post_nms_top_n=None,
                 nms_thresh: float = 0.7, min_size: float = 1e-3):
        super().__init__()
        self.sizes, self.aspect_ratios = tuple(sizes), tuple(aspect_ratios)
        self.head = RPNHead(in_channels, len(self.sizes) * len(self.aspect_ratios))
        self.box_coder = BoxCoder((1.0, 1.0, 1.0, 1.0))
        self.matcher = Matcher(fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=True)
        self.batch_size_per_image, self.positive_fraction = batch_size_per_image, positive_fraction
        self.pre_nms_top_n = pre_nms_top_n or {"training": 600, "testing": 300}
        self.post_nms_top_n = post_nms_top_n or {"training": 300, "testing": 100}
        self.nms_thresh, self.min_size = nms_thresh, min_size

    def anchors(self, feature_size, image_size, device=None) -> torch.Tensor:
        """The anchors of one image, (h * w * A, 4), in the order of the head's outputs."""
        return generate_anchors(image_size, [tuple(feature_size)], (self.sizes,), (self.aspect_ratios,),
                                device=device)

    def _filter(self, proposals, objectness, image_size):
        mode = "training" if self.training else "testing"
        top = objectness.topk(min(self.pre_nms_top_n[mode], objectness.shape[1]), dim=1).indices
        boxes_all = []
        scores_all = []
        for boxes, logits, index in zip(proposals, objectness, top):
            boxes, scores = clip_boxes(boxes[index], image_size), logits[index].sigmoid()
            keep = nonempty(boxes, self.min_size)
            boxes, scores = boxes[keep], scores[keep]
            keep = nms(boxes, scores, self.nms_thresh)[: self.post_nms_top_n[mode]]
            boxes_all.append(boxes[keep])
            scores_all.append(scores[keep])
        return boxes_all, scores_all

    def assign_targets_to_anchors(self, anchors, targets):
        """Per image, each anchor's label (1 positive, 0 negative, -1 ignored) and the codes of its object."""
        labels, regression = [], []
        for target in targets:
            truths = target["boxes"].to(anchors)
            if len(truths) == 0:
                labels.append(anchors.new_zeros(len(anchors)))
                regression.append(torch.zeros_like(anchors))
                continue
            matches = self.matcher(box_iou(truths, anchors))
            label = (matches >= 0).to(anchors.dtype)
            label[matches == BELOW_LOW] = 0.0
            label[matches == BETWEEN] = -1.0
            labels.append(label)
            regression.append(self.box_coder.encode(truths[matches.clamp(min=0)], anchors))
        return labels, regression

    def forward(self, features: torch.Tensor, image_size, targets=None):
        logits, deltas = self.head(features)
        anchors = self.anchors(features.shape[-2:], image_size, features.device)
        objectness = _per_anchor(logits, 1)[..., 0]  # (N, h * w * A)
        deltas = _per_anchor(deltas, 4)  # (N, h * w * A, 4)
        n = len(features)
        decoded = self.box_coder.decode(deltas.detach().reshape(-1, 4), anchors.repeat(n, 1)).view(n, -1, 4)
        proposals, scores = self._filter(decoded, objectness.detach(), image_size)
        losses = {}
        if self.training:
            if targets is None:
                raise ValueError("RegionProposalNetwork: training mode needs targets (one dict with 'boxes' per "
                                 "image); got None")
            labels, regression = self.assign_targets_to_anchors(anchors, targets)
            positives, negatives = sample_balanced(labels, self.batch_size_per_image, self.positive_fraction)
            loss_objectness, loss_box = rpn_loss(objectness.flatten(), deltas.reshape(-1, 4), labels, regression,
                                                 positives, negatives)
            losses = {"loss_objectness": loss_objectness, "loss_rpn_box_reg": loss_box}
        return proposals, scores, losses
