"""The R-CNN family's losses equal torchvision's on random heads, targets and samples."""

import pytest
import torch
import torch.nn.functional as F
from torchvision.models.detection import roi_heads
from torchvision.models.detection.rpn import RegionProposalNetwork

from cnncourse.detection import sample_balanced
from cnncourse.detection.losses import fast_rcnn_loss, mask_loss, mask_targets, rpn_loss, smooth_l1


@pytest.mark.parametrize("beta", [0.0, 1 / 9, 1.0])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_smooth_l1_equals_torch(beta, reduction):
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(50, 4, generator=g, requires_grad=True), torch.randn(50, 4, generator=g)
    ours, theirs = smooth_l1(a, b, beta, reduction), F.smooth_l1_loss(a, b, beta=beta, reduction=reduction)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(torch.autograd.grad(ours.sum(), a)[0], torch.autograd.grad(theirs.sum(), a)[0])


def test_fast_rcnn_loss_equals_torchvision():
    g = torch.Generator().manual_seed(1)
    labels = [torch.randint(0, 4, (30,), generator=g), torch.randint(0, 4, (20,), generator=g)]
    targets = [torch.randn(30, 4, generator=g), torch.randn(20, 4, generator=g)]
    logits, deltas = torch.randn(50, 4, generator=g), torch.randn(50, 16, generator=g)
    for ours, theirs in zip(fast_rcnn_loss(logits, deltas, labels, targets),
                            roi_heads.fastrcnn_loss(logits, deltas, labels, targets)):
        torch.testing.assert_close(ours, theirs)


def test_rpn_loss_equals_torchvision_from_the_same_sample():
    g = torch.Generator().manual_seed(2)
    labels = [torch.randint(-1, 2, (200,), generator=g).float() for _ in range(2)]
    targets = [torch.randn(200, 4, generator=g) for _ in range(2)]
    objectness, deltas = torch.randn(400, 1, generator=g), torch.randn(400, 4, generator=g)
    rpn = RegionProposalNetwork(None, None, 0.7, 0.3, 64, 0.5, {"training": 10, "testing": 10},
                                {"training": 10, "testing": 10}, 0.7)
    torch.manual_seed(5)
    expected = rpn.compute_loss(objectness, deltas, labels, targets)
    torch.manual_seed(5)
    positives, negatives = sample_balanced(labels, 64, 0.5)
    for ours, theirs in zip(rpn_loss(objectness, deltas, labels, targets, positives, negatives), expected):
        torch.testing.assert_close(ours, theirs)


def test_mask_targets_and_loss_equal_torchvision():
    g = torch.Generator().manual_seed(3)
    masks = [(torch.rand(3, 40, 40, generator=g) > 0.5).float(), (torch.rand(2, 40, 40, generator=g) > 0.5).float()]
    glabels = [torch.tensor([1, 2, 3]), torch.tensor([2, 1])]
    corner = torch.rand(12, 2, generator=g) * 25
    proposals = [torch.cat([corner, corner + 3 + torch.rand(12, 2, generator=g) * 12], 1)[:7],
                 torch.cat([corner, corner + 3 + torch.rand(12, 2, generator=g) * 12], 1)[7:]]
    matched = [torch.randint(0, 3, (7,), generator=g), torch.randint(0, 2, (5,), generator=g)]
    torch.testing.assert_close(mask_targets(masks[0], proposals[0], matched[0], 14),
                               roi_heads.project_masks_on_boxes(masks[0], proposals[0], matched[0], 14))
    logits = torch.randn(12, 4, 14, 14, generator=g)
    torch.testing.assert_close(mask_loss(logits, proposals, masks, glabels, matched),
                               roi_heads.maskrcnn_loss(logits, proposals, masks, glabels, matched))
    empty = [torch.zeros(0, 4)] * 2, [torch.zeros(0, dtype=torch.long)] * 2
    assert mask_loss(logits[:0], empty[0], masks, glabels, empty[1]).item() == 0.0


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"fast_rcnn_loss: need class_logits \(R, C\) and box_regression \(R, 4C\)"):
        fast_rcnn_loss(torch.zeros(5, 3), torch.zeros(5, 8), [torch.zeros(5, dtype=torch.long)], [torch.zeros(5, 4)])
    with pytest.raises(ValueError, match="smooth_l1: reduction"):
        smooth_l1(torch.zeros(2), torch.zeros(2), reduction="max")
