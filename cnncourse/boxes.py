"""Boxes: formats, areas, IoU and GIoU, boxes around masks, and IoU losses.

Every function follows ``torchvision.ops`` (same names, signatures and
results; the tests compare them on random boxes), and checks its input,
which torchvision does not: a box must have 4 coordinates and ``x2 >= x1``,
``y2 >= y1`` in ``xyxy`` form.

Boxes are ``(x1, y1, x2, y2)`` in pixels unless a format says otherwise:
``"xywh"`` (corner, width, height) or ``"cxcywh"`` (centre, width, height).

A note on pixels: the shapes scenes (:mod:`cnncourse.data.shapes`) give boxes
that enclose the pixels' squares, so a one-pixel object at column 5 spans
x = 5 to 6. :func:`masks_to_boxes` follows torchvision and gives the indices
of the first and last pixels, 5 to 5; the two differ by one in x2 and y2.

IoU is Jaccard's index of two boxes; GIoU (Rezatofighi et al., 2019)
subtracts the fraction of the smallest enclosing box that neither covers, so
it keeps a gradient when the boxes do not overlap:

    GIoU = IoU - (|C| - |A u B|) / |C|,   in (-1, 1].
"""

from __future__ import annotations

import torch

FORMATS = ("xyxy", "xywh", "cxcywh")
REDUCTIONS = ("none", "mean", "sum")


def check_boxes(fn: str, name: str, boxes, fmt: str = "xyxy") -> None:
    """``boxes`` is a float tensor (..., 4); in ``xyxy`` form, x2 >= x1 and y2 >= y1."""
    if not isinstance(boxes, torch.Tensor):
        raise TypeError(f"{fn}: {name} must be a torch.Tensor of boxes (..., 4); got {type(boxes).__name__}")
    if boxes.dim() == 0 or boxes.shape[-1] != 4:
        raise ValueError(f"{fn}: {name} must have shape (..., 4), one (x1, y1, x2, y2) per box; "
                         f"got shape {tuple(boxes.shape)}")
    if fmt == "xyxy":
        bad = (boxes[..., 2] < boxes[..., 0]) | (boxes[..., 3] < boxes[..., 1])
    else:  # widths and heights
        bad = (boxes[..., 2] < 0) | (boxes[..., 3] < 0)
    if bad.any():
        first = boxes.reshape(-1, 4)[bad.reshape(-1)][0].tolist()
        need = "x2 >= x1 and y2 >= y1" if fmt == "xyxy" else "w >= 0 and h >= 0"
        raise ValueError(f"{fn}: {name} must have {need} ({fmt}); {int(bad.sum())} boxes do not, "
                         f"the first is {[round(v, 4) for v in first]}")


