"""SSD's default boxes, matcher, loss and post-processing equal torchvision's; hard negative mining keeps the worst
three per positive."""

from types import SimpleNamespace

import pytest
import torch
from torchvision.models.detection import _utils as tv_utils
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.ssd import SSD as TorchvisionSSD

from cnncourse.boxes import box_iou
from cnncourse.detection.scenes import detection_scenes
from cnncourse.detection.ssd import SSD, SSD300, default_boxes, hard_negatives, ssd_match


@pytest.mark.parametrize("image_size, feature_sizes, ratios, steps", [
    ((300, 300), SSD300["feature_sizes"], SSD300["aspect_ratios"], None),
    ((300, 300), SSD300["feature_sizes"], SSD300["aspect_ratios"], [8, 16, 32, 64, 100, 300]),
    ((64, 96), ((8, 12), (4, 6)), ((2,), (2, 3)), None),
    ((64, 64), ((4, 4),), ((2, 3),), None),
])
def test_default_boxes_equal_torchvisions(image_size, feature_sizes, ratios, steps):
    reference = DefaultBoxGenerator([list(r) for r in ratios], steps=steps)
    maps = [torch.zeros(1, 1, h, w) for h, w in feature_sizes]
    expected = reference(ImageList(torch.zeros(1, 3, *image_size), [image_size]), maps)[0]
    ours = default_boxes(image_size, feature_sizes, ratios, steps=steps)
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=0)


def test_ssd300_has_the_papers_8732_default_boxes():
    assert len(default_boxes((300, 300), SSD300["feature_sizes"])) == 8732


def test_matching_equals_torchvisions_and_gives_every_object_a_box():
    iou = torch.rand(5, 200, generator=torch.Generator().manual_seed(0)) * 0.6
    matches = ssd_match(iou)
    assert torch.equal(matches, tv_utils.SSDMatcher(0.5)(iou))
    assert set(matches[matches >= 0].tolist()) == set(range(5))


def test_hard_negatives_are_the_highest_losses_three_per_positive():
    g = torch.Generator().manual_seed(1)
    loss = torch.rand(2, 40, generator=g)
    positive = torch.zeros(2, 40, dtype=torch.bool)
    positive[0, :4] = True  # 4 positives -> 12 negatives
    positive[1, :20] = True  # 20 positives -> 60 wanted, only 20 negatives left: all of them
    chosen = hard_negatives(loss, positive)
    assert not (chosen & positive).any()
    assert chosen.sum(1).tolist() == [12, 20]
    weakest_chosen = loss[0][chosen[0]].min()
    assert (loss[0][~chosen[0] & ~positive[0]] <= weakest_chosen).all()
    with pytest.raises(ValueError, match=r"hard_negatives: loss and positive must both be \(N, D\)"):
        hard_negatives(loss, positive[:1])


def _settings(model):
    """What torchvision's SSD methods read from ``self``, with our model's values (no network is built)."""
    settings = SimpleNamespace(box_coder=tv_utils.BoxCoder((10.0, 10.0, 5.0, 5.0)), neg_to_pos_ratio=3,
                               score_thresh=model.score_thresh, topk_candidates=model.topk_candidates,
                               nms_thresh=model.nms_thresh, detections_per_img=model.detections_per_img)
    return settings


def _scenes_and_outputs(seed):
    scenes = detection_scenes(4, seed=seed)
    scenes.targets[3] = {**scenes.targets[3], "boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}
    model = SSD()
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(4, len(model.anchors), 4, generator=g) * 2
    offsets = torch.randn(4, len(model.anchors), 4, generator=g)
    return model, scenes, logits, offsets


@pytest.mark.parametrize("seed", [0, 1])
def test_ssd_loss_equals_torchvisions_compute_loss_with_an_empty_image(seed):
    model, scenes, logits, offsets = _scenes_and_outputs(seed)
    settings = _settings(model)
    matched = [torch.full((len(model.anchors),), -1) if len(t["boxes"]) == 0
               else tv_utils.SSDMatcher(0.5)(box_iou(t["boxes"], model.anchors)) for t in scenes.targets]
    expected = TorchvisionSSD.compute_loss(settings, scenes.targets, {"cls_logits": logits, "bbox_regression": offsets},
                                      [model.anchors] * 4, matched)
    ours = model.loss(logits, offsets, scenes.targets)
    torch.testing.assert_close(ours["loss_box"], expected["bbox_regression"])
    torch.testing.assert_close(ours["loss_class"], expected["classification"])


@pytest.mark.parametrize("seed", [0, 1])
def test_ssd_detections_equal_torchvisions_postprocessing(seed):
    model, _, logits, offsets = _scenes_and_outputs(seed)
    settings = _settings(model)
    expected = TorchvisionSSD.postprocess_detections(settings, {"cls_logits": logits, "bbox_regression": offsets},
                                                [model.anchors] * 4, [(64, 64)] * 4)
    for ours, theirs in zip(model.postprocess(logits, offsets), expected):
        for key in ("boxes", "scores", "labels"):
            torch.testing.assert_close(ours[key], theirs[key])


def test_ssd_predicts_once_per_default_box_and_trains_on_scenes_without_objects():
    model = SSD()
    assert model.feature_sizes == [(8, 8), (4, 4), (2, 2), (1, 1)]
    assert len(model.anchors) == 64 * 4 + 16 * 6 + 4 * 6 + 1 * 4  # 2 + 2 x (ratios) boxes per cell
    scenes = detection_scenes(2, seed=3)
    logits, offsets = model.predict(scenes.images)
    assert logits.shape == (2, len(model.anchors), 4) and offsets.shape == (2, len(model.anchors), 4)
    empty = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}] * 2
    losses = model.train()(scenes.images, empty)
    assert losses["loss_box"].item() == 0 and losses["loss_class"].item() == 0  # no positive, so no negatives
    with pytest.raises(ValueError, match="SSD: training mode needs targets"):
        model(scenes.images)
    with pytest.raises(ValueError, match="SSD"):
        model.eval()(torch.zeros(1, 3, 96, 96))
