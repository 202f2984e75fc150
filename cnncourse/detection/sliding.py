"""Sliding-window detection, and OverFeat's shared computation (Sermanet et al., 2014).

Detection before region proposals: a **window classifier** scores a square
of ``WINDOW`` x ``WINDOW`` pixels as background or one of the classes; slid
over the image at a stride of ``STRIDE`` pixels, and over an image pyramid
(the image resized by each of ``SCALES``) so that objects of every size fill
a window at some scale, it turns every window into a candidate box. The
classifier is trained on windows a little larger than their object (its
longer side times ``CONTEXT``), so the detected box is the window's centre
part, the window shrunk by ``CONTEXT``; non-maximum suppression per class
then keeps one box per object.

Neighbouring windows overlap by seven eighths and the loop recomputes their
shared pixels' features for each. OverFeat runs the classifier's
convolutional form (its Linear layers as convolutions,
:func:`cnncourse.layers.convolutionalize`) once over the whole image
instead: its output map *is* the score of every window at the network's
total stride, computed with each feature once. Our classifier has no
padding, so the two agree to float rounding (``tests/detection``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from cnncourse.backbone import check_images
from cnncourse.detection.nms import batched_nms
from cnncourse.detection.scenes import NUM_CLASSES, DetectionSet, max_iou, scale_boxes, squares, warp
from cnncourse.layers import BatchNorm2d, Conv2d, MaxPool2d, convolutionalize
from cnncourse.runtime import device_of, evaluating

WINDOW, STRIDE, CONTEXT = 32, 4, 1.25  # window side, total stride of the classifier, window / object side
SCALES = (0.8, 1.1, 1.5, 2.0)  # the pyramid: at 64x64, detected boxes of about 32, 23, 17 and 13 pixels
METHODS = ("sliding", "overfeat")


def window_classifier(num_classes: int = NUM_CLASSES, widths=(16, 32), hidden: int = 64) -> nn.Sequential:
    """(N, 3, 32, 32) -> (N, num_classes + 1) scores, class 0 the background.

    Two stages of an unpadded 5x5 convolution, batch norm, ReLU and 2x2 max
    pooling (32 -> 28 -> 14 -> 10 -> 5), then two Linear layers. Without
    padding, and with a total stride of 4 that the pooling grids share, the
    convolutional form scores exactly the windows at stride 4.
    """
    c1, c2 = widths
    return nn.Sequential(
        Conv2d(3, c1, 5, bias=False), BatchNorm2d(c1), nn.ReLU(inplace=True), MaxPool2d(2),
        Conv2d(c1, c2, 5, bias=False), BatchNorm2d(c2), nn.ReLU(inplace=True), MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 5 * 5, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, num_classes + 1))


def training_windows(scenes: DetectionSet, negatives: int = 2, jitter: float = 0.1, seed: int = 0,
                     background_iou: float = 0.3, positives: int = 1) -> tuple:
    """The windows the window classifier learns from, and their labels.

    Each object gives ``positives`` positives: the square of :func:`squares`
    with ``CONTEXT``, its centre moved and its side scaled by up to
    ``jitter`` of the side. Each image gives ``negatives`` background
    windows per object, at random places and sizes, whose centre part overlaps no object
    by ``background_iou`` or more (IoU). -> (windows (M, 5) as (image index,
    x1, y1, x2, y2), labels (M,)), the positives first.
    """
    g = torch.Generator().manual_seed(seed)
    size = scenes.images.shape[-1]
    positives_, negatives_ = [], []
    for n, target in enumerate(scenes.targets):
        square = squares(target["boxes"], CONTEXT).repeat(positives, 1)
        side = square[:, 2:] - square[:, :2]
        shift = (torch.rand(len(square), 2, generator=g) * 2 - 1) * jitter * side
        scale = 1 + (torch.rand(len(square), 1, generator=g) * 2 - 1) * jitter
        centre = (square[:, :2] + square[:, 2:]) / 2 + shift
        half = side * scale / 2
        positives_.append((n, torch.cat([centre - half, centre + half], 1), target["labels"].repeat(positives)))
        k = negatives * max(len(target["boxes"]), 1) * 2  # candidates: about half overlap an object
        sides = torch.empty(k, 1).uniform_(size * 0.3, size * 0.7, generator=g)
        corner = torch.rand(k, 2, generator=g) * (size - sides * 0.5) - sides * 0.25
        windows = torch.cat([corner, corner + sides], 1)
        free = max_iou(inner_boxes(windows), target["boxes"]) < background_iou
        keep = windows[free][: negatives * max(len(target["boxes"]), 1)]
        negatives_.append((n, keep, torch.zeros(len(keep), dtype=torch.int64)))
    rois, labels = [], []
    for n, windows, classes in positives_ + negatives_:
        rois.append(torch.cat([torch.full((len(windows), 1), float(n)), windows], 1))
        labels.append(classes)
    return torch.cat(rois), torch.cat(labels)


def window_training_set(scenes: DetectionSet, **options) -> TensorDataset:
    """The :func:`training_windows` (``options`` go to it) warped to 32x32: (crops (M, 3, 32, 32), labels (M,))."""
    windows, labels = training_windows(scenes, **options)
    return TensorDataset(warp(scenes.images, windows, WINDOW), labels)


def inner_boxes(windows: torch.Tensor) -> torch.Tensor:
    """The box a window detects: its centre part, the window shrunk by ``CONTEXT``. (K, 4) -> (K, 4)."""
    return scale_boxes(windows, 1 / CONTEXT)


def _pyramid(images: torch.Tensor, scale: float) -> torch.Tensor:
    h, w = images.shape[-2:]
    size = (max(WINDOW, round(h * scale)), max(WINDOW, round(w * scale)))
    return F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=scale < 1)


def _sliding(model, image, batch_size) -> torch.Tensor:
    """Scores of every window at stride 4, one crop at a time in batches: (N, 3, H, W) -> (N, C + 1, h, w)."""
    crops = image.unfold(2, WINDOW, STRIDE).unfold(3, WINDOW, STRIDE)  # (N, 3, h, w, 32, 32)
    n, _, h, w = crops.shape[:4]
    crops = crops.permute(0, 2, 3, 1, 4, 5).reshape(-1, 3, WINDOW, WINDOW)
    scores = torch.cat([model(crops[i:i + batch_size]) for i in range(0, len(crops), batch_size)])
    return scores.view(n, h, w, -1).permute(0, 3, 1, 2)


def score_maps(model: nn.Sequential, images: torch.Tensor, scales=SCALES, method: str = "overfeat",
               batch_size: int = 1024) -> list:
    """Class probabilities of every window at every scale: one (N, C + 1, h, w) map per scale, on the CPU.

    ``method="sliding"`` crops and classifies each window; ``"overfeat"``
    runs the convolutional form of ``model`` once per scale. Cell (i, j) of
    scale s's map is the window at (4j, 4i) of the image resized by s.
    """
    if method not in METHODS:
        raise ValueError(f"score_maps: method must be one of {METHODS}; got {method!r}")
    if not scales or any(not s > 0 for s in scales):
        raise ValueError(f"score_maps: scales must be positive numbers; got {scales!r}")
    check_images("score_maps", images, 3)
    net = convolutionalize(model, (3, WINDOW, WINDOW)) if method == "overfeat" else model
    images = images.to(device_of(model))
    maps = []
    with evaluating(model), evaluating(net), torch.no_grad():
        for scale in scales:
            scaled = _pyramid(images, scale)
            scores = net(scaled) if method == "overfeat" else _sliding(model, scaled, batch_size)
            maps.append(scores.softmax(1).cpu())
    return maps


def window_grid(map_size, image_size, scaled_size) -> torch.Tensor:
    """The windows of a (h, w) score map as boxes in the original image: (h * w, 4), row-major.

    ``image_size`` (H, W) is the original image's, ``scaled_size`` the
    resized one's that the map was computed on.
    """
    (h, w), (H, W), (sh, sw) = map_size, image_size, scaled_size
    ys, xs = torch.meshgrid(torch.arange(h) * STRIDE, torch.arange(w) * STRIDE, indexing="ij")
    corner = torch.stack([xs.flatten(), ys.flatten()], 1).float()
    windows = torch.cat([corner, corner + WINDOW], 1)
    return windows * torch.tensor([W / sw, H / sh, W / sw, H / sh])


def detect(model: nn.Sequential, images: torch.Tensor, scales=SCALES, method: str = "overfeat",
           score_threshold: float = 0.05, iou_threshold: float = 0.3, max_detections: int = 100) -> list:
    """Sliding-window detections, one dict per image (``boxes``, ``scores``, ``labels``), on the CPU.

    Every window and class whose probability passes ``score_threshold``
    gives the window's centre part (:func:`inner_boxes`) with that score;
    :func:`~cnncourse.detection.batched_nms` per class at ``iou_threshold``
    removes the duplicates across positions and scales; the
    ``max_detections`` best remain.
    """
    maps = score_maps(model, images, scales, method)
    H, W = images.shape[-2:]
    boxes = torch.cat([inner_boxes(window_grid(m.shape[-2:], (H, W), _pyramid(images[:1], s).shape[-2:]))
                       for m, s in zip(maps, scales)])
    scores = torch.cat([m[:, 1:].flatten(2) for m in maps], 2)  # (N, C, windows)
    results = []
    for per_image in scores:
        label, window = (per_image > score_threshold).nonzero(as_tuple=True)
        score = per_image[label, window]
        keep = batched_nms(boxes[window], score, label, iou_threshold)[:max_detections]
        results.append({"boxes": boxes[window][keep], "scores": score[keep], "labels": label[keep] + 1})
    return results


def windows_per_image(image_size: int, scales=SCALES) -> int:
    """How many windows the pyramid has for a square image of ``image_size`` pixels."""
    sides = [max(WINDOW, round(image_size * s)) for s in scales]
    return int(np.sum([((side - WINDOW) // STRIDE + 1) ** 2 for side in sides]))
