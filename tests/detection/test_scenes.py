"""The detection scenes, R-CNN's warped crops (equal to torchvision's RoIAlign inside the image), the baseline."""

import pytest
import torch
import torchvision.ops as tv

from cnncourse.boxes import box_iou
from cnncourse.detection import mean_average_precision
from cnncourse.detection.scenes import NUM_CLASSES, detection_scenes, max_iou, squares, trivial_detections, warp


@pytest.fixture(scope="module")
def scenes():
    return detection_scenes(12, size=48, seed=3)


def test_scenes_are_deterministic_with_torchvision_style_targets(scenes):
    again = detection_scenes(12, size=48, seed=3)
    assert torch.equal(scenes.images, again.images)
    assert scenes.images.shape == (12, 3, 48, 48)
    for target, other in zip(scenes.targets, again.targets):
        assert set(target) == {"boxes", "labels", "masks", "keypoints"}
        assert 1 <= len(target["labels"]) <= 3
        assert target["labels"].min() >= 1 and target["labels"].max() <= NUM_CLASSES
        assert target["boxes"].shape == (len(target["labels"]), 4)
        assert torch.equal(target["boxes"], other["boxes"])
    assert scenes.subset(5).images.shape[0] == 5 and len(scenes.subset(5).targets) == 5


def test_warp_equals_roi_align_with_one_sample_per_pixel_inside_the_image():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(3, 3, 40, 50, generator=g)
    corner = torch.rand(20, 2, generator=g) * 20 + 1
    boxes = torch.cat([torch.randint(0, 3, (20, 1), generator=g).float(), corner,
                       corner + torch.rand(20, 2, generator=g) * 18 + 1], 1)
    ours = warp(images, boxes, 7)
    torch.testing.assert_close(ours, tv.roi_align(images, boxes, 7, 1.0, 1, True), atol=1e-5, rtol=0)


def test_warp_reads_zeros_past_the_edge_and_checks_its_arguments():
    image = torch.ones(1, 3, 8, 8)
    out = warp(image, torch.tensor([[0.0, -8, 0, 8, 8]]), 4)  # the left half lies outside
    assert out[..., :, :2].abs().max() == 0 and torch.allclose(out[..., :, 3], torch.ones(1, 3, 4))
    with pytest.raises(ValueError, match=r"warp: size must be a positive int; got 0"):
        warp(image, torch.zeros(1, 5), 0)
    with pytest.raises(ValueError, match=r"boxes must be a \(K, 5\) tensor .*got \(1, 4\)"):
        warp(image, torch.zeros(1, 4), 4)
    with pytest.raises(ValueError, match=r"batch indices .* \[0, 1\); got 1 to 1"):
        warp(image, torch.tensor([[1.0, 0, 0, 4, 4]]), 4)


def test_squares_are_centred_on_the_box_with_context_times_the_longer_side():
    got = squares(torch.tensor([[10.0, 20, 20, 24]]), 1.5)
    torch.testing.assert_close(got, torch.tensor([[7.5, 14.5, 22.5, 29.5]]))
    with pytest.raises(ValueError, match="context must be a positive number; got 0"):
        squares(torch.zeros(1, 4), 0)


def test_max_iou_is_the_best_overlap_and_zero_without_truths():
    a, b = torch.tensor([[0.0, 0, 4, 4], [10, 10, 12, 12]]), torch.tensor([[0.0, 0, 4, 2], [0, 0, 4, 4]])
    torch.testing.assert_close(max_iou(a, b), box_iou(a, b).max(1).values)
    assert torch.equal(max_iou(a, torch.zeros(0, 4)), torch.zeros(2))


def test_the_trivial_baseline_ignores_the_image_and_scores_near_zero(scenes):
    preds = trivial_detections(scenes, 4, grid=3)
    assert len(preds) == 4 and all(torch.equal(p["boxes"], preds[0]["boxes"]) for p in preds)
    assert preds[0]["boxes"].shape == (9 * NUM_CLASSES, 4)
    assert torch.equal(preds[0]["labels"].unique(), torch.arange(1, NUM_CLASSES + 1))
    assert mean_average_precision(preds, scenes.targets[:4]) < 0.2
