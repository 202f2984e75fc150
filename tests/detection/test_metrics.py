"""mAP against pycocotools (through torchmetrics for boxes, directly for masks), AP on a hand-worked ranked list,
and the edge cases."""

import contextlib
import io

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torchmetrics.detection import MeanAveragePrecision

from cnncourse.detection.metrics import (COCO_THRESHOLDS, average_precision, evaluate_detections, mask_iou,
                                         mean_average_precision)


def random_images(seed, n=8, classes=3):
    """Targets, and predictions near them (some with the wrong class, some far off), with empty images."""
    g = torch.Generator().manual_seed(seed)

    def boxes(k):
        corner = torch.rand(k, 2, generator=g) * 100
        return torch.cat([corner, corner + 5 + torch.rand(k, 2, generator=g) * 40], 1)

    preds, targets = [], []
    for _ in range(n):
        k = int(torch.randint(0, 5, (1,), generator=g))
        truth, labels = boxes(k), torch.randint(0, classes, (k,), generator=g)
        d = int(torch.randint(0, 8, (1,), generator=g))
        if k:
            near = truth[torch.randint(0, k, (d,), generator=g)] + torch.randn(d, 4, generator=g) * 4
            near[:, 2:] = torch.maximum(near[:, 2:], near[:, :2] + 1)
            guess = labels[torch.randint(0, k, (d,), generator=g)]
        else:
            near, guess = boxes(d), torch.randint(0, classes, (d,), generator=g)
        wrong = torch.rand(d, generator=g) < 0.2
        guess = torch.where(wrong, torch.randint(0, classes, (d,), generator=g), guess)
        preds.append({"boxes": near, "scores": torch.rand(d, generator=g), "labels": guess})
        targets.append({"boxes": truth, "labels": labels})
    return preds, targets


@pytest.mark.parametrize("seed", range(6))
def test_coco_map_equals_pycocotools_through_torchmetrics(seed):
    preds, targets = random_images(seed)
    metric = MeanAveragePrecision(iou_thresholds=list(COCO_THRESHOLDS), rec_thresholds=np.linspace(0, 1, 101).tolist())
    metric.update(preds, targets)
    reference = metric.compute()
    assert mean_average_precision(preds, targets, COCO_THRESHOLDS, "coco") == pytest.approx(reference["map"].item(),
                                                                                            abs=1e-6)
    assert mean_average_precision(preds, targets, (0.5,)) == pytest.approx(reference["map_50"].item(), abs=1e-6)
    assert 0 < reference["map_50"].item() < 1  # a case that tests something


def test_average_precision_of_a_hand_ranked_list():
    """Five detections ranked by score, hits at ranks 1, 3 and 4, four objects in all."""
    hits = np.array([1, 0, 1, 1, 0], bool)
    recall = np.cumsum(hits) / 4  # 0.25 0.25 0.5 0.75 0.75
    precision = np.cumsum(hits) / np.arange(1, 6)  # 1 0.5 0.667 0.75 0.6
    # envelope: 1, 0.75, 0.75, 0.75, 0.6; all-point area: 0.25 * 1 + 0.25 * 0.75 + 0.25 * 0.75
    assert average_precision(recall, precision, "voc") == pytest.approx(0.625)
    # 11 points: recall 0..0.2 -> 1 (3 levels), 0.3..0.7 -> 0.75 (5 levels), 0.8..1 -> 0 (3 levels)
    assert average_precision(recall, precision, "voc07") == pytest.approx((3 * 1 + 5 * 0.75) / 11)
    # 101 points: 0..0.25 -> 1 (26), 0.26..0.75 -> 0.75 (50), above -> 0
    assert average_precision(recall, precision, "coco") == pytest.approx((26 + 50 * 0.75) / 101)
    assert average_precision([], [], "coco") == 0.0


