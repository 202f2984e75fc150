"""FCIS: position-sensitive assembling (against a loop and torchvision's ps_roi_align), scores from the maps, the model."""

import pytest
import torch
import torchvision

from cnncourse.detection import roi_align
from cnncourse.detection.fcis import FCIS, assemble, assemble_loop, inside_outside
from cnncourse.detection.scenes import detection_scenes


def _maps_and_boxes(seed, groups, k, n=2, size=8):
    g = torch.Generator().manual_seed(seed)
    maps = torch.randn(n, groups * k * k, size, size, generator=g, dtype=torch.float64)
    corners = torch.rand(5, 2, 2, generator=g, dtype=torch.float64) * size * 8
    boxes = torch.cat([corners.min(1).values, corners.max(1).values + 4], 1)
    index = torch.randint(0, n, (5, 1), generator=g).to(boxes)
    return maps, torch.cat([index, boxes], 1)


@pytest.mark.parametrize("seed, groups, k, size", [(0, 8, 3, 9), (1, 2, 3, 3), (2, 4, 7, 21), (3, 3, 2, 8)])
def test_assemble_equals_the_pixel_by_pixel_loop_in_values_and_gradients(seed, groups, k, size):
    maps, boxes = _maps_and_boxes(seed, groups, k)
    maps.requires_grad_(True)
    fast = assemble(maps, boxes, k, size, 1 / 8)
    weights = torch.randn_like(fast)
    (grad_fast,) = torch.autograd.grad((fast * weights).sum(), maps)
    slow = assemble_loop(maps, boxes, k, size, 1 / 8)
    (grad_slow,) = torch.autograd.grad((slow * weights).sum(), maps)
    assert fast.shape == (len(boxes), groups, size, size)
    torch.testing.assert_close(fast, slow)
    torch.testing.assert_close(grad_fast, grad_slow)


@pytest.mark.parametrize("seed, k", [(0, 3), (1, 7), (2, 1)])
def test_one_pixel_per_cell_is_torchvisions_ps_roi_align_with_one_sample(seed, k):
    """With size == k each cell is one pixel: the layout and the half-pixel alignment are torchvision's."""
    maps, boxes = _maps_and_boxes(seed, 5, k)
    expected = torchvision.ops.ps_roi_align(maps, boxes, k, 1 / 8, 1)
    torch.testing.assert_close(assemble(maps, boxes, k, k, 1 / 8), expected)


def test_with_one_cell_a_pixel_scores_the_same_in_every_region_and_with_three_it_does_not():
    """k = 1 is a translation-invariant map (semantic segmentation); k > 1 tells a pixel's place in the object."""
    g = torch.Generator().manual_seed(0)
    maps = torch.randn(1, 9, 8, 8, generator=g)
    boxes = torch.tensor([[0.0, 16, 16, 40, 40], [0, 32, 16, 56, 40]])  # x 32-40: the right third of one, left of the other
    shared = {}
    for k in (1, 3):
        out = assemble(maps[:, : k * k], boxes, k, 9, 1 / 8)
        shared[k] = out[0, 0, :, -3:], out[1, 0, :, :3]  # the same pixels, read from each region
    torch.testing.assert_close(*shared[1])
    assert (shared[3][0] - shared[3][1]).abs().max() > 0.1


def test_inside_outside_gives_max_averaged_class_logits_and_difference_masks():
    inside = torch.tensor([[[1.0, -2], [0, 3]], [[0, 0], [0, 0]]])  # two classes, 2x2 pixels
    outside = torch.tensor([[[0.0, 1], [2, -1]], [[4, 0], [0, 0]]])
    assembled = torch.stack([inside, outside], 1).flatten(0, 1)[None]  # (1, 4, 2, 2): in0, out0, in1, out1
    class_logits, mask_logits = inside_outside(assembled, 2)
    torch.testing.assert_close(class_logits, torch.tensor([[(1 + 1 + 2 + 3) / 4, 1.0]]))
    torch.testing.assert_close(mask_logits, (inside - outside)[None])


def test_assemble_rejects_bad_arguments():
    maps = torch.zeros(1, 18, 8, 8)
    boxes = torch.tensor([[0.0, 0, 0, 16, 16]])
    with pytest.raises(ValueError, match=r"size .*multiple.*k=3, size=8"):
        assemble(maps, boxes, 3, 8, 1 / 8)
    with pytest.raises(ValueError, match=r"score_maps must be \(N, D \* 4, H, W\); got \(1, 18, 8, 8\)"):
        assemble(maps, boxes, 2, 4, 1 / 8)
    with pytest.raises(ValueError, match="mask_size must be a multiple of k=3; got 10"):
        FCIS(mask_size=10)


@pytest.fixture(scope="module")
def scenes():
    return detection_scenes(4, seed=5)


def test_fcis_trains_its_five_losses_and_detects_masks(scenes):
    torch.manual_seed(0)
    model = FCIS().train()
    losses = model(scenes.images, scenes.targets)
    assert set(losses) == {"loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg", "loss_mask"}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    for part in (model.score_maps, model.box_maps, model.backbone):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
    model.eval()
    with torch.no_grad():
        found = model(scenes.images)
    assert len(found) == 4
    for d in found:
        assert d["masks"].shape == (len(d["boxes"]), 1, 64, 64)
        assert ((d["masks"] >= 0) & (d["masks"] <= 1)).all()
        x1, y1, x2, y2 = d["boxes"][0].ceil().long().tolist()
        outside = torch.ones(64, 64, dtype=torch.bool)
        outside[max(y1 - 1, 0):y2 + 1, max(x1 - 1, 0):x2 + 1] = False
        assert d["masks"][0, 0][outside].abs().sum() == 0  # a mask stays in its box
    with pytest.raises(ValueError, match="FCIS: training mode needs targets"):
        model.train()(scenes.images)


def test_the_mask_loss_is_the_true_class_masks_cross_entropy_on_the_positive_regions(scenes):
    """Only the positives' true-class mask logits move loss_mask; the other classes' maps get no gradient from it."""
    torch.manual_seed(0)
    model = FCIS().train()
    loss = model(scenes.images, scenes.targets)["loss_mask"]
    (grad,) = torch.autograd.grad(loss, model.score_maps.weight)
    per_class = grad.view(4, 2, 9, -1).abs().sum((1, 2, 3))  # (C + 1,): output channel (d k + a) k + b, d = 2c + s
    present = {int(label) for t in scenes.targets for label in t["labels"]}
    assert per_class[0] == 0  # the background has no mask
    assert all((per_class[c] > 0) == (c in present) for c in range(1, 4))


def test_assemble_reads_roi_align_at_each_pixels_cell():
    maps, boxes = _maps_and_boxes(4, 2, 3)
    full = roi_align(maps, boxes, (9, 9), 1 / 8, 1, aligned=True)  # every channel resampled to the region
    out = assemble(maps, boxes, 3, 9, 1 / 8)
    torch.testing.assert_close(out[:, 1, 4, 8], full[:, 1 * 9 + 1 * 3 + 2, 4, 8])  # row 4, column 8: cell (1, 2)
