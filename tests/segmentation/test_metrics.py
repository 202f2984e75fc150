"""Segmentation metrics against torchmetrics."""

import pytest
import torch
from torchmetrics.classification import MulticlassConfusionMatrix, MulticlassJaccardIndex

from cnncourse.segmentation import metrics as M


def labels(seed, shape=(3, 17, 19), num_classes=5, absent=None):
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, num_classes, shape, generator=g)
    pred = torch.where(torch.rand(shape, generator=g) < 0.6, target, torch.randint(0, num_classes, shape, generator=g))
    if absent is not None:  # a class nobody uses
        target[target == absent] = 0
        pred[pred == absent] = 0
    return pred, target


@pytest.mark.parametrize("ignore_index", [None, 2, 255])
def test_confusion_matrix_and_mean_iou_equal_torchmetrics(ignore_index):
    pred, target = labels(0, absent=4)
    if ignore_index == 255:
        target[:, :3] = 255
    ours = M.mean_iou(pred, target, 5, ignore_index)
    ref_cm = MulticlassConfusionMatrix(5, ignore_index=ignore_index)(pred, target)
    torch.testing.assert_close(M.confusion_matrix(pred, target, 5, ignore_index), ref_cm)
    ref = MulticlassJaccardIndex(5, average="macro", ignore_index=ignore_index)(pred, target)
    assert ours.miou == pytest.approx(ref.item(), abs=1e-6)
    assert torch.isnan(ours.iou[4])  # absent from target and prediction: not averaged


def test_accumulated_over_batches_equals_torchmetrics_over_the_dataset_not_the_mean_of_batches():
    ours, ref, per_batch = M.ConfusionMatrix(4), MulticlassJaccardIndex(4, average="macro"), []
    for seed in range(4):
        pred, target = labels(seed, num_classes=4)
        if seed == 0:
            target[:] = 0
        ours.update(pred, target)
        ref.update(pred, target)
        per_batch.append(M.mean_iou(pred, target, 4).miou)
    assert ours.compute().miou == pytest.approx(ref.compute().item(), abs=1e-6)
    assert ours.compute().miou != pytest.approx(sum(per_batch) / 4, abs=1e-3)


def test_logits_are_reduced_by_argmax_and_pixel_accuracy_is_the_trace():
    g = torch.Generator().manual_seed(1)
    logits, target = torch.randn(2, 3, 8, 8, generator=g), torch.randint(0, 3, (2, 8, 8), generator=g)
    s = M.mean_iou(logits, target, 3)
    assert s.pixel_accuracy == pytest.approx((logits.argmax(1) == target).float().mean().item())
    torch.testing.assert_close(s.iou, M.mean_iou(logits.argmax(1), target, 3).iou)


def test_boundary_mask_is_a_band_around_label_changes():
    target = torch.zeros(1, 10, 10, dtype=torch.long)
    target[:, :, 5:] = 1
    band = M.boundary_mask(target, width=2)
    assert band[0, 0].tolist() == [False] * 3 + [True] * 4 + [False] * 3


def test_errors_name_the_argument():
    pred, target = labels(0)
    with pytest.raises(ValueError, match=r"confusion_matrix: target labels must be in \[0, 5\) other than"):
        M.confusion_matrix(pred, torch.where(target == 1, 7, target), 5, ignore_index=255)
    with pytest.raises(ValueError, match=r"confusion_matrix: pred and target must have the same shape"):
        M.confusion_matrix(pred[:, :5], target, 5)
    with pytest.raises(ValueError, match=r"confusion_matrix: pred labels must be in \[0, 3\)"):
        M.confusion_matrix(pred, target.clamp(max=2), 3)
    with pytest.raises(ValueError, match=r"scores: confmat must be a square"):
        M.scores(torch.zeros(3, 4))
