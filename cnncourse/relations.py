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
(:func:`pair_geometry`); with ``pixels=True`` it also pools a small CNN's
map over four regions of the pair (``REGIONS``) with RoIAlign.

Trained on true boxes, the model then reads the pairs of a detector's boxes;
:func:`relationship_recall` scores the triplets it finds as Lu et al.'s
"relationship detection" does: a true triplet counts as found when a
predicted one has the same relation and both of its boxes have the right
class and overlap the true ones at IoU >= 0.5.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

import torch.nn.functional as F

from cnncourse import data
from cnncourse.backbone import check_images
from cnncourse.boxes import box_iou, check_boxes, elementwise_box_iou
from cnncourse.detection.roi import roi_align
from cnncourse.runtime import device_of, evaluating
from cnncourse.train import _batches as progress_bar

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
    iou = elementwise_box_iou(s, o)
    return torch.cat([s / size, o / size, torch.stack([dx, dy, (wo / ws).log(), (ho / hs).log(), iou], 1)], 1)


def intersection_boxes(boxes: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """The overlap of each pair's two boxes: (P, 4); a pair whose boxes do not meet gets a box of zero
    width or height (at its top-left corner), which RoIAlign with adaptive sampling (``sampling_ratio=-1``,
    torchvision's default) and ``aligned=True`` pools to 0: it has no sampling points."""
    s, o = boxes[pairs[:, 0]], boxes[pairs[:, 1]]
    low = torch.maximum(s[:, :2], o[:, :2])
    return torch.cat([low, torch.maximum(torch.minimum(s[:, 2:], o[:, 2:]), low)], dim=1)


REGIONS = ("subject", "object", "union", "intersection")  # the boxes whose pixels RelationNet pools


def pair_regions(boxes: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Each pair's four boxes, in ``REGIONS`` order: (P, 4 regions, 4)."""
    return torch.stack([boxes[pairs[:, 0]], boxes[pairs[:, 1]], union_boxes(boxes, pairs),
                        intersection_boxes(boxes, pairs)], dim=1)


class RelationNet(nn.Module):
    """Relation logits for every pair of every image: images (N, 3, H, W), per image ``boxes`` (K, 4)
    and ``pairs`` (P, 2) -> (sum P, 5), in ``RELATIONS`` order.

    ``pixels=False``: a two-layer perceptron on the geometry of the two boxes
    (:func:`pair_geometry`) alone. ``pixels=True``: next to it, a small CNN
    (two 3x3 convolutions, the second of stride 2) reads the whole image once, and
    RoIAlign pools its map over the subject's box, the object's, their union
    (Lu et al., ECCV 2016; Dai et al., CVPR 2017) and their intersection
    (where one object hides the other) to ``output_size`` x ``output_size``
    each; a linear layer reads the four together.
    """

    def __init__(self, pixels: bool = True, widths=(32, 32), output_size: int = 4, hidden: int = 128):
        super().__init__()
        self.pixels, self.output_size = pixels, output_size
        self.geometry = nn.Sequential(nn.Linear(GEOMETRY, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        if pixels:
            self.trunk = nn.Sequential(nn.Conv2d(3, widths[0], 3, padding=1), nn.ReLU(),
                                       nn.Conv2d(widths[0], widths[1], 3, stride=2, padding=1), nn.ReLU())
            self.pooled = nn.Sequential(nn.Linear(len(REGIONS) * widths[1] * output_size ** 2, hidden), nn.ReLU())
        self.classifier = nn.Linear(hidden * (2 if pixels else 1), len(RELATIONS))

    def forward(self, images: torch.Tensor, boxes: list, pairs: list) -> torch.Tensor:
        check_images(type(self).__name__, images, 3)
        if len(boxes) != len(images) or len(pairs) != len(images):
            raise ValueError(f"RelationNet: boxes and pairs must hold one tensor per image, {len(images)}; got "
                             f"{len(boxes)} and {len(pairs)}")
        size = images.shape[-1]
        features = self.geometry(torch.cat([pair_geometry(b, p, size) for b, p in zip(boxes, pairs)]))
        if self.pixels:
            regions = [pair_regions(b, p).reshape(-1, 4) for b, p in zip(boxes, pairs)]
            pooled = roi_align(self.trunk(images), regions, self.output_size, 0.5, -1, aligned=True)
            features = torch.cat([features, self.pooled(pooled.reshape(len(features), self.pooled[0].in_features))], 1)
        return self.classifier(features)


def _image_batches(scenes, order, batch_size, device):
    for chosen in order.split(batch_size):
        chosen = chosen.tolist()
        yield (scenes.images[chosen].to(device), [scenes.boxes[i].to(device) for i in chosen],
               [scenes.pairs[i].to(device) for i in chosen], chosen)


def fit_relations(model: RelationNet, scenes: RelationSet, epochs: int, lr: float = 1e-3, batch_size: int = 16,
                  seed: int = 0, progress: bool | None = None) -> list:
    """Train ``model`` on every pair of ``scenes`` (binary cross-entropy per relation), Adam on a cosine
    schedule, ``batch_size`` images a step, shuffled by ``seed``; the mean loss of each epoch."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"fit_relations: {name} must be a positive int; got {value!r}")
    device = device_of(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * -(-len(scenes.images) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator, losses = torch.Generator().manual_seed(seed), []
    model.train()
    for _ in progress_bar(range(epochs), "relations", progress):
        total = []
        order = torch.randperm(len(scenes.images), generator=generator)
        for images, boxes, pairs, chosen in _image_batches(scenes, order, batch_size, device):
            truth = torch.cat([scenes.relations[i] for i in chosen]).float().to(device)
            loss = F.binary_cross_entropy_with_logits(model(images, boxes, pairs), truth)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total.append(loss.item())
        losses.append(sum(total) / len(total))
    return losses


@torch.no_grad()
def predict_relations(model: RelationNet, images: torch.Tensor, boxes: list, pairs: list,
                      batch_size: int = 100) -> torch.Tensor:
    """The model's relation logits for every pair, (sum P, 5), on the CPU, in eval mode."""
    scenes = RelationSet(images, boxes, None, pairs, None)
    with evaluating(model):
        return torch.cat([model(x, b, p).cpu() for x, b, p, _ in
                          _image_batches(scenes, torch.arange(len(images)), batch_size, device_of(model))])


def accuracy(logits: torch.Tensor, relations: torch.Tensor) -> torch.Tensor:
    """The fraction of pairs whose each relation is predicted right (logit > 0 means yes): (5,)."""
    return ((logits > 0) == relations.bool()).float().mean(0)


def detected_pairs(detections: list, min_score: float = 0.5) -> tuple[list, list, list]:
    """A detector's output (one dict per image with ``boxes``, ``scores``, ``labels``) as the objects
    scoring at least ``min_score`` and their ordered pairs: per image boxes (D, 4), labels (D,), pairs."""
    kept = [d["scores"] >= min_score for d in detections]
    boxes = [d["boxes"][k] for d, k in zip(detections, kept)]
    return boxes, [d["labels"][k] for d, k in zip(detections, kept)], [ordered_pairs(len(b)) for b in boxes]


def matches(boxes: torch.Tensor, labels: torch.Tensor, true_boxes: torch.Tensor, true_labels: torch.Tensor,
            threshold: float = 0.5) -> torch.Tensor:
    """Which detection may stand for which true object: same class and IoU >= ``threshold``, (D, K) bool."""
    return (box_iou(boxes, true_boxes) >= threshold) & (labels[:, None] == true_labels[None])


def found_triplets(boxes: torch.Tensor, labels: torch.Tensor, pairs: torch.Tensor, predicted: torch.Tensor,
                   true_boxes: torch.Tensor, true_labels: torch.Tensor, true_pairs: torch.Tensor,
                   true_relations: torch.Tensor, threshold: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Which true triplets of one image the predicted ones find, and which predicted ones find one.

    Detections ``boxes`` (D, 4) and ``labels`` (D,), their ``pairs`` (Q, 2)
    and ``predicted`` (Q, 5) bool; the truth ``true_boxes`` (K, 4),
    ``true_labels`` (K,), ``true_pairs`` (P, 2), ``true_relations`` (P, 5).
    A predicted triplet (pair q, relation r) finds the true (pair p, r) when
    q's subject has p's subject's class and IoU >= ``threshold`` with its
    box, and the same for the objects (Lu et al. 2016's relationship
    detection). Returns found (P, 5) and finding (Q, 5), bool.
    """
    same = matches(boxes, labels, true_boxes, true_labels, threshold)  # (D, K)
    both = same[pairs[:, 0]][:, true_pairs[:, 0]] & same[pairs[:, 1]][:, true_pairs[:, 1]]  # (Q, P)
    hit = both[:, :, None] & predicted.bool()[:, None, :] & true_relations.bool()[None]  # (Q, P, 5)
    return hit.any(0), hit.any(1)


def relationship_recall(boxes: list, labels: list, pairs: list, predicted: list, scenes: RelationSet,
                        threshold: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Recall and precision of the predicted triplets of every image of ``scenes``, per relation: two (5,).

    Per image, the arguments of :func:`found_triplets`; recall is the
    fraction of true triplets found, precision the fraction of predicted
    triplets that find one. A relation never true (or never predicted) gives NaN.
    """
    found, true, finding, claimed = (torch.zeros(len(RELATIONS)) for _ in range(4))
    for i, row in enumerate(zip(boxes, labels, pairs, predicted)):
        hits = found_triplets(*row, scenes.boxes[i], scenes.labels[i], scenes.pairs[i], scenes.relations[i],
                              threshold)
        found, finding = found + hits[0].sum(0), finding + hits[1].sum(0)
        true, claimed = true + scenes.relations[i].sum(0), claimed + row[3].bool().sum(0)
    return found / true, finding / claimed


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
