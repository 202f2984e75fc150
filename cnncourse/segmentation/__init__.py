"""Semantic segmentation: scoring (confusion matrix, IoU) and the networks of the chapters.

* :mod:`~cnncourse.segmentation.metrics`: :func:`confusion_matrix`, :func:`mean_iou`,
  :class:`ConfusionMatrix` (a dataset's matrix, batch by batch), :func:`boundary_mask`;
* :mod:`~cnncourse.segmentation.inference`: :func:`predict` (labels, on the CPU) and
  :func:`show_predictions` (several networks' labels under the images);
* :mod:`~cnncourse.segmentation.patch`: the sliding-window baseline, :class:`PatchClassifier`,
  :func:`sliding_window`, and the same network run densely;
* :mod:`~cnncourse.segmentation.fcn`: FCN-32s/16s/8s (Long et al., 2015) and its skip fusion;
* :mod:`~cnncourse.segmentation.segnet`: SegNet (Badrinarayanan et al., 2017), unpooling with the
  encoder's indices, or transposed convolutions, tied or retrained;
* :mod:`~cnncourse.segmentation.unet`: U-Net (Ronneberger et al., 2015);
* :mod:`~cnncourse.segmentation.deeplab`: DeepLab v1 (atrous backbone) and v3 (ASPP) (Chen et al., 2015, 2017),
  and :func:`dense_crf`, a fully connected CRF by mean-field inference (Kraehenbuehl & Koltun, 2011);
* :mod:`~cnncourse.segmentation.enet`: ENet (Paszke et al., 2016); :mod:`~cnncourse.segmentation.frrn`:
  FRRN (Pohlen et al., 2017); :mod:`~cnncourse.segmentation.sharpmask`: SharpMask-style refinement
  (Pinheiro et al., 2016).
"""

from cnncourse.segmentation.crf import dense_crf
from cnncourse.segmentation.deeplab import ASPP, DeepLab
from cnncourse.segmentation.enet import ENet
from cnncourse.segmentation.fcn import FCN, SkipFusion, fuse
from cnncourse.segmentation.frrn import FRRN
from cnncourse.segmentation.inference import predict, show_predictions
from cnncourse.segmentation.metrics import (
    ConfusionMatrix, Scores, boundary_mask, confusion_matrix, evaluate_segmentation, mean_iou, scores,
)
from cnncourse.segmentation.patch import DensePatchClassifier, PatchClassifier, sample_patches, sliding_window
from cnncourse.segmentation.segnet import SegNet
from cnncourse.segmentation.sharpmask import RefinementModule, SharpMaskNet
from cnncourse.segmentation.unet import UNet

__all__ = [
    "ConfusionMatrix", "Scores", "boundary_mask", "confusion_matrix", "evaluate_segmentation", "mean_iou", "scores",
    "predict", "show_predictions",
    "DensePatchClassifier", "PatchClassifier", "sample_patches", "sliding_window", "FCN", "SkipFusion", "fuse",
    "SegNet", "UNet", "ASPP", "DeepLab", "dense_crf", "ENet", "FRRN", "RefinementModule", "SharpMaskNet",
]
