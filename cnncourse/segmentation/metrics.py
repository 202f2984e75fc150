"""Scoring a segmentation: the confusion matrix, per-class IoU, mean IoU, pixel accuracy.

The confusion matrix counts pixels: row = true class, column = predicted
class (torchmetrics' convention). Everything else follows from it:

    IoU_c = M[c, c] / (row_c + column_c - M[c, c])      (TP / (TP + FP + FN))
    mIoU  = the mean of IoU_c over the classes present in the target or the prediction
    pixel accuracy = trace(M) / sum(M)

Summing the matrices of every batch and scoring once gives the dataset's
mIoU, which is not the mean of per-image mIoUs (an image without a class
would count as 0 or be skipped). This equals torchmetrics'
``MulticlassJaccardIndex(average="macro")`` over the same pixels.

DeepLab (Chen et al., 2015) also scores the pixels near object boundaries
only (a "trimap" band); :func:`boundary_mask` builds that band.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F


class Scores(NamedTuple):
    """iou (C,), NaN for a class absent from target and prediction; miou; pixel_accuracy."""

    iou: torch.Tensor
    miou: float
    pixel_accuracy: float


def _labels(fn, pred, target, num_classes, ignore_index):
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"{fn}: num_classes must be a positive int; got {num_classes!r}")
    for name, x in (("pred", pred), ("target", target)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{fn}: {name} must be a torch.Tensor; got {type(x).__name__}")
    if pred.is_floating_point() and pred.dim() == target.dim() + 1:  # logits (N, C, H, W)
        if pred.shape[1] != num_classes:
            raise ValueError(f"{fn}: pred logits must have num_classes={num_classes} channels; "
                             f"got shape {tuple(pred.shape)}")
        pred = pred.argmax(1)
    if pred.shape != target.shape:
        raise ValueError(f"{fn}: pred and target must have the same shape (or pred be logits (N, C, ...)); "
                         f"got {tuple(pred.shape)} and {tuple(target.shape)}")
    if pred.is_floating_point() or target.is_floating_point():
        raise TypeError(f"{fn}: pred and target must hold integer class labels; got {pred.dtype} and {target.dtype}")
    keep = target != ignore_index if ignore_index is not None else torch.ones_like(target, dtype=torch.bool)
    for name, x in (("target", target[keep]), ("pred", pred)):
        bad = (x < 0) | (x >= num_classes)
        if bad.any():
            other = f" other than ignore_index={ignore_index}" if ignore_index is not None and name == "target" else ""
            raise ValueError(f"{fn}: {name} labels must be in [0, {num_classes}){other}; "
                             f"got {x[bad].unique()[:5].tolist()}")
    return pred[keep], target[keep]


def confusion_matrix(pred, target, num_classes: int, ignore_index: int | None = None) -> torch.Tensor:
    """(C, C) int64 pixel counts, row = target class, column = predicted class.

    pred: labels of target's shape (N, H, W), or logits (N, C, H, W);
    target: labels; pixels whose target is ``ignore_index`` are not counted.
    """
    pred, target = _labels("confusion_matrix", pred, target, num_classes, ignore_index)
    counts = torch.bincount(target * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).cpu()


def scores(confmat: torch.Tensor, ignore_index: int | None = None) -> Scores:
    """Per-class IoU, mean IoU over the classes present, and pixel accuracy of a (C, C) confusion matrix.

    A class ``ignore_index`` (if it is one of the C) is not scored, as in torchmetrics: its
    target pixels were never counted, so only its false positives would be left.
    """
    if not isinstance(confmat, torch.Tensor) or confmat.dim() != 2 or confmat.shape[0] != confmat.shape[1]:
        shape = tuple(confmat.shape) if isinstance(confmat, torch.Tensor) else type(confmat).__name__
        raise ValueError(f"scores: confmat must be a square (C, C) tensor; got {shape}")
    m = confmat.double()
    tp = m.diagonal()
    union = m.sum(0) + m.sum(1) - tp
    present = union > 0
    if ignore_index is not None and 0 <= ignore_index < len(present):
        present[ignore_index] = False
    iou = torch.where(present, tp / union.clamp(min=1), torch.nan)
    total = m.sum()
    return Scores(iou.float(), iou[present].mean().item() if present.any() else float("nan"),
                  (tp.sum() / total).item() if total > 0 else float("nan"))


def mean_iou(pred, target, num_classes: int, ignore_index: int | None = None) -> Scores:
    """:func:`scores` of one batch's :func:`confusion_matrix`."""
    return scores(confusion_matrix(pred, target, num_classes, ignore_index), ignore_index)


class ConfusionMatrix:
    """Accumulate a dataset's confusion matrix batch by batch; ``compute()`` scores it."""

    def __init__(self, num_classes: int, ignore_index: int | None = None):
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)

    def update(self, pred, target) -> None:
        self.matrix += confusion_matrix(pred, target, self.num_classes, self.ignore_index)

    def compute(self) -> Scores:
        return scores(self.matrix, self.ignore_index)


def boundary_mask(target: torch.Tensor, width: int = 2) -> torch.Tensor:
    """Pixels within ``width`` pixels (Chebyshev distance) of a label change: (N, H, W) -> (N, H, W) bool."""
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"boundary_mask: width must be a positive int; got {width!r}")
    if not isinstance(target, torch.Tensor) or target.dim() != 3:
        raise ValueError(f"boundary_mask: target must be a (N, H, W) label tensor; got "
                         f"{tuple(target.shape) if isinstance(target, torch.Tensor) else type(target).__name__}")
    t = target.float()[:, None]
    # a label change lies in a 3x3 window whose max and min differ
    change = F.max_pool2d(t, 3, 1, 1) != -F.max_pool2d(-t, 3, 1, 1)
    return F.max_pool2d(change.float(), 2 * width - 1, 1, width - 1)[:, 0] > 0


@torch.no_grad()
def evaluate_segmentation(model, loader, num_classes: int, ignore_index: int | None = None,
                          boundary: int | None = None) -> Scores:
    """Score ``model`` over a loader of (images, labels) batches; ``boundary``: only pixels in that band."""
    from cnncourse.runtime import device_of, evaluating

    ignore = -1 if boundary is not None and ignore_index is None else ignore_index
    device, metric = device_of(model), ConfusionMatrix(num_classes, ignore)
    with evaluating(model):
        for images, target in loader:
            pred = model(images.to(device)).argmax(1).cpu()
            if boundary is not None:
                target = torch.where(boundary_mask(target, boundary), target, ignore)
            metric.update(pred, target)
    return metric.compute()
