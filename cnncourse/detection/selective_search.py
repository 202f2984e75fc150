"""Selective search: class-independent region proposals by hierarchical grouping (Uijlings et al., 2013).

R-CNN's proposals. The image is over-segmented into small regions (Felzenszwalb
& Huttenlocher's graph segmentation, scikit-image's ``felzenszwalb``, as in
the paper); then the two most similar *neighbouring* regions are merged,
again and again, until one region is left. Every region along the way, the
small starting ones and every merge, is a proposal: its bounding box.

Similarity of regions i and j (each term in [0, 1], summed over the chosen ones):

* colour: the intersection of their colour histograms (25 bins per channel, L1-normalised);
* texture: the intersection of their texture histograms (Gaussian derivatives,
  sigma 1, in 8 orientations per channel, 10 bins each);
* size: ``1 - (size_i + size_j) / size_image``, so that small regions merge first;
* fill: ``1 - (size(box_ij) - size_i - size_j) / size_image``, so that regions that
  fit together (their joint box has no gaps) merge first.

A merged region's histograms are the size-weighted mean of its parts'. For
diversity the grouping runs under several strategies (colour spaces, starting
scales, similarity sets; the defaults are the paper's "fast" mode, as
OpenCV's ``switchToSelectiveSearchFast``). Proposals are ranked as in the paper: each
gets its position in its hierarchy (1 for the final whole-image region, 2 for
the merge before it, ...) times a random number in [0, 1), the lowest first,
and duplicate boxes are dropped.
"""

from __future__ import annotations

import heapq

import numpy as np
import torch
from scipy import ndimage
from skimage import color
from skimage.segmentation import felzenszwalb

from cnncourse.boxes import box_iou

COLOUR_BINS, TEXTURE_BINS, ORIENTATIONS = 25, 10, 8
SIMILARITIES = {"c": "colour", "t": "texture", "s": "size", "f": "fill"}
FAST = {"colour_spaces": ("hsv", "lab"), "scales": (50, 100), "similarity_sets": ("ctsf", "tsf")}
COLOUR_SPACES = ("rgb", "hsv", "lab")


def _in_unit_range(image: np.ndarray, space: str) -> np.ndarray:
    """The image (H, W, 3) RGB in [0, 1] converted to ``space``, each channel scaled to [0, 1]."""
    if space == "hsv":
        return color.rgb2hsv(image)
    if space == "lab":
        lab = color.rgb2lab(image)
        return np.stack([lab[..., 0] / 100, (lab[..., 1] + 128) / 255, (lab[..., 2] + 128) / 255], -1).clip(0, 1)
    return image


def _histograms(labels: np.ndarray, values: np.ndarray, bins: int, count: int) -> np.ndarray:
    """Per region, one ``bins``-bin histogram of each feature in ``values`` (H, W, F) in [0, 1]: (count, F * bins)."""
    F = values.shape[-1]
    index = np.minimum((values * bins).astype(int), bins - 1) + bins * np.arange(F)  # (H, W, F)
    flat = (labels[..., None] * (F * bins) + index).ravel()
    hist = np.bincount(flat, minlength=count * F * bins).reshape(count, F * bins).astype(float)
    return hist / hist.sum(1, keepdims=True)


def _texture(image: np.ndarray) -> np.ndarray:
    """Gaussian derivative responses (H, W, 3 * 8), each orientation's positive part, scaled to [0, 1]."""
    responses = []
    for c in range(3):
        gy = ndimage.gaussian_filter(image[..., c], 1.0, order=(1, 0))
        gx = ndimage.gaussian_filter(image[..., c], 1.0, order=(0, 1))
        for k in range(ORIENTATIONS):
            angle = 2 * np.pi * k / ORIENTATIONS
            responses.append(np.maximum(np.cos(angle) * gx + np.sin(angle) * gy, 0))
    responses = np.stack(responses, -1)
    return responses / max(responses.max(), 1e-12)


def _hierarchy(image: np.ndarray, scale: float, sigma: float, min_size: int, similarity: str) -> list:
    """One grouping strategy: the boxes (x1, y1, x2, y2) of every region of the hierarchy, in creation order."""
    labels = felzenszwalb(image, scale=scale, sigma=sigma, min_size=min_size)
    count = labels.max() + 1
    total = labels.size
    sizes = np.bincount(labels.ravel(), minlength=count).astype(float)
    boxes = [(s[1].start, s[0].start, s[1].stop, s[0].stop) for s in ndimage.find_objects(labels + 1)]
    colour = _histograms(labels, image, COLOUR_BINS, count)
    texture = _histograms(labels, _texture(image), TEXTURE_BINS, count)
    # neighbours: regions touching horizontally or vertically
    pairs = np.concatenate([np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()], 1),
                            np.stack([labels[:-1].ravel(), labels[1:].ravel()], 1)])
    pairs = np.unique(np.sort(pairs[pairs[:, 0] != pairs[:, 1]], 1), axis=0)
    neighbours = {r: set() for r in range(count)}
    for a, b in pairs.tolist():
        neighbours[a].add(b)
        neighbours[b].add(a)
    sizes, colour, texture = list(sizes), list(colour), list(texture)

    def similar(i, j):
        x1, y1 = min(boxes[i][0], boxes[j][0]), min(boxes[i][1], boxes[j][1])
        x2, y2 = max(boxes[i][2], boxes[j][2]), max(boxes[i][3], boxes[j][3])
        terms = {"c": lambda: np.minimum(colour[i], colour[j]).sum(),
                 "t": lambda: np.minimum(texture[i], texture[j]).sum(),
                 "s": lambda: 1 - (sizes[i] + sizes[j]) / total,
                 "f": lambda: 1 - ((x2 - x1) * (y2 - y1) - sizes[i] - sizes[j]) / total}
        return sum(terms[k]() for k in similarity)

    heap = [(-similar(a, b), a, b) for a, b in pairs.tolist()]
    heapq.heapify(heap)
    alive = set(range(count))
    while heap:
        _, i, j = heapq.heappop(heap)
        if i not in alive or j not in alive:
            continue  # a pair whose region has merged since
        t = len(sizes)
        sizes.append(sizes[i] + sizes[j])
        colour.append((sizes[i] * colour[i] + sizes[j] * colour[j]) / sizes[t])
        texture.append((sizes[i] * texture[i] + sizes[j] * texture[j]) / sizes[t])
        boxes.append((min(boxes[i][0], boxes[j][0]), min(boxes[i][1], boxes[j][1]),
                      max(boxes[i][2], boxes[j][2]), max(boxes[i][3], boxes[j][3])))
        alive -= {i, j}
        neighbours[t] = (neighbours.pop(i) | neighbours.pop(j)) - {i, j}
        for k in neighbours[t]:
            neighbours[k] -= {i, j}
            neighbours[k].add(t)
            heapq.heappush(heap, (-similar(t, k), t, k))
        alive.add(t)
    return boxes


