"""What detections are for: relations between the objects found, and the scene graph they make.

Detection ends with a list of boxes; many tasks need how the objects relate.
Visual phrases (Sadeghi & Farhadi, CVPR 2011) detect a pair and its relation
as one thing; Lu et al. (ECCV 2016, "Visual Relationship Detection with
Language Priors") classify the relation of each pair of detected objects,
and the triplets (subject, relation, object) form a **scene graph**
(Johnson et al., CVPR 2015; Xu et al., CVPR 2017).

Here, on the shapes scenes, each ordered pair (subject s, object o) has five
yes/no relations (``RELATIONS``):

* ``left of``, ``above``: the centre of s's box is left of / above o's;
* ``overlaps``: the whole shapes intersect (one covers part of the other);
* ``larger than``: s's whole shape has the larger area (before occlusion);
* ``in front of``: s is drawn over o and covers part of it.

The first two are functions of the boxes; the last three are not: boxes
can intersect while the shapes do not, occlusion shrinks a box, and which
shape is on top shows only in the pixels. Two models read a pair:
:class:`RelationNet` with ``pixels=False`` sees the two boxes' geometry
(:func:`pair_geometry`); with ``pixels=True`` it also sees the union box's
pixels, warped to a small square, with one channel marking each box (the
"spatial masks" of Dai et al., CVPR 2017), through a small CNN.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from cnncourse import data
from cnncourse.boxes import box_iou, check_boxes
from cnncourse.detection.scenes import warp

RELATIONS = ("left of", "above", "overlaps", "larger than", "in front of")
GEOMETRY = 13  # numbers per pair in pair_geometry


def ordered_pairs(k: int) -> torch.Tensor:
    """Every ordered pair (s, o) of ``k`` objects with s != o: (k (k - 1), 2), s-major."""
    s, o = torch.meshgrid(torch.arange(k), torch.arange(k), indexing="ij")
    keep = s != o
    return torch.stack([s[keep], o[keep]], dim=1)


def relation_labels(boxes: torch.Tensor, areas: torch.Tensor, occludes: torch.Tensor) -> torch.Tensor:
    """The true relations of every ordered pair of one scene's objects: (P, 5) bool, in ``RELATIONS`` order.

    ``boxes`` (K, 4) xyxy, ``areas`` (K,) of the whole shapes, ``occludes``
    (K, K) with ``[a, b]`` when a covers part of b (``Shapes.layout``).
    """
    pairs = ordered_pairs(len(boxes))
    s, o = pairs[:, 0], pairs[:, 1]
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    return torch.stack([centre[s, 0] < centre[o, 0], centre[s, 1] < centre[o, 1],
                        occludes[s, o] | occludes[o, s], areas[s] > areas[o], occludes[s, o]], dim=1)


class RelationSet(NamedTuple):
    """Scenes with every ordered pair's relations: images (N, 3, S, S); per image ``boxes`` (K, 4),
    ``labels`` (K,) in 1..3, ``pairs`` (P, 2) and ``relations`` (P, 5) bool."""

    images: torch.Tensor
    boxes: list
    labels: list
    pairs: list
    relations: list


def relation_scenes(n: int = 1000, size: int = 64, seed: int = 0, objects=(2, 3), radius=(0.12, 0.25),
                    background: str = "gratings") -> RelationSet:
    """``n`` shapes scenes of the detection chapters' kind, with two or more objects and their relations."""
    if objects[0] < 2:
        raise ValueError(f"relation_scenes: objects must be (min, max) with min >= 2 (a pair); got {objects!r}")
    scenes = data.Shapes(n=n, size=size, objects=tuple(objects), seed=seed, background=background,
                         radius=tuple(radius))
    images, boxes, labels, pairs, relations = [], [], [], [], []
    for i in range(n):
        sample, layout = scenes[i], scenes.layout(i)
        images.append(sample["image"])
        boxes.append(sample["boxes"])
        labels.append(sample["labels"])
        pairs.append(ordered_pairs(len(sample["boxes"])))
        relations.append(relation_labels(sample["boxes"], layout["areas"], layout["occludes"]))
    return RelationSet(torch.stack(images), boxes, labels, pairs, relations)


