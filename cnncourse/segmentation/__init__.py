"""Semantic segmentation: scoring (confusion matrix, IoU) and the networks of the chapters.

* :mod:`~cnncourse.segmentation.metrics`: :func:`confusion_matrix`, :func:`mean_iou`,
  :class:`ConfusionMatrix` (a dataset's matrix, batch by batch), :func:`boundary_mask`;
* :mod:`~cnncourse.segmentation.patch`: the sliding-window baseline, :class:`PatchClassifier`,
  :func:`sliding_window`, and the same network run densely;
* :mod:`~cnncourse.segmentation.fcn`: FCN-32s/16s/8s (Long et al., 2015) and its skip fusion;
* :mod:`~cnncourse.segmentation.segnet`: SegNet (Badrinarayanan et al., 2017), unpooling with the
  encoder's indices, or transposed convolutions, tied or retrained;
* :mod:`~cnncourse.segmentation.unet`: U-Net (Ronneberger et al., 2015).
"""

from cnncourse.segmentation.fcn import FCN, SkipFusion, fuse
from cnncourse.segmentation.metrics import (
    ConfusionMatrix, Scores, boundary_mask, confusion_matrix, evaluate_segmentation, mean_iou, scores,
)
from cnncourse.segmentation.patch import DensePatchClassifier, PatchClassifier, sliding_window
from cnncourse.segmentation.segnet import SegNet
from cnncourse.segmentation.unet import UNet

__all__ = [
    "ConfusionMatrix", "Scores", "boundary_mask", "confusion_matrix", "evaluate_segmentation", "mean_iou", "scores",
    "DensePatchClassifier", "PatchClassifier", "sliding_window", "FCN", "SkipFusion", "fuse", "SegNet", "UNet",
]