def selective_search(image, colour_spaces=FAST["colour_spaces"], scales=FAST["scales"],
                     similarity_sets=FAST["similarity_sets"], sigma: float = 0.8, min_size: int | None = None,
                     seed: int = 0) -> torch.Tensor:
    """Region proposals (K, 4) xyxy float32 in pixels for ``image`` (3, H, W) in [0, 1], best-ranked first.

    One grouping per (colour space, Felzenszwalb ``scale``, similarity set),
    a similarity set being letters of "ctsf" (colour, texture, size, fill).
    ``min_size`` (pixels) defaults to each scale, as OpenCV's. Deterministic for a ``seed``.
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        got = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"selective_search: image must be a (3, H, W) tensor in [0, 1]; got {got}")
    bad = [s for s in colour_spaces if s not in COLOUR_SPACES]
    if bad or not colour_spaces:
        raise ValueError(f"selective_search: colour_spaces must be some of {COLOUR_SPACES}; got {colour_spaces!r}")
    if not similarity_sets or any(not s or set(s) - set(SIMILARITIES) for s in similarity_sets):
        raise ValueError(f"selective_search: similarity_sets must be strings of the letters 'ctsf' (colour, "
                         f"texture, size, fill); got {similarity_sets!r}")
    if not scales or any(not isinstance(k, (int, float)) or k <= 0 for k in scales):
        raise ValueError(f"selective_search: scales must be positive numbers; got {scales!r}")
    rgb = image.detach().cpu().permute(1, 2, 0).clamp(0, 1).double().numpy()
    rng = np.random.default_rng(seed)
    ranked = []
    for space in colour_spaces:
        converted = _in_unit_range(rgb, space)
        for scale in scales:
            for similarity in similarity_sets:
                boxes = _hierarchy(converted, scale, sigma, int(scale if min_size is None else min_size), similarity)
                position = np.arange(len(boxes), 0, -1)  # 1 for the last region (the whole image)
                ranked += zip((position * rng.random(len(boxes))).tolist(), boxes)
    ranked.sort(key=lambda item: item[0])
    unique = list(dict.fromkeys(box for _, box in ranked))
    return torch.tensor(unique, dtype=torch.float32).reshape(-1, 4)


def opencv_selective_search(image) -> torch.Tensor:
    """OpenCV contrib's selective search in its fast mode, the reference: (K, 4) xyxy float32, its order.

    Needs ``opencv-contrib-python-headless`` (pinned in requirements.txt);
    runs on one thread, as the course's does.
    """
    try:
        import cv2
        search = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    except (ImportError, AttributeError) as error:
        raise ImportError("opencv_selective_search: needs OpenCV's contrib modules (pip install "
                          "opencv-contrib-python-headless)") from error
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        got = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"opencv_selective_search: image must be a (3, H, W) tensor in [0, 1]; got {got}")
    cv2.setNumThreads(1)
    bgr = (image.detach().cpu().clamp(0, 1).permute(1, 2, 0).flip(-1).numpy() * 255).astype("uint8").copy()
    search.setBaseImage(bgr)
    search.switchToSelectiveSearchFast()
    xywh = torch.tensor(search.process(), dtype=torch.float32).reshape(-1, 4)
    return torch.cat([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1)


def proposal_recall(proposals: list, truths: list, counts, iou_threshold: float = 0.5) -> list:
    """The fraction of objects that one of the first k proposals covers at ``iou_threshold``, for each k of ``counts``.

    ``proposals`` and ``truths``: one (P, 4) and one (G, 4) tensor per image,
    the proposals best-ranked first.
    """
    if len(proposals) != len(truths):
        raise ValueError(f"proposal_recall: need one proposal tensor per image of truths, {len(truths)}; "
                         f"got {len(proposals)}")
    best = []
    for p, t in zip(proposals, truths):
        iou = box_iou(t, p) if len(p) and len(t) else torch.zeros(len(t), len(p))
        best.append(iou)
    total = sum(len(t) for t in truths)
    recall = []
    for k in counts:
        found = sum(int((iou[:, :k].max(1).values >= iou_threshold).sum()) if iou.shape[1] else 0 for iou in best)
        recall.append(found / max(total, 1))
    return recall
