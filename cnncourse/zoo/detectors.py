"""The zoo's detectors: R-CNN, SPP-net, Fast and Faster R-CNN, YOLO and SSD on the same shapes scenes.

Each is trained on :func:`cnncourse.detection.scenes.detection_scenes` (64x64,
one to three objects) and scored on the same test scenes by mAP at IoU 0.5
(``map50``) and over COCO's thresholds (``map_coco``), so that the chapters
can set them side by side. The detectors that read proposals (R-CNN, SPP-net,
Fast R-CNN) take selective search's (:func:`proposals`, computed once per
process for a set of scenes) and train on fewer scenes than Faster R-CNN in
both profiles, since selective search costs about 45 ms a scene on a CPU.
"""

from __future__ import annotations

import functools
import time

import torch

from cnncourse.detection import COCO_THRESHOLDS, mean_average_precision, selective_search
from cnncourse.detection import scenes as det_scenes
from cnncourse.detection.fcis import FCIS
from cnncourse.detection.mask_rcnn import MaskRCNN
from cnncourse.detection.rcnn import RCNN, train_rcnn
from cnncourse.detection.ssd import SSD
from cnncourse.detection.training import detect, macs_per_image, needs_proposals, seconds_per_image, train_detector
from cnncourse.detection.two_stage import two_stage
from cnncourse.detection.yolo import YOLO
from cnncourse.layers import use_kernels
from cnncourse.runtime import device_of
from cnncourse.zoo.recipes import Recipe

SCENES = {"train_scenes": {"quick": 250, "full": 4000}, "test_scenes": {"quick": 80, "full": 1000},
          "data_seed": 10, "epochs": {"quick": 6, "full": 24}, "lr": 2e-3, "batch_size": 16}
# the detectors fed by selective search: fewer scenes (its proposals cost about 45 ms a scene on a CPU)
PROPOSED = {**SCENES, "train_scenes": {"quick": 100, "full": 2000}, "epochs": {"quick": 6, "full": 16},
            "proposals": "selective_search_fast"}
# the instance segmenters: in the quick profile fewer scenes and epochs in smaller batches (more steps for the
# time), so that one chapter trains three of them within its minute
MASKS = {**SCENES, "train_scenes": {"quick": 120, "full": 4000}, "epochs": {"quick": 3, "full": 24},
         "batch_size": {"quick": 4, "full": 16}}
RCNN_SETTINGS = {**PROPOSED, "epochs": {"quick": 3, "full": 12}, "lr": 1e-3, "widths": (16, 32, 64), "hidden": 256,
                 "warp": 64, "regions_per_image": 8}


@functools.lru_cache(maxsize=4)
def _scene_set(n: int, seed: int) -> det_scenes.DetectionSet:
    return det_scenes.detection_scenes(n, seed=seed)


def scene_sets(settings) -> tuple:
    """The training and test scenes of ``settings`` (the test scenes from the next seed)."""
    return (_scene_set(settings["train_scenes"], settings["data_seed"]),
            _scene_set(settings["test_scenes"], settings["data_seed"] + 1))


@functools.lru_cache(maxsize=4)
def _proposals(n: int, seed: int) -> tuple:
    return tuple(selective_search(image) for image in _scene_set(n, seed).images)


def proposals(n: int, seed: int) -> list:
    """Selective search's proposals (fast mode) for the ``n`` scenes of ``seed``, computed once per process."""
    return list(_proposals(n, seed))


def _score(results, test) -> dict:
    return {"map50": round(mean_average_precision(results, test.targets), 4),
            "map_coco": round(mean_average_precision(results, test.targets, COCO_THRESHOLDS), 4)}


def _fit_and_detect(model, settings, progress) -> tuple:
    """Train ``model`` on the training scenes of ``settings``; its detections on the test scenes, and those scenes.

    The test scenes are run on PyTorch's kernels (Mask R-CNN's heads run on
    up to 100 detections per image, which the course's kernels make slow).
    """
    train, test = scene_sets(settings)
    needs = needs_proposals(model)
    train_props = proposals(settings["train_scenes"], settings["data_seed"]) if needs else None
    test_props = proposals(settings["test_scenes"], settings["data_seed"] + 1) if needs else None
    train_detector(model, train, epochs=settings["epochs"], lr=settings["lr"], batch_size=settings["batch_size"],
                   proposals=train_props, progress=progress)
    with use_kernels("torch"):
        return detect(model, test.images, proposals=test_props), test


def _train_detector(model, settings, progress) -> dict:
    return _score(*_fit_and_detect(model, settings, progress))


def _train_segmenter(model, settings, progress) -> dict:
    """Score boxes as the other detectors, and masks (probabilities above 0.5) by mask AP."""
    results, test = _fit_and_detect(model, settings, progress)
    masked = [{**r, "masks": r["masks"][:, 0] > 0.5} for r in results]
    return {**_score(results, test),
            "mask_map50": round(mean_average_precision(masked, test.targets, iou_type="segm"), 4),
            "mask_map_coco": round(mean_average_precision(masked, test.targets, COCO_THRESHOLDS, iou_type="segm"), 4)}


def _train_rcnn(model, settings, progress) -> dict:
    train, test = scene_sets(settings)
    train_rcnn(model, train, proposals(settings["train_scenes"], settings["data_seed"]), epochs=settings["epochs"],
               lr=settings["lr"], regions_per_image=settings["regions_per_image"], progress=progress)
    test_props = proposals(settings["test_scenes"], settings["data_seed"] + 1)
    results = []
    with torch.no_grad():
        for i in range(0, len(test), 50):  # a few scenes at a time: every proposal is a 64x64 crop
            out = model(test.images[i:i + 50].to(device_of(model)), test_props[i:i + 50])
            results.extend({k: v.cpu() for k, v in r.items()} for r in out)
    return _score(results, test)