def test_breakdown_curves_and_the_valid_empty_cases():
    preds, targets = random_images(3)
    scores = evaluate_detections(preds, targets, (0.5, 0.75), "voc")
    assert set(scores.per_class) == {int(c) for t in targets for c in t["labels"]}
    assert scores.map == pytest.approx(np.mean(list(scores.per_class.values())))
    recall, precision = scores.curves[0, 0.5]
    assert np.all(np.diff(recall) >= 0) and np.all((precision >= 0) & (precision <= 1))
    empty = [{"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0, dtype=torch.long)}]
    truth = [{"boxes": torch.tensor([[0.0, 0, 10, 10]]), "labels": torch.tensor([1])}]
    assert mean_average_precision(empty, truth) == 0.0  # an object, no detection: nothing found
    nothing = [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}]
    assert np.isnan(mean_average_precision(empty, nothing))  # no object anywhere: undefined
    perfect = [{"boxes": truth[0]["boxes"], "scores": torch.tensor([0.9]), "labels": torch.tensor([1])}]
    assert mean_average_precision(perfect + empty, truth + nothing, COCO_THRESHOLDS) == pytest.approx(1.0)


@pytest.mark.parametrize("call, message", [
    (lambda p, t: mean_average_precision(p, t[:-1]), r"preds and targets must have one dict per image each; got 8 and 7"),
    (lambda p, t: mean_average_precision(p, [{"boxes": x["boxes"]} for x in t]), r"targets\[0\] lacks \['labels'\]"),
    (lambda p, t: mean_average_precision([{**p[1], "scores": p[1]["scores"][:0]}] + p[1:], t),
     r"preds\[0\] has \d+ boxes but 0 scores"),
    (lambda p, t: mean_average_precision(p, t, (0.5, 1.2)), r"iou_thresholds must be numbers in \[0, 1\]"),
    (lambda p, t: mean_average_precision(p, t, interpolation="voc12"), r"interpolation must be one of"),
    (lambda p, t: average_precision([0.1, 0.2], [1.0]), r"recall and precision must be 1-d arrays of one length"),
])
def test_bad_input_is_named(call, message):
    preds, targets = random_images(1)
    with pytest.raises(ValueError, match=message):
        call(preds, targets)


def with_masks(images, seed, size=150):
    """Each box's mask: its pixels, with a random tenth of them flipped off (so mask IoU differs from box IoU)."""
    g = torch.Generator().manual_seed(seed)
    rows, cols = torch.arange(size)[:, None], torch.arange(size)[None, :]
    out = []
    for image in images:
        masks = torch.zeros(len(image["boxes"]), size, size, dtype=torch.bool)
        for k, (x1, y1, x2, y2) in enumerate(image["boxes"].tolist()):
            masks[k] = (cols >= x1) & (cols < x2) & (rows >= y1) & (rows < y2)
        out.append({**image, "masks": masks & (torch.rand(masks.shape, generator=g) > 0.1)})
    return out


def pycocotools_map(preds, targets, iou_type, size=150):
    """COCOeval's AP over COCO's thresholds, all areas, 100 detections: boxes or masks given as RLE."""
    def encoded(mask):
        rle = mask_utils.encode(np.asfortranarray(mask.numpy().astype(np.uint8)))
        return {**rle, "counts": rle["counts"].decode()}

    images, objects, detections = [], [], []
    for i, (pred, target) in enumerate(zip(preds, targets)):
        images.append({"id": i, "height": size, "width": size})
        for kind, image in (("truth", target), ("found", pred)):
            for k in range(len(image["labels"])):
                x1, y1, x2, y2 = image["boxes"][k].tolist()
                entry = {"image_id": i, "category_id": int(image["labels"][k]), "bbox": [x1, y1, x2 - x1, y2 - y1],
                         "segmentation": encoded(image["masks"][k])}
                if kind == "truth":
                    area = float(image["masks"][k].sum()) if iou_type == "segm" else (x2 - x1) * (y2 - y1)
                    objects.append({**entry, "id": len(objects) + 1, "iscrowd": 0, "area": area})
                else:
                    detections.append({**entry, "score": float(image["scores"][k])})
    truth = COCO()
    truth.dataset = {"images": images, "annotations": objects, "categories": [{"id": c} for c in range(3)]}
    with contextlib.redirect_stdout(io.StringIO()):
        truth.createIndex()
        evaluation = COCOeval(truth, truth.loadRes(detections), iou_type)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation.stats[0]


@pytest.mark.parametrize("seed", range(3))
def test_mask_map_equals_pycocotools_segm(seed):
    preds, targets = random_images(seed)
    preds, targets = with_masks(preds, seed), with_masks(targets, seed + 100)
    ours = mean_average_precision(preds, targets, COCO_THRESHOLDS, iou_type="segm")
    assert ours == pytest.approx(pycocotools_map(preds, targets, "segm"), abs=1e-6)
    boxes = mean_average_precision(preds, targets, COCO_THRESHOLDS)
    assert boxes == pytest.approx(pycocotools_map(preds, targets, "bbox"), abs=1e-6)
    assert 0 < ours < boxes  # the masks lose a tenth of their pixels: mask IoU is lower


def test_mask_iou_by_hand_and_bad_iou_types():
    a = torch.zeros(2, 4, 4, dtype=torch.bool)
    a[0, :2, :2] = True  # 4 pixels; a[1] empty
    b = torch.zeros(1, 4, 4, dtype=torch.bool)
    b[0, :2] = True  # 8 pixels, 4 shared with a[0]
    torch.testing.assert_close(mask_iou(a, b), torch.tensor([[0.5], [0.0]], dtype=torch.float64))
    with pytest.raises(ValueError, match="mask_iou: masks1 and masks2 must be"):
        mask_iou(a, b[:, :2])
    preds, targets = random_images(0)
    with pytest.raises(ValueError, match=r"iou_type must be one of \('bbox', 'segm'\); got 'mask'"):
        mean_average_precision(preds, targets, iou_type="mask")
    with pytest.raises(ValueError, match=r"preds\[0\] lacks \['masks'\]"):
        mean_average_precision(preds, targets, iou_type="segm")