def union_boxes(boxes: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """The smallest box around each pair's two boxes: (P, 4)."""
    s, o = boxes[pairs[:, 0]], boxes[pairs[:, 1]]
    return torch.cat([torch.minimum(s[:, :2], o[:, :2]), torch.maximum(s[:, 2:], o[:, 2:])], dim=1)


def pair_geometry(boxes: torch.Tensor, pairs: torch.Tensor, size: int) -> torch.Tensor:
    """What the two boxes alone say about a pair: (P, GEOMETRY = 13).

    Both boxes in units of the image (8), the offset of the centres in units
    of the subject's size (2), the log ratios of widths and heights (2) and
    the IoU (1).
    """
    check_boxes("pair_geometry", "boxes", boxes)
    s, o = boxes[pairs[:, 0]], boxes[pairs[:, 1]]
    ws, hs = (s[:, 2] - s[:, 0]).clamp(min=1e-3), (s[:, 3] - s[:, 1]).clamp(min=1e-3)
    wo, ho = (o[:, 2] - o[:, 0]).clamp(min=1e-3), (o[:, 3] - o[:, 1]).clamp(min=1e-3)
    dx = ((o[:, 0] + o[:, 2]) - (s[:, 0] + s[:, 2])) / (2 * ws)
    dy = ((o[:, 1] + o[:, 3]) - (s[:, 1] + s[:, 3])) / (2 * hs)
    iou = box_iou(s, o).diagonal() if len(pairs) else s.new_zeros(0)
    return torch.cat([s / size, o / size, torch.stack([dx, dy, (wo / ws).log(), (ho / hs).log(), iou], 1)], 1)


def pair_crops(images: torch.Tensor, boxes: list, pairs: list, crop: int = 24) -> torch.Tensor:
    """The union box of every pair warped to ``crop`` x ``crop``, with the subject's and the object's
    boxes as two more channels (1 inside, 0 outside): (sum P, 5, crop, crop)."""
    rois, marks = [], []
    for i, (b, p) in enumerate(zip(boxes, pairs)):
        union = union_boxes(b, p)
        rois.append(torch.cat([torch.full((len(p), 1), float(i)), union], 1))
        # each box's corners in the union's frame, in crop cells
        scale = crop / (union[:, 2:] - union[:, :2]).clamp(min=1e-3)
        cells = torch.arange(crop) + 0.5
        for box in (b[p[:, 0]], b[p[:, 1]]):
            lo, hi = (box[:, :2] - union[:, :2]) * scale, (box[:, 2:] - union[:, :2]) * scale
            inside_x = (cells[None] >= lo[:, :1]) & (cells[None] <= hi[:, :1])  # (P, crop)
            inside_y = (cells[None] >= lo[:, 1:]) & (cells[None] <= hi[:, 1:])
            marks.append((inside_y[:, :, None] & inside_x[:, None, :]).float())
    if not rois:
        return images.new_zeros(0, 5, crop, crop)
    pixels = warp(images, torch.cat(rois), crop)
    subject, obj = torch.cat(marks[0::2]), torch.cat(marks[1::2])  # every image adds one of each, maybe empty
    return torch.cat([pixels, subject[:, None].to(pixels), obj[:, None].to(pixels)], 1)


class RelationNet(nn.Module):
    """Relation logits for pairs: (P, 13 + 5 crop^2) pair inputs (:func:`pair_inputs`) -> (P, 5).

    ``pixels=False``: a two-layer perceptron on the geometry (the first 13
    numbers) alone. ``pixels=True``: the same, with the output of a
    three-layer CNN on the crop (average-pooled) next to the geometry.
    """

    def __init__(self, pixels: bool = True, crop: int = 24, hidden: int = 128, channels: int = 32):
        super().__init__()
        self.pixels, self.crop = pixels, crop
        if pixels:
            self.cnn = nn.Sequential(
                nn.Conv2d(5, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.mlp = nn.Sequential(nn.Linear(GEOMETRY + (channels if pixels else 0), hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, len(RELATIONS)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        width = GEOMETRY + 5 * self.crop * self.crop
        if x.dim() != 2 or x.shape[1] != width:
            raise ValueError(f"RelationNet: input must be pair inputs (P, {width}) for crop={self.crop}; got "
                             f"{tuple(x.shape)}")
        features = x[:, :GEOMETRY]
        if self.pixels:
            crops = x[:, GEOMETRY:].reshape(-1, 5, self.crop, self.crop)
            features = torch.cat([features, self.cnn(crops)], 1)
        return self.mlp(features)


def pair_inputs(images: torch.Tensor, boxes: list, pairs: list, crop: int = 24) -> torch.Tensor:
    """Every pair of every image as one row: its geometry (13) and its crop, flattened (5 crop^2)."""
    size = images.shape[-1]
    geometry = torch.cat([pair_geometry(b, p, size) for b, p in zip(boxes, pairs)])
    return torch.cat([geometry, pair_crops(images, boxes, pairs, crop).flatten(1)], 1)


def accuracy(logits: torch.Tensor, relations: torch.Tensor) -> torch.Tensor:
    """The fraction of pairs whose each relation is predicted right (logit > 0 means yes): (5,)."""
    return ((logits > 0) == relations.bool()).float().mean(0)


def match(detected: torch.Tensor, truth: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """For each detected box, the index of the true box it found (IoU >= ``threshold``, each true box
    found at most once, best IoU first), or -1: (D,)."""
    found = torch.full((len(detected),), -1, dtype=torch.long)
    if len(detected) == 0 or len(truth) == 0:
        return found
    iou = box_iou(detected, truth)
    taken = torch.zeros(len(truth), dtype=torch.bool)
    for flat in iou.flatten().argsort(descending=True).tolist():
        d, t = divmod(flat, len(truth))
        if iou[d, t] < threshold:
            break
        if found[d] < 0 and not taken[t]:
            found[d], taken[t] = t, True
    return found


def triplets(labels, pairs: torch.Tensor, predicted: torch.Tensor, names=data.SHAPE_CLASSES) -> list:
    """The scene graph as (subject, relation, object) triplets; objects are named "circle 0", "square 1"..."""
    objects = [f"{names[int(label)]} {i}" for i, label in enumerate(labels)]
    return [(objects[s], relation, objects[o]) for (s, o), row in zip(pairs.tolist(), predicted.bool().tolist())
            for relation, yes in zip(RELATIONS, row) if yes]


def draw_scene_graph(ax, image: torch.Tensor, boxes: torch.Tensor, labels, pairs: torch.Tensor,
                     predicted: torch.Tensor, relations=("in front of", "larger than"),
                     names=data.SHAPE_CLASSES) -> None:
    """The image with its boxes, and an arrow from subject to object for each predicted ``relations``."""
    from cnncourse.draw import draw_box, show_image

    show_image(ax, image, faded=True)
    centres = ((boxes[:, :2] + boxes[:, 2:]) / 2).tolist()
    for i, (box, label) in enumerate(zip(boxes, labels)):
        draw_box(ax, box, color="black")
        x1, y1 = box[:2].tolist()
        ax.text(x1, y1 - 1, f"{names[int(label)]} {i}", fontsize=7, va="bottom")
    colours = dict(zip(RELATIONS, ["tab:grey", "tab:grey", "tab:orange", "tab:blue", "tab:red"]))
    for (s, o), row in zip(pairs.tolist(), predicted.bool().tolist()):
        for relation, yes in zip(RELATIONS, row):
            if yes and relation in relations:
                ax.annotate("", xy=centres[o], xytext=centres[s],
                            arrowprops=dict(arrowstyle="->", color=colours[relation], lw=1.5))
                mid = [(a + b) / 2 for a, b in zip(centres[s], centres[o])]
                ax.text(*mid, relation, fontsize=6, color=colours[relation], ha="center")