def box_convert(boxes: torch.Tensor, in_fmt: str, out_fmt: str) -> torch.Tensor:
    """Convert boxes (..., 4) between ``"xyxy"``, ``"xywh"`` and ``"cxcywh"``."""
    for name, fmt in (("in_fmt", in_fmt), ("out_fmt", out_fmt)):
        if fmt not in FORMATS:
            raise ValueError(f"box_convert: {name} must be one of {FORMATS}; got {fmt!r}")
    check_boxes("box_convert", "boxes", boxes, in_fmt)
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        x1, y1, x2, y2 = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        x1, y1, x2, y2 = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    else:
        x1, y1, x2, y2 = a, b, c, d
    if out_fmt == "xywh":
        return torch.stack([x1, y1, x2 - x1, y2 - y1], -1)
    if out_fmt == "cxcywh":
        return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], -1)
    return torch.stack([x1, y1, x2, y2], -1)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas (...,) of boxes (..., 4) in ``xyxy`` form."""
    check_boxes("box_area", "boxes", boxes)
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def _inter_union(boxes1, boxes2):
    """Intersection and union areas of boxes that broadcast against each other."""
    top_left = torch.maximum(boxes1[..., :2], boxes2[..., :2])
    bottom_right = torch.minimum(boxes1[..., 2:], boxes2[..., 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter, area(boxes1) + area(boxes2) - inter


def _enclosing_area(boxes1, boxes2):
    """Area of the smallest box enclosing each pair (broadcast)."""
    top_left = torch.minimum(boxes1[..., :2], boxes2[..., :2])
    bottom_right = torch.maximum(boxes1[..., 2:], boxes2[..., 2:])
    wh = bottom_right - top_left
    return wh[..., 0] * wh[..., 1]


def _pairwise(fn, boxes1, boxes2):
    for name, boxes in (("boxes1", boxes1), ("boxes2", boxes2)):
        check_boxes(fn, name, boxes)
        if boxes.dim() != 2:
            raise ValueError(f"{fn}: {name} must be 2-D (N, 4); got shape {tuple(boxes.shape)}")
    return boxes1[:, None, :], boxes2[None, :, :]


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """IoU of every pair: boxes1 (N, 4), boxes2 (M, 4) -> (N, M)."""
    a, b = _pairwise("box_iou", boxes1, boxes2)
    inter, union = _inter_union(a, b)
    return inter / union


def generalized_box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """GIoU of every pair (Rezatofighi et al., 2019): (N, 4), (M, 4) -> (N, M)."""
    a, b = _pairwise("generalized_box_iou", boxes1, boxes2)
    inter, union = _inter_union(a, b)
    enclosing = _enclosing_area(a, b)
    return inter / union - (enclosing - union) / enclosing


def elementwise_box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """IoU of matched pairs: boxes1 and boxes2 (..., 4) of one shape -> (...,). The localisation metric."""
    _matched("elementwise_box_iou", boxes1, boxes2, ("boxes1", "boxes2"))
    inter, union = _inter_union(boxes1, boxes2)
    return inter / union


def masks_to_boxes(masks: torch.Tensor) -> torch.Tensor:
    """The tightest box (N, 4) around each mask (N, H, W), as torchvision: first and
    last pixel indices (inclusive), ``[0, 0, 0, 0]`` for an empty mask."""
    if not isinstance(masks, torch.Tensor) or masks.dim() != 3:
        shape = tuple(masks.shape) if isinstance(masks, torch.Tensor) else type(masks).__name__
        raise ValueError(f"masks_to_boxes: masks must be a 3-D tensor (N, H, W); got {shape}")
    masks = masks.bool()
    rows, cols = masks.any(2), masks.any(1)  # (N, H), (N, W): which rows / columns hold a pixel

    def first_last(hit):
        index = torch.arange(hit.shape[1], device=hit.device)
        first = torch.where(hit, index, hit.shape[1]).amin(1) if hit.shape[1] else index.new_zeros(len(hit))
        last = torch.where(hit, index, -1).amax(1) if hit.shape[1] else index.new_zeros(len(hit))
        return first, last

    (y1, y2), (x1, x2) = first_last(rows), first_last(cols)
    boxes = torch.stack([x1, y1, x2, y2], 1).float()
    boxes[~rows.any(1)] = 0
    return boxes


def _reduce(fn, loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean() if loss.numel() else loss.sum() * 0.0
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{fn}: reduction must be one of {REDUCTIONS}; got {reduction!r}")


def _matched(fn, pred, target, names=("pred", "target")):
    check_boxes(fn, names[0], pred)
    check_boxes(fn, names[1], target)
    if pred.shape != target.shape:
        raise ValueError(f"{fn}: {names[0]} and {names[1]} must have the same shape (one to one); "
                         f"got {tuple(pred.shape)} and {tuple(target.shape)}")


def iou_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean", eps: float = 1e-7) -> torch.Tensor:
    """1 - IoU of matched boxes (..., 4): zero for a perfect box, one (and no gradient) once they stop overlapping."""
    _matched("iou_loss", pred, target)
    inter, union = _inter_union(pred, target)
    return _reduce("iou_loss", 1 - inter / (union + eps), reduction)


def giou_loss(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean", eps: float = 1e-7) -> torch.Tensor:
    """1 - GIoU of matched boxes (..., 4), in [0, 2): as ``torchvision.ops.generalized_box_iou_loss``."""
    _matched("giou_loss", pred, target)
    inter, union = _inter_union(pred, target)
    enclosing = _enclosing_area(pred, target)
    giou = inter / (union + eps) - (enclosing - union) / (enclosing + eps)
    return _reduce("giou_loss", 1 - giou, reduction)
