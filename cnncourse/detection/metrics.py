"""Mean average precision: how detectors are scored (PASCAL VOC, Everingham et al., 2010; COCO, Lin et al., 2014).

For each class, every detection of every test image is ranked by score. Going
down the list, a detection is a **true positive** if its IoU with a
ground-truth box of its class, not yet claimed by a higher-scoring
detection, reaches the threshold (the best such box is claimed), a **false
positive** otherwise. Precision and recall after each rank trace the
precision-recall curve; **average precision** (AP) summarises it, and the
mean over classes (and IoU thresholds, for COCO's 0.50:0.05:0.95) is mAP.
Three summaries of the curve, ``interpolation``:

* ``"voc07"``: the mean, over the 11 recalls 0, 0.1, ..., 1, of the best
  precision at that recall or beyond (VOC 2007);
* ``"voc"``: the area under that "best precision beyond" envelope, every
  point counted (VOC 2010 on);
* ``"coco"``: the envelope read at the 101 recalls 0, 0.01, ..., 1 (COCO).

Matching follows COCO's evaluation (pycocotools' ``COCOeval``): at most
``max_detections`` per image and class, highest scores first; the truth with
the highest IoU among those still free is claimed. With the COCO thresholds
and interpolation, :func:`mean_average_precision` equals pycocotools'
``COCOeval`` and torchmetrics' ``MeanAveragePrecision``'s ``map``. (torchmetrics'
default thresholds are float32 values, 0.55 being 0.550000011920929 and the
recall level 0.2 being 0.2000000029802; where a recall lands exactly on a
level, it reads the next rank. Given ``iou_thresholds`` and
``rec_thresholds`` as Python floats, it agrees with COCO and with this
module.) Inputs are torchmetrics' format: one dict
per image, ``boxes`` (N, 4) xyxy, ``scores`` (N,), ``labels`` (N,) for the
predictions, ``boxes`` and ``labels`` for the targets.

Instance segmentation is scored the same way with ``iou_type="segm"``: the
overlap of a detection and an object is then the IoU of their masks
(:func:`mask_iou`; each dict also holds ``masks`` (N, H, W), boolean):
COCO's mask AP, equal to pycocotools' ``COCOeval`` with ``iouType="segm"``.
(torchmetrics 1.9.0's ``MeanAveragePrecision(iou_type="segm")`` gave other
numbers on the tests' random masks, so the tests call pycocotools directly.)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from cnncourse.boxes import box_iou, check_boxes

COCO_THRESHOLDS = tuple(np.round(np.linspace(0.5, 0.95, 10), 2).tolist())
INTERPOLATIONS = ("voc07", "voc", "coco")
IOU_TYPES = ("bbox", "segm")


class DetectionScores(NamedTuple):
    """``map``: mean AP over classes and thresholds; ``per_class``: label -> AP (mean over thresholds);
    ``curves``: (label, threshold) -> (recall, precision) arrays along the ranked detections."""

    map: float
    per_class: dict
    curves: dict


def average_precision(recall, precision, interpolation: str = "coco") -> float:
    """AP of one precision-recall curve (recall ascending, one point per ranked detection).

    The precision is first replaced by its envelope, the best precision at
    that recall or beyond; ``interpolation`` then reads it as in the module
    docstring. An empty curve (no detection) has AP 0.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"average_precision: interpolation must be one of {INTERPOLATIONS}; got {interpolation!r}")
    recall, precision = np.asarray(recall, dtype=float), np.asarray(precision, dtype=float)
    if recall.shape != precision.shape or recall.ndim != 1:
        raise ValueError(f"average_precision: recall and precision must be 1-d arrays of one length; got "
                         f"{recall.shape} and {precision.shape}")
    if len(recall) == 0:
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    if interpolation == "voc":
        steps = np.diff(np.concatenate([[0.0], recall]))
        return float((steps * envelope).sum())
    levels = np.linspace(0, 1, 11 if interpolation == "voc07" else 101)
    at = np.searchsorted(recall, levels, side="left")  # the first rank reaching each recall level
    return float(np.where(at < len(recall), envelope[np.minimum(at, len(recall) - 1)], 0.0).mean())


def mask_iou(masks1: torch.Tensor, masks2: torch.Tensor) -> torch.Tensor:
    """IoU of every pair of masks: (N, H, W), (M, H, W) boolean -> (N, M); 0 where both are empty."""
    if masks1.dim() != 3 or masks2.dim() != 3 or masks1.shape[1:] != masks2.shape[1:]:
        raise ValueError(f"mask_iou: masks1 and masks2 must be (N, H, W) and (M, H, W) of one size; got "
                         f"{tuple(masks1.shape)} and {tuple(masks2.shape)}")
    a, b = masks1.flatten(1).double(), masks2.flatten(1).double()
    inter = a @ b.T
    union = a.sum(1, keepdim=True) + b.sum(1) - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.zeros_like(inter))


