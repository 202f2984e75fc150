"""Mask R-CNN's keypoint targets and loss equal torchvision's."""

import torch
from torchvision.models.detection import roi_heads

from cnncourse.detection.keypoints import keypoint_loss, keypoint_targets


def keypoints_and_rois(seed):
    g = torch.Generator().manual_seed(seed)
    corner = torch.rand(10, 2, generator=g) * 30
    rois = torch.cat([corner, corner + 5 + torch.rand(10, 2, generator=g) * 20], 1)
    xy = rois[:, None, :2] + torch.rand(10, 4, 2, generator=g) * 40 - 5  # some outside their RoI
    xy[0, 0] = rois[0, 2:]  # one exactly on the far corner
    visible = (torch.rand(10, 4, 1, generator=g) > 0.2).float()
    return torch.cat([xy, visible], -1), rois


def test_targets_equal_torchvisions():
    keypoints, rois = keypoints_and_rois(0)
    for ours, theirs in zip(keypoint_targets(keypoints, rois, 14), roi_heads.keypoints_to_heatmap(keypoints, rois, 14)):
        assert torch.equal(ours, theirs)
    cells, valid = keypoint_targets(keypoints, rois, 14)
    assert cells[0, 0] == 14 * 14 - 1 and valid[0, 0] == 1  # the far corner: the last cell


def test_loss_equals_torchvisions():
    keypoints, rois = keypoints_and_rois(1)
    logits = torch.randn(10, 4, 14, 14, generator=torch.Generator().manual_seed(2))
    matched = [torch.arange(6), torch.arange(4)]
    gt = [keypoints[:6], keypoints[6:]]
    proposals = [rois[:6], rois[6:]]
    torch.testing.assert_close(keypoint_loss(logits, proposals, gt, matched),
                               roi_heads.keypointrcnn_loss(logits, proposals, gt, matched))
