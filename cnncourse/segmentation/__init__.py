"""Semantic segmentation: scoring (confusion matrix, IoU) and the networks of the chapters.

* :mod:`~cnncourse.segmentation.metrics`: :func:`confusion_matrix`, :func:`mean_iou`,
  :class:`ConfusionMatrix` (a dataset's matrix, batch by batch), :func:`boundary_mask`.
"""

from cnncourse.segmentation.metrics import (
    ConfusionMatrix, Scores, boundary_mask, confusion_matrix, evaluate_segmentation, mean_iou, scores,
)

__all__ = ["ConfusionMatrix", "Scores", "boundary_mask", "confusion_matrix", "evaluate_segmentation", "mean_iou",
           "scores"]