def compare(models: dict, images: torch.Tensor) -> dict:
    """Accuracy, arithmetic and time per image of the zoo's detectors ``models`` (name -> model), one row each.

    ``map50`` and ``map_coco``: each model's score on the zoo's test scenes
    (``zoo_info``). On ``images`` (N, 3, H, W): ``search``, the seconds
    selective search takes per image, for the detectors that read proposals
    (0 for the others); ``network``, :func:`seconds_per_image` with those
    proposals; ``total``, their sum; ``macs``, :func:`macs_per_image` with the
    mean number of proposals per image (Faster R-CNN: its RPN's test-time
    count; a single-shot detector: none).
    """
    found, seconds = [], 0.0
    for image in images:
        start = time.perf_counter()
        found.append(selective_search(image))
        seconds += time.perf_counter() - start
    per_image = round(sum(len(p) for p in found) / len(found))
    table = {}
    for name, model in models.items():
        proposed = needs_proposals(model)
        rpn = getattr(model, "rpn", None)
        regions = per_image if proposed else rpn.post_nms_top_n["testing"] if rpn is not None else 0
        row = {key: model.zoo_info[key] for key in ("map50", "map_coco")}
        row["macs"] = macs_per_image(model, tuple(images.shape[-2:]), regions)
        row["search"] = seconds / len(images) if proposed else 0.0
        row["network"] = seconds_per_image(model, images, found if proposed else None)
        row["total"] = row["search"] + row["network"]
        table[name] = row
    return table


def format_table(table: dict) -> str:
    """:func:`compare`'s rows as text: mAPs, millions of MACs, milliseconds per image."""
    lines = [f"{'':>14}  mAP@0.5  COCO mAP  M MACs  proposals ms  network ms  total ms"]
    for name, row in table.items():
        lines.append(f"{name:>14}  {row['map50']:7.3f}  {row['map_coco']:8.3f}  {row['macs'] / 1e6:6.1f}  "
                     f"{row['search'] * 1000:12.1f}  {row['network'] * 1000:10.1f}  {row['total'] * 1000:8.1f}")
    return "\n".join(lines)


DETECTORS: dict[str, Recipe] = {
    "rcnn_shapes": Recipe(
        "R-CNN: selective search, the two-stage detectors' backbone fine-tuned on proposals warped to 64x64, "
        "linear SVMs, ridge box regressors", lambda: RCNN(RCNN_SETTINGS["widths"], RCNN_SETTINGS["hidden"], RCNN_SETTINGS["warp"]), _train_rcnn,
        RCNN_SETTINGS),
    "spp_net_shapes": Recipe(
        "SPP-net: selective search, one feature map, a 1x1 + 2x2 + 4x4 max-pooling pyramid per region, trained end "
        "to end here (the paper trained SVMs on the pooled features)",
        lambda: two_stage("spp_net"), _train_detector, {**PROPOSED, "pooler": "spp"}),
    "fast_rcnn_shapes": Recipe(
        "Fast R-CNN: selective search, RoI pooling to 4x4 on a stride-8 map, classes and boxes trained jointly",
        lambda: two_stage("fast_rcnn"), _train_detector, {**PROPOSED, "pooler": "roi_pool"}),
    "faster_rcnn_shapes": Recipe(
        "Faster R-CNN: a region proposal network with nine anchors per cell on the shared map, then Fast R-CNN's "
        "head; four losses", lambda: two_stage("faster_rcnn"), _train_detector, {**SCENES, "pooler": "roi_pool"}),
    "yolo_v1_shapes": Recipe(
        "YOLO v1 as in the paper: the backbone read by two fully connected layers, a 7x7 grid, two boxes per "
        "cell, the sum-squared loss", lambda: YOLO(head="fully_connected"), _train_detector,
        {**SCENES, "head": "fully_connected", "grid": 7}),
    "yolo_shapes": Recipe(
        "YOLO v1's grid, outputs and loss with a convolutional head (YOLO v2's): one cell per position of the "
        "8x8 map", lambda: YOLO(head="convolutional", hidden=128), _train_detector,
        {**SCENES, "head": "convolutional", "grid": 8, "hidden": 128}),
    "mask_rcnn_shapes": Recipe(
        "Mask R-CNN: Faster R-CNN with RoIAlign in every branch, a per-class mask head (14x14 masks) and a "
        "keypoint head", lambda: MaskRCNN(pooler="roi_align"), _train_segmenter, {**MASKS, "pooler": "roi_align"}),
    "mask_rcnn_roi_pool_shapes": Recipe(
        "Mask R-CNN with RoI pooling in place of RoIAlign (the paper's ablation)",
        lambda: MaskRCNN(pooler="roi_pool"), _train_segmenter, {**MASKS, "pooler": "roi_pool"}),
    "fcis_shapes": Recipe(
        "FCIS: Faster R-CNN's RPN, then inside/outside score maps in 3x3 position-sensitive groups assembled "
        "into 9x9 masks per region, classes from the same maps, class-agnostic boxes from 4k^2 maps",
        lambda: FCIS(k=3, mask_size=9), _train_segmenter, {**MASKS, "k": 3, "mask_size": 9}),
    "ssd_shapes": Recipe(
        "SSD: default boxes on maps of 8x8, 4x4, 2x2 and 1x1 cells (scales 0.2 to 0.9), matching at IoU 0.5, "
        "hard negatives 3:1",
        lambda: SSD(), _train_detector, {**SCENES, "maps": 4, "scales": (0.2, 0.9), "top": 1}),
}
