"""The sliding window and OverFeat's convolutional form score the same windows; detections and training windows."""

import pytest
import torch

from cnncourse.boxes import box_iou
from cnncourse.detection import sliding
from cnncourse.detection.scenes import detection_scenes, max_iou


@pytest.fixture(scope="module")
def classifier():
    torch.manual_seed(0)
    model = sliding.window_classifier()
    for m in model.modules():  # batch norm statistics that are not the identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2)
    return model.train()  # the mode score_maps must restore


def test_overfeat_scores_every_window_the_sliding_window_does(classifier):
    images = torch.rand(2, 3, 48, 56)
    scales = (0.7, 1.0, 1.6)
    slid = sliding.score_maps(classifier, images, scales, method="sliding", batch_size=37)
    convolved = sliding.score_maps(classifier, images, scales, method="overfeat")
    assert classifier.training
    for a, b, s in zip(slid, convolved, scales):
        h = (max(32, round(48 * s)) - 32) // 4 + 1
        w = (max(32, round(56 * s)) - 32) // 4 + 1
        assert a.shape == b.shape == (2, 4, h, w)
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
        torch.testing.assert_close(a.sum(1), torch.ones(2, h, w))


def test_one_cell_is_the_classifier_on_its_window(classifier):
    image = torch.rand(1, 3, 40, 44)
    scores = sliding.score_maps(classifier, image, (1.0,))[0]
    with torch.no_grad():
        expected = classifier.eval()(image[:, :, 8:40, 4:36]).softmax(1)  # row 2, column 1
    classifier.train()
    torch.testing.assert_close(scores[:, :, 2, 1], expected, atol=1e-5, rtol=0)


def test_window_grid_maps_cells_back_to_the_original_image():
    grid = sliding.window_grid((2, 3), (50, 50), (100, 100))  # the image was doubled
    assert grid.shape == (6, 4)
    torch.testing.assert_close(grid[0], torch.tensor([0.0, 0, 16, 16]))
    torch.testing.assert_close(grid[5], torch.tensor([4.0, 2, 20, 18]))  # row 1, column 2
    assert sliding.windows_per_image(64, (1.0, 2.0)) == 9 * 9 + 25 * 25


def test_inner_boxes_shrink_windows_by_the_context():
    torch.testing.assert_close(sliding.inner_boxes(torch.tensor([[0.0, 0, 40, 40]])),
                               torch.tensor([[4.0, 4, 36, 36]]))


def test_detections_are_suppressed_per_class_and_ranked(classifier):
    preds = sliding.detect(classifier, torch.rand(3, 3, 48, 48), score_threshold=0.2, iou_threshold=0.3,
                           max_detections=50)
    assert len(preds) == 3
    for p in preds:
        assert len(p["boxes"]) <= 50 and torch.all(p["scores"][:-1] >= p["scores"][1:])
        assert p["labels"].min() >= 1 and p["scores"].min() > 0.2
        for label in p["labels"].unique():
            same = p["boxes"][p["labels"] == label]
            iou = box_iou(same, same).fill_diagonal_(0)
            assert iou.max() <= 0.3 + 1e-6


def test_training_windows_centre_on_objects_and_background_windows_avoid_them():
    scenes = detection_scenes(6, size=48, seed=1)
    windows, labels = sliding.training_windows(scenes, negatives=3, jitter=0.1, background_iou=0.3)
    objects = torch.cat([t["labels"] for t in scenes.targets])
    assert torch.equal(labels[:len(objects)], objects)  # the positives first, in order
    assert labels[len(objects):].eq(0).all() and len(labels) > len(objects)
    truths = [t["boxes"] for t in scenes.targets]
    start = 0
    for n, boxes in enumerate(truths):  # each positive: the object's square, moved by at most 10%
        window = windows[start:start + len(boxes)]
        assert window[:, 0].eq(n).all()
        side = (boxes[:, 2:] - boxes[:, :2]).max(1).values * sliding.CONTEXT
        centre = (window[:, 1:3] + window[:, 3:]) / 2
        assert ((centre - (boxes[:, :2] + boxes[:, 2:]) / 2).abs() <= 0.1 * side[:, None] + 1e-4).all()
        start += len(boxes)
    for window in windows[len(objects):]:
        inner = sliding.inner_boxes(window[None, 1:])
        assert max_iou(inner, truths[int(window[0])]).item() < 0.3
    crops, crop_labels = sliding.window_training_set(scenes, negatives=3).tensors
    assert crops.shape == (len(labels), 3, 32, 32) and torch.equal(crop_labels, labels)
    _, twice = sliding.training_windows(scenes, positives=2, negatives=3)
    assert (twice > 0).sum() == 2 * len(objects) and torch.equal(twice[twice > 0].bincount(), 2 * objects.bincount())


def test_bad_arguments_are_named(classifier):
    image = torch.rand(1, 3, 40, 40)
    with pytest.raises(ValueError, match=r"method must be one of \('sliding', 'overfeat'\); got 'loops'"):
        sliding.score_maps(classifier, image, method="loops")
    with pytest.raises(ValueError, match=r"scales must be positive numbers; got \(1.0, 0\)"):
        sliding.score_maps(classifier, image, scales=(1.0, 0))
    with pytest.raises(ValueError, match=r"input must be \(N, 3, H, W\)"):
        sliding.score_maps(classifier, torch.rand(3, 40, 40))
