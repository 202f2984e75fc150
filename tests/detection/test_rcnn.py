"""R-CNN's stages: the SVMs' hinge loss, the ridge box regressors (equal to scikit-learn's), the pipeline."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from cnncourse.boxes import box_iou
from cnncourse.detection import rcnn
from cnncourse.detection.scenes import NUM_CLASSES, detection_scenes


def test_hinge_loss_counts_margin_violations_and_ignores_zero_targets():
    scores = torch.tensor([[2.0, 0.5], [-0.5, 0.0]])
    targets = torch.tensor([[1.0, -1.0], [-1.0, 0.0]])
    # (0 + 1.5 + 0.5) / 3 used entries; the 0 target is left out
    assert rcnn.hinge_loss(scores, targets).item() == pytest.approx(2.0 / 3)


def test_svms_separate_separable_classes_on_raw_features():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 5, generator=g) * 3 + 10  # far from standardised
    y = torch.where(x[:, :NUM_CLASSES] > 10, 1.0, -1.0)
    svm = rcnn.train_svms(x, y, steps=300)
    assert ((svm(x) > 0) == (y > 0)).float().mean() > 0.97


def test_box_regressors_equal_scikit_learns_ridge_per_class():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(60, 6, generator=g)
    boxes = torch.cat([torch.rand(60, 2, generator=g) * 20, torch.rand(60, 2, generator=g) * 20 + 25], 1)
    truths = boxes + torch.randn(60, 4, generator=g)
    labels = torch.arange(60) % NUM_CLASSES + 1
    reg = rcnn.fit_box_regressors(x, boxes, truths, labels, ridge=3.0)
    codes = rcnn.CODER.encode(truths, boxes)
    for c in range(1, NUM_CLASSES + 1):
        rows = labels == c
        ref = Ridge(alpha=3.0).fit(x[rows].double().numpy(), codes[rows].double().numpy())
        np.testing.assert_allclose(reg.weight[4 * (c - 1):4 * c].detach().numpy(), ref.coef_, atol=1e-4)
        np.testing.assert_allclose(reg.bias[4 * (c - 1):4 * c].detach().numpy(), ref.intercept_, atol=1e-4)


def test_svm_targets_mark_true_boxes_positive_and_near_proposals_left_out():
    scenes = detection_scenes(3, seed=2)
    truth = scenes.targets[0]["boxes"][:1]
    proposals = [torch.cat([truth + 1.0, torch.tensor([[0.0, 0, 2, 2]])])] + [torch.zeros(0, 4)] * 2
    boxes, targets = rcnn.svm_targets(proposals, scenes)
    k = len(scenes.targets[0]["boxes"])
    c = scenes.targets[0]["labels"][0] - 1
    assert targets[0, c] == 1 and (targets[0].sum() == 1 - (NUM_CLASSES - 1))
    assert targets[k, c] == 0  # the shifted copy overlaps its object: left out of that class's SVM
    assert box_iou(boxes[0][k + 1:], scenes.targets[0]["boxes"]).max() < 0.3 and (targets[k + 1] == -1).all()


def test_the_pipeline_trains_and_detects_with_proposals():
    scenes = detection_scenes(12, seed=3)
    proposals = [torch.cat([t["boxes"] + 1.5, t["boxes"] - 1.0, torch.tensor([[0.0, 0, 20, 20]])])
                 for t in scenes.targets]
    torch.manual_seed(0)
    model = rcnn.train_rcnn(rcnn.RCNN((4, 8, 8), 16, size=32), scenes, proposals, epochs=1, lr=1e-3, progress=False)
    assert not model.training and model.svm.weight.abs().sum() > 0 and model.regressor.weight.abs().sum() > 0
    with torch.no_grad():
        results = model(scenes.images[:4], proposals[:4])
    assert len(results) == 4
    for r in results:
        assert set(r) == {"boxes", "scores", "labels"} and r["labels"].min() >= 1
    with pytest.raises(ValueError, match=r"proposals must hold one \(P, 4\) tensor per image, 4; got 3"):
        model(scenes.images[:4], proposals[:3])
