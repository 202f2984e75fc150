"""The losses of the R-CNN family: Fast R-CNN's two, the RPN's two (Faster R-CNN's four), Mask R-CNN's mask.

* :func:`smooth_l1`: Fast R-CNN's robust box loss (Girshick, 2015), quadratic
  below ``beta`` and linear above, so that a few far-off boxes do not dominate;
* :func:`fast_rcnn_loss`: cross-entropy over the sampled RoIs' classes, and
  smooth L1 on the box deltas *of the true class* of the foreground RoIs,
  summed and divided by the number of RoIs;
* :func:`rpn_loss`: binary cross-entropy of objectness over the sampled
  anchors, and smooth L1 on the positive anchors' deltas, divided by the
  number sampled;
* :func:`mask_targets` and :func:`mask_loss`: each foreground RoI's object
  mask cut out by RoIAlign to the head's M x M grid, and the binary
  cross-entropy of the mask predicted for the RoI's class only (Mask R-CNN,
  He et al., 2017: a mask per class, no competition between classes).

``beta`` is 1/9 as in torchvision's Faster R-CNN. Conventions and results of
torchvision's ``fastrcnn_loss``, ``RegionProposalNetwork.compute_loss``,
``project_masks_on_boxes`` and ``maskrcnn_loss``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnncourse.detection.roi import roi_align

BETA = 1 / 9


def smooth_l1(input: torch.Tensor, target: torch.Tensor, beta: float = BETA, reduction: str = "sum") -> torch.Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``, for d = input - target (beta 0: L1)."""
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"smooth_l1: reduction must be 'none', 'sum' or 'mean'; got {reduction!r}")
    d = (input - target).abs()
    loss = d if beta == 0 else torch.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()


def fast_rcnn_loss(class_logits, box_regression, labels, regression_targets) -> tuple[torch.Tensor, torch.Tensor]:
    """(classification, box) losses of a box head: logits (R, C), deltas (R, 4C), lists of labels (R_i,) and targets (R_i, 4)."""
    labels, targets = torch.cat(labels), torch.cat(regression_targets)
    if class_logits.shape[0] != len(labels) or box_regression.shape != (len(labels), 4 * class_logits.shape[1]):
        raise ValueError(f"fast_rcnn_loss: need class_logits (R, C) and box_regression (R, 4C) for the R = "
                         f"{len(labels)} labels; got {tuple(class_logits.shape)} and {tuple(box_regression.shape)}")
    foreground = (labels > 0).nonzero().flatten()
    deltas = box_regression.reshape(len(labels), -1, 4)[foreground, labels[foreground]]  # the true class's deltas
    box = smooth_l1(deltas, targets[foreground]) / len(labels)
    return F.cross_entropy(class_logits, labels), box


def rpn_loss(objectness, box_deltas, labels, regression_targets, positives, negatives):
    """(objectness, box) losses of a region proposal network, over the anchors of a batch of images.

    ``objectness`` (A,) logits and ``box_deltas`` (A, 4) for all anchors of all
    images; ``labels`` and ``regression_targets`` lists per image (1, 0, -1);
    ``positives`` and ``negatives`` the sampler's masks per image
    (:func:`cnncourse.detection.sample_balanced`).
    """
    labels, targets = torch.cat(labels).to(objectness.dtype), torch.cat(regression_targets)
    positive = torch.cat(positives).bool().nonzero().flatten()
    sampled = torch.cat([positive, torch.cat(negatives).bool().nonzero().flatten()])
    box = smooth_l1(box_deltas[positive], targets[positive]) / len(sampled)
    return F.binary_cross_entropy_with_logits(objectness.flatten()[sampled], labels[sampled]), box


def mask_targets(gt_masks: torch.Tensor, boxes: torch.Tensor, matched_idxs: torch.Tensor, size: int) -> torch.Tensor:
    """(R, size, size) soft targets: object ``matched_idxs[r]``'s mask (G, H, W) under box r, by RoIAlign."""
    rois = torch.cat([matched_idxs.to(boxes)[:, None], boxes], 1)
    return roi_align(gt_masks[:, None].to(rois), rois, (size, size), 1.0)[:, 0]


def mask_loss(mask_logits, proposals, gt_masks, gt_labels, matched_idxs) -> torch.Tensor:
    """Mean binary cross-entropy of each RoI's mask logits (R, C, M, M) for its object's class, over lists per image."""
    size = mask_logits.shape[-1]
    labels = torch.cat([l[i] for l, i in zip(gt_labels, matched_idxs)])
    targets = torch.cat([mask_targets(m, p, i, size) for m, p, i in zip(gt_masks, proposals, matched_idxs)])
    if targets.numel() == 0:
        return mask_logits.sum() * 0
    return F.binary_cross_entropy_with_logits(mask_logits[torch.arange(len(labels)), labels], targets)
