"""Mask R-CNN: masks pasted into their boxes, keypoints decoded, the mini-batch's objects, training and detection."""

import pytest
import torch
import torch.nn.functional as F

from cnncourse.boxes import box_iou
from cnncourse.detection.mask_rcnn import MASK_RCNN, MaskRCNN, decode_keypoints, paste_masks
from cnncourse.detection.scenes import detection_scenes


def test_a_mask_pasted_in_a_whole_pixel_box_is_the_mask_resized_to_the_box():
    g = torch.Generator().manual_seed(0)
    masks = torch.rand(3, 7, 7, generator=g)
    boxes = torch.tensor([[4.0, 10, 25, 20], [0, 0, 7, 7], [30, 28, 40, 40]])
    pasted = paste_masks(masks, boxes, (40, 48))
    assert pasted.shape == (3, 40, 48)
    for mask, (x1, y1, x2, y2), out in zip(masks, boxes.long().tolist(), pasted):
        resized = F.interpolate(mask[None, None], size=(y2 - y1, x2 - x1), mode="bilinear", align_corners=False)
        torch.testing.assert_close(out[y1:y2, x1:x2], resized[0, 0])
        outside = torch.ones_like(out, dtype=torch.bool)
        outside[y1:y2, x1:x2] = False
        assert out[outside].abs().sum() == 0
    full = paste_masks(torch.ones(1, 14, 14), torch.tensor([[12.0, 34, 30, 52]]), (64, 64))[0] > 0.5
    assert full.sum() == 18 * 18 and full[34:52, 12:30].all()  # exactly the box's pixels
    assert paste_masks(torch.zeros(0, 7, 7), torch.zeros(0, 4), (8, 8)).shape == (0, 8, 8)


def test_decode_keypoints_takes_the_best_cells_centre_into_the_box():
    logits = torch.zeros(1, 2, 4, 4)
    logits[0, 0, 1, 2] = 5.0  # row 1, column 2
    logits[0, 1, 3, 0] = 3.0
    found = decode_keypoints(logits, torch.tensor([[10.0, 20, 18, 36]]))  # cells 2 wide, 4 high
    torch.testing.assert_close(found, torch.tensor([[[15.0, 26, 5], [11, 34, 3]]]))


@pytest.fixture(scope="module")
def scenes():
    return detection_scenes(4, seed=5)


def test_the_mini_batch_names_each_positive_proposals_object(scenes):
    model = MaskRCNN().train()
    proposals = [torch.tensor([[0.0, 0, 20, 20], [30, 30, 60, 60]])] * 4
    boxes, labels, _, objects = model.roi_heads.sample(proposals, scenes.targets, matched=True)
    for b, label, o, target in zip(boxes, labels, objects, scenes.targets):
        positive = label > 0
        assert positive.any()  # the true boxes join the proposals
        assert torch.equal(label[positive], target["labels"][o[positive]])
        iou = box_iou(b[positive], target["boxes"])
        assert (iou[torch.arange(len(iou)), o[positive]] >= 0.5).all()


@pytest.mark.parametrize("name", sorted(MASK_RCNN))
def test_mask_rcnn_trains_and_detects_masks_and_keypoints(name, scenes):
    torch.manual_seed(0)
    model = MaskRCNN(pooler=MASK_RCNN[name]).train()
    losses = model(scenes.images, scenes.targets)
    assert set(losses) == {"loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg", "loss_mask",
                           "loss_keypoint"}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.mask_head[0].weight.grad.abs().sum() > 0 and model.keypoint_head[0].weight.grad.abs().sum() > 0
    model.eval().roi_heads.score_thresh = 0.0
    with torch.no_grad():
        found = model(scenes.images)
    for result in found:
        k = len(result["boxes"])
        assert result["masks"].shape == (k, 1, 64, 64) and result["keypoints"].shape == (k, 4, 3)
        assert ((result["masks"] >= 0) & (result["masks"] <= 1)).all()


def test_without_a_keypoint_head_and_bad_input():
    model = MaskRCNN(keypoints=0).train()
    scenes = detection_scenes(2, seed=6)
    assert "loss_keypoint" not in model(scenes.images, scenes.targets)
    with pytest.raises(ValueError, match="MaskRCNN: training mode needs targets"):
        model(scenes.images)
    with pytest.raises(ValueError, match="MaskRCNN"):
        model.eval()(torch.zeros(1, 3, 60, 60))
