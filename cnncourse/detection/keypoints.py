"""Mask R-CNN's keypoint head: each keypoint as a one-hot M x M map inside its RoI (He et al., 2017, sec. 5).

For a keypoint the mask head's idea is kept, but the target is a single
cell: the cell of the RoI's M x M grid that holds the keypoint, and the
loss is a cross-entropy over the M^2 cells (a softmax, since exactly one
cell is right), for each visible keypoint inside its RoI. Keypoints on the
RoI's right or bottom edge go to the last cell. Decoding takes the best
cell's centre back to image coordinates.

:func:`keypoint_targets` and :func:`keypoint_loss` follow torchvision's
``keypoints_to_heatmap`` and ``keypointrcnn_loss``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def keypoint_targets(keypoints: torch.Tensor, rois: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell index (R, K) in [0, size^2) of each keypoint (R, K, 3) = (x, y, visible) in its RoI (R, 4), and validity.

    A keypoint counts (valid 1) if visible and inside its RoI; the cell
    index of an invalid one is 0.
    """
    x0, y0 = rois[:, 0, None], rois[:, 1, None]
    scale_x, scale_y = size / (rois[:, 2, None] - x0), size / (rois[:, 3, None] - y0)
    x, y = keypoints[..., 0], keypoints[..., 1]
    col = ((x - x0) * scale_x).floor().long()
    row = ((y - y0) * scale_y).floor().long()
    col[x == rois[:, 2, None]] = size - 1  # on the far edge: the last cell
    row[y == rois[:, 3, None]] = size - 1
    valid = ((col >= 0) & (row >= 0) & (col < size) & (row < size) & (keypoints[..., 2] > 0)).long()
    return (row * size + col) * valid, valid


def keypoint_loss(keypoint_logits: torch.Tensor, proposals, gt_keypoints, matched_idxs) -> torch.Tensor:
    """Cross-entropy over the M x M cells of logits (R, K, M, M) for every valid keypoint, lists per image."""
    R, K, H, W = keypoint_logits.shape
    if H != W:
        raise ValueError(f"keypoint_loss: keypoint_logits must be square maps (R, K, M, M); got {H}x{W}")
    targets, valid = zip(*(keypoint_targets(kp[i], p, H) for p, kp, i in zip(proposals, gt_keypoints, matched_idxs)))
    targets, valid = torch.cat([t.flatten() for t in targets]), torch.cat([v.flatten() for v in valid]).bool()
    if not valid.any():
        return keypoint_logits.sum() * 0
    return F.cross_entropy(keypoint_logits.reshape(R * K, H * W)[valid], targets[valid])