def _check_images(preds, targets, iou_type="bbox"):
    fn = "mean_average_precision"
    if not isinstance(preds, (list, tuple)) or not isinstance(targets, (list, tuple)):
        raise TypeError(f"{fn}: preds and targets must be lists of dicts, one per image; got "
                        f"{type(preds).__name__} and {type(targets).__name__}")
    if len(preds) != len(targets):
        raise ValueError(f"{fn}: preds and targets must have one dict per image each; got {len(preds)} and "
                         f"{len(targets)}")
    extra = ("masks",) if iou_type == "segm" else ()
    for kind, images, keys in (("preds", preds, ("boxes", "scores", "labels", *extra)),
                               ("targets", targets, ("boxes", "labels", *extra))):
        for i, image in enumerate(images):
            missing = [k for k in keys if k not in image]
            if missing:
                raise ValueError(f"{fn}: {kind}[{i}] lacks {missing} (it needs {list(keys)})")
            n = len(image["boxes"])
            check_boxes(fn, f"{kind}[{i}]['boxes']", image["boxes"].reshape(-1, 4) if n == 0 else image["boxes"])
            for k in keys[1:]:
                if len(image[k]) != n:
                    raise ValueError(f"{fn}: {kind}[{i}] has {n} boxes but {len(image[k])} {k}")


def _match(ious: np.ndarray, threshold: float) -> np.ndarray:
    """True positives of detections (D,) ranked by score against G truths, ious (D, G): COCO's greedy rule."""
    claimed = np.zeros(ious.shape[1], bool)
    hit = np.zeros(ious.shape[0], bool)
    for d in range(ious.shape[0]):
        free = np.where(claimed, -1.0, ious[d])
        best = len(free) - 1 - np.argmax(free[::-1]) if len(free) else -1  # the last of equal bests, as COCO
        if best >= 0 and free[best] >= min(threshold, 1 - 1e-10):
            claimed[best] = hit[d] = True
    return hit


def evaluate_detections(preds, targets, iou_thresholds=(0.5,), interpolation: str = "coco",
                        max_detections: int = 100, iou_type: str = "bbox") -> DetectionScores:
    """AP per class and threshold, their mean, and the curves; see the module docstring.

    Classes are those present in the targets (a class only predicted, never
    present, has no recall and is left out, as in COCO). An image without
    objects or without predictions is valid. ``iou_type``: ``"bbox"`` (box
    IoU) or ``"segm"`` (mask IoU, from each dict's ``masks``).
    """
    if iou_type not in IOU_TYPES:
        raise ValueError(f"evaluate_detections: iou_type must be one of {IOU_TYPES}; got {iou_type!r}")
    _check_images(preds, targets, iou_type)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"evaluate_detections: interpolation must be one of {INTERPOLATIONS}; got {interpolation!r}")
    thresholds = tuple(float(t) for t in iou_thresholds)
    if not thresholds or any(not 0 <= t <= 1 for t in thresholds):
        raise ValueError(f"evaluate_detections: iou_thresholds must be numbers in [0, 1]; got {iou_thresholds!r}")
    classes = sorted({int(c) for t in targets for c in t["labels"].tolist()})
    per_class, curves, aps = {}, {}, []
    for c in classes:
        scores, hits, total = [], {t: [] for t in thresholds}, 0
        for pred, target in zip(preds, targets):
            key = "boxes" if iou_type == "bbox" else "masks"
            truth = target[key][target["labels"] == c].cpu()
            mine = pred["labels"] == c
            order = torch.argsort(pred["scores"][mine].cpu(), descending=True, stable=True)[:max_detections]
            found = pred[key][mine].cpu()[order]
            total += len(truth)
            scores.append(pred["scores"][mine].cpu()[order].double().numpy())
            if len(found) == 0 or len(truth) == 0:
                ious = np.zeros((len(found), len(truth)))
            elif iou_type == "bbox":
                ious = box_iou(found.reshape(-1, 4).double(), truth.reshape(-1, 4).double()).numpy()
            else:
                ious = mask_iou(found.bool(), truth.bool()).numpy()
            for t in thresholds:
                hits[t].append(_match(ious, t))
        ranked = np.argsort(-np.concatenate(scores), kind="mergesort")
        class_aps = []
        for t in thresholds:
            tp = np.concatenate(hits[t])[ranked]
            tps, fps = np.cumsum(tp), np.cumsum(~tp)
            recall, precision = tps / total, tps / (tps + fps + np.spacing(1))  # COCO's epsilon
            curves[c, t] = (recall, precision)
            class_aps.append(average_precision(recall, precision, interpolation))
        per_class[c] = float(np.mean(class_aps))
        aps += class_aps
    return DetectionScores(float(np.mean(aps)) if aps else float("nan"), per_class, curves)


def mean_average_precision(preds, targets, iou_thresholds=(0.5,), interpolation: str = "coco",
                           max_detections: int = 100, iou_type: str = "bbox") -> float:
    """mAP: the mean of AP over the classes present and ``iou_thresholds`` (see :func:`evaluate_detections`).

    ``iou_thresholds=COCO_THRESHOLDS`` with ``interpolation="coco"`` is COCO's
    headline metric, torchmetrics' ``MeanAveragePrecision().compute()["map"]``.
    NaN when no image has an object. ``iou_type="segm"``: mask AP.
    """
    return evaluate_detections(preds, targets, iou_thresholds, interpolation, max_detections, iou_type).map
