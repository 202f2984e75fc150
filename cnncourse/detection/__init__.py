"""Object detection: the operations detectors are built from, and the detectors.

* :mod:`~cnncourse.detection.nms`: :func:`nms` (greedy non-maximum suppression, as a loop in
  :func:`nms_loop` and in parallel rounds) and :func:`batched_nms` (per class);
* :mod:`~cnncourse.detection.roi`: :func:`roi_pool` (Fast R-CNN) and :func:`roi_align` (Mask R-CNN);
  :mod:`~cnncourse.detection.ps_roi`: their position-sensitive forms (R-FCN, FCIS);
* :mod:`~cnncourse.detection.anchors`: :func:`generate_anchors` (sizes x aspect ratios at every cell);
* :mod:`~cnncourse.detection.coder`: :class:`BoxCoder`, boxes as (tx, ty, tw, th) from a reference box;
* :mod:`~cnncourse.detection.matching`: :class:`Matcher` (IoU thresholds, low-quality matches) and
  :func:`sample_balanced` (positives and negatives per image);
* :mod:`~cnncourse.detection.losses`: :func:`smooth_l1`, Fast R-CNN's and the RPN's losses, Mask R-CNN's
  :func:`mask_targets` and :func:`mask_loss`;
* :mod:`~cnncourse.detection.keypoints`: Mask R-CNN's :func:`keypoint_targets` and :func:`keypoint_loss`;
* :mod:`~cnncourse.detection.selective_search`: :func:`selective_search`, R-CNN's region proposals;
* :mod:`~cnncourse.detection.yolo`: YOLO v1's :func:`yolo_targets`, :func:`yolo_loss` and :func:`yolo_decode`,
  and the detector :class:`YOLO`;
* :mod:`~cnncourse.detection.ssd`: SSD's :func:`default_boxes`, :func:`ssd_match` and :func:`hard_negatives`,
  and the detector :class:`SSD`;
* :mod:`~cnncourse.detection.mask_rcnn` and :mod:`~cnncourse.detection.fcis`: the instance segmenters
  Mask R-CNN (a mask head per region) and FCIS (:func:`assemble`: position-sensitive score maps);
* :mod:`~cnncourse.detection.metrics`: :func:`average_precision` (VOC 2007, VOC and COCO interpolation),
  :func:`evaluate_detections` (per class, with the curves), :func:`mean_average_precision` and, for
  instance segmentation, :func:`mask_iou`.

The detectors, each in its own module: :mod:`~cnncourse.detection.scenes` (the shapes scenes
with per-image targets, R-CNN's warped crops, a blind baseline), :mod:`~cnncourse.detection.sliding`
(a window classifier over an image pyramid, and OverFeat's convolutional form),
:mod:`~cnncourse.detection.rcnn` (R-CNN: warped proposals, SVMs, box regressors),
:mod:`~cnncourse.detection.rpn` and :mod:`~cnncourse.detection.roi_heads` (the two stages of
Faster R-CNN), :mod:`~cnncourse.detection.two_stage` (SPP-net, Fast and Faster R-CNN on one
backbone), the single-shot :class:`YOLO` and :class:`SSD`, and
:mod:`~cnncourse.detection.training` (:func:`train_detector`, :func:`detect`).

Each operation equals its namesake in ``torchvision.ops`` or torchvision's detection
internals (signature, conventions and results; see ``tests/detection``), and
mAP equals pycocotools'.
"""

from cnncourse.detection.anchors import cell_anchors, generate_anchors, grid_anchors
from cnncourse.detection.coder import BoxCoder
from cnncourse.detection.fcis import FCIS, assemble, assemble_loop
from cnncourse.detection.keypoints import keypoint_loss, keypoint_targets
from cnncourse.detection.losses import fast_rcnn_loss, mask_loss, mask_targets, rpn_loss, smooth_l1
from cnncourse.detection.mask_rcnn import MaskRCNN, paste_masks
from cnncourse.detection.matching import Matcher, sample_balanced
from cnncourse.detection.metrics import (COCO_THRESHOLDS, average_precision, evaluate_detections, mask_iou,
                                         mean_average_precision)
from cnncourse.detection.nms import batched_nms, nms, nms_loop
from cnncourse.detection.ps_roi import ps_roi_align, ps_roi_pool
from cnncourse.detection.roi import roi_align, roi_pool
from cnncourse.detection.selective_search import selective_search
from cnncourse.detection.ssd import SSD, default_boxes, hard_negatives, ssd_match
from cnncourse.detection.yolo import YOLO, yolo_decode, yolo_loss, yolo_loss_terms, yolo_targets

__all__ = ["batched_nms", "nms", "nms_loop", "roi_align", "roi_pool", "cell_anchors", "generate_anchors",
           "grid_anchors", "BoxCoder", "Matcher", "sample_balanced", "COCO_THRESHOLDS", "average_precision",
           "evaluate_detections", "mask_iou", "mean_average_precision", "selective_search",
           "YOLO", "yolo_decode", "yolo_loss", "yolo_loss_terms", "yolo_targets", "SSD", "default_boxes",
           "hard_negatives", "ssd_match", "FCIS", "assemble", "assemble_loop", "MaskRCNN", "paste_masks",
           "ps_roi_align", "ps_roi_pool", "fast_rcnn_loss", "mask_loss", "mask_targets", "rpn_loss", "smooth_l1",
           "keypoint_loss", "keypoint_targets"]
