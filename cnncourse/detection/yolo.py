"""YOLO v1 (Redmon et al., 2016): detection as one regression over an S x S grid.

The image is divided into S x S cells; the cell that contains an object's
centre is *responsible* for it. Each cell predicts B boxes, each
``(x, y, w, h, confidence)``, and one set of C class probabilities: an
output of S x S x (5B + C) numbers (7 x 7 x 30 in the paper, S = 7, B = 2,
C = 20). ``x, y`` are the centre's offset within the cell, in [0, 1];
``w, h`` are fractions of the image. In a tensor (N, S, S, 5B + C) the
boxes come first, then the classes.

The loss (the paper's eq. 3) is a sum of squared errors: the coordinates of
the responsible predictor (the one of the cell's B boxes with the highest
IoU with the object) weighted by ``lambda_coord`` = 5, with square roots of
w and h so that an error matters more in a small box; its confidence against
that IoU; the confidences of all other predictors against 0, weighted by
``lambda_noobj`` = 0.5; and the class probabilities of cells that hold an
object. One object per cell: if two centres fall in one cell, the later
one is kept (the paper states a related limit: each cell predicts only B
boxes and one class, which makes small objects in groups hard).
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.backbone import WIDTHS, check_images, conv_backbone, fc_head, image_size_pair
from cnncourse.boxes import box_convert, check_boxes, elementwise_box_iou
from cnncourse.detection.nms import batched_nms
from cnncourse.detection.scenes import NUM_CLASSES
from cnncourse.layers import Conv2d, ConvBNAct

GRID, BOXES_PER_CELL = 7, 2  # the paper's S and B
YOLO_HEADS = ("fully_connected", "convolutional")
EPS = 1e-8


def _check_grid(fn, grid, boxes_per_cell, num_classes):
    for name, value in (("grid", grid), ("boxes_per_cell", boxes_per_cell), ("num_classes", num_classes)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{fn}: {name} must be a positive int; got {value!r}")


def yolo_targets(boxes, labels, image_size: int, grid: int = 7, num_classes: int = 20) -> torch.Tensor:
    """The target tensor (N, S, S, 5 + C): per cell ``(x, y, w, h, has_object)`` and the class, one-hot.

    ``boxes``: a list of N (K_n, 4) xyxy tensors in pixels of a square image of
    ``image_size``; ``labels``: a list of N (K_n,) tensors in [0, C).
    """
    fn = "yolo_targets"
    _check_grid(fn, grid, 1, num_classes)
    if len(boxes) != len(labels):
        raise ValueError(f"{fn}: boxes and labels must be lists of one tensor per image; got {len(boxes)} and "
                         f"{len(labels)}")
    target = torch.zeros(len(boxes), grid, grid, 5 + num_classes)
    for n, (b, l) in enumerate(zip(boxes, labels)):
        check_boxes(fn, f"boxes[{n}]", b.reshape(-1, 4))
        if len(b) != len(l):
            raise ValueError(f"{fn}: image {n} has {len(b)} boxes but {len(l)} labels")
        if len(l) and (l.min() < 0 or l.max() >= num_classes):
            raise ValueError(f"{fn}: labels must be in [0, {num_classes}) (num_classes); image {n} has "
                             f"{l.tolist()}")
        centre = box_convert(b.float().reshape(-1, 4), "xyxy", "cxcywh") / image_size  # fractions of the image
        cells = (centre[:, :2] * grid).floor().clamp(0, grid - 1).long()  # (K, 2): column, row
        for (cx, cy, w, h), (col, row), label in zip(centre.tolist(), cells.tolist(), l.tolist()):
            target[n, row, col, :5] = torch.tensor([cx * grid - col, cy * grid - row, w, h, 1.0])
            target[n, row, col, 5:] = 0.0
            target[n, row, col, 5 + label] = 1.0
    return target


def cell_boxes(predictions: torch.Tensor, image_size: int) -> torch.Tensor:
    """Pixel xyxy boxes (N, S, S, B, 4) of cell-relative ``(x, y, w, h)`` predictions (N, S, S, B, 4)."""
    S = predictions.shape[1]
    rows, cols = torch.meshgrid(torch.arange(S, device=predictions.device),
                                torch.arange(S, device=predictions.device), indexing="ij")
    cx = (predictions[..., 0] + cols[None, :, :, None]) / S
    cy = (predictions[..., 1] + rows[None, :, :, None]) / S
    centre = torch.stack([cx, cy, predictions[..., 2], predictions[..., 3]], -1)
    return box_convert(centre * image_size, "cxcywh", "xyxy")


def _split(fn, output, boxes_per_cell, num_classes):
    if output.dim() != 4 or output.shape[1] != output.shape[2] or output.shape[-1] != 5 * boxes_per_cell + num_classes:
        raise ValueError(f"{fn}: output must be (N, S, S, 5B + C) = (N, S, S, {5 * boxes_per_cell + num_classes}) "
                         f"for B = {boxes_per_cell}, C = {num_classes}; got {tuple(output.shape)}")
    predicted = output[..., :5 * boxes_per_cell].unflatten(-1, (boxes_per_cell, 5))  # (N, S, S, B, 5)
    return predicted, output[..., 5 * boxes_per_cell:]


def yolo_loss_terms(output: torch.Tensor, target: torch.Tensor, boxes_per_cell: int = 2, lambda_coord: float = 5.0,
                    lambda_noobj: float = 0.5) -> dict:
    """The four terms of :func:`yolo_loss`, each summed over the batch and divided by N.

    ``loss_coord`` (the responsible predictors' centres and square-rooted
    sizes, times ``lambda_coord``), ``loss_object`` (their confidences against
    their IoUs), ``loss_noobj`` (every other predictor's confidence against 0,
    times ``lambda_noobj``) and ``loss_class`` (the class probabilities of the
    cells that hold an object).
    """
    fn = "yolo_loss"
    for name, value in (("output", output), ("target", target)):
        if not isinstance(value, torch.Tensor) or value.dim() != 4:
            got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"{fn}: {name} must be a 4-d tensor (N, S, S, channels); got {got}")
    num_classes = target.shape[-1] - 5
    _check_grid(fn, output.shape[1], boxes_per_cell, max(num_classes, 0))
    predicted, classes = _split(fn, output, boxes_per_cell, num_classes)
    if target.shape[:3] != output.shape[:3]:
        raise ValueError(f"{fn}: target must be (N, S, S, 5 + C) with the output's N, S: {tuple(output.shape[:3])}; "
                         f"got {tuple(target.shape)}")
    has_object = target[..., 4] > 0  # (N, S, S)
    truth = target[..., None, :4].expand_as(predicted[..., :4])  # (N, S, S, B, 4)
    with torch.no_grad():  # which predictor is responsible: the best IoU with the object
        ious = elementwise_box_iou(cell_boxes(predicted[..., :4].clamp(min=0), 1).reshape(-1, 4),
                                   cell_boxes(truth, 1).reshape(-1, 4)).view(predicted.shape[:4])
        responsible = torch.zeros_like(ious, dtype=torch.bool).scatter_(-1, ious.argmax(-1, keepdim=True), True)
        responsible &= has_object[..., None]
    xy = (predicted[..., :2] - truth[..., :2]).pow(2).sum(-1)
    wh = (predicted[..., 2:4].clamp(min=EPS).sqrt() - truth[..., 2:4].sqrt()).pow(2).sum(-1)
    confidence = predicted[..., 4]
    n = len(output)
    return {"loss_coord": lambda_coord * (xy + wh)[responsible].sum() / n,
            "loss_object": (confidence - ious)[responsible].pow(2).sum() / n,
            "loss_noobj": lambda_noobj * confidence[~responsible].pow(2).sum() / n,
            "loss_class": (classes - target[..., 5:])[has_object].pow(2).sum() / n}


def yolo_loss(output: torch.Tensor, target: torch.Tensor, boxes_per_cell: int = 2, lambda_coord: float = 5.0,
              lambda_noobj: float = 0.5) -> torch.Tensor:
    """The YOLO v1 sum-squared loss of ``output`` (N, S, S, 5B + C) against :func:`yolo_targets`, over the batch.

    Summed over cells and predictors and divided by N: the sum of
    :func:`yolo_loss_terms`. Widths and heights enter through their square
    roots (clamped at ``EPS`` from below: the square root's gradient is
    infinite at 0).
    """
    return sum(yolo_loss_terms(output, target, boxes_per_cell, lambda_coord, lambda_noobj).values())


@torch.no_grad()
def yolo_decode(output: torch.Tensor, image_size: int, boxes_per_cell: int = 2, score_threshold: float = 0.2,
                iou_threshold: float = 0.5) -> list[dict]:
    """Detections per image, torchmetrics' format (``boxes`` xyxy pixels, ``scores``, ``labels``).

    A box's score for class c is its confidence times the cell's
    probability of c (the paper's class-specific confidence); each box keeps
    its best class, those above ``score_threshold`` go through per-class NMS.
    Boxes are clipped to the image. Labels are the class indices 0..C - 1.
    """
    num_classes = output.shape[-1] - 5 * boxes_per_cell
    predicted, classes = _split("yolo_decode", output, boxes_per_cell, num_classes)
    boxes = cell_boxes(predicted[..., :4], image_size)  # (N, S, S, B, 4)
    scores, labels = (predicted[..., 4:5] * classes[..., None, :]).max(-1)  # (N, S, S, B)
    detections = []
    for b, s, l in zip(boxes.flatten(1, 3), scores.flatten(1), labels.flatten(1)):
        keep = s > score_threshold
        b, s, l = b[keep], s[keep], l[keep]
        b = torch.stack([b[:, 0], b[:, 1], torch.maximum(b[:, 2], b[:, 0]), torch.maximum(b[:, 3], b[:, 1])], 1)
        b = b.clamp(0, image_size)
        kept = batched_nms(b, s, l, iou_threshold)
        detections.append({"boxes": b[kept], "scores": s[kept], "labels": l[kept]})
    return detections


class YOLO(nn.Module):
    """YOLO v1 on the course's backbone: (N, 3, S', S') images -> (N, S, S, 5B + C), S = ``grid``.

    ``head`` reads the convolutional stages (:func:`~cnncourse.backbone.conv_backbone`):

    * ``"fully_connected"``, the paper's: two fully connected layers
      (:func:`~cnncourse.backbone.fc_head`, ``hidden`` units), so that every
      cell's prediction sees the whole image (the paper: 24 convolutional
      layers and two fully connected ones on 448x448 images, S = 7);
    * ``"convolutional"``: two 3x3 conv-BN-ReLU layers of ``hidden`` channels
      and a 1x1 convolution, one cell per position of the backbone's map (S
      is the map's size), as YOLO v2 (Redmon & Farhadi, 2017) did.

    The paper's last layer is linear; ours passes the box numbers and
    confidences through a sigmoid and the class probabilities through a
    softmax, which keeps each in its range (YOLO v2 likewise uses a sigmoid for
    the centre and the confidence and a softmax for the classes).

    Torchvision's detection interface: in training mode ``forward(images,
    targets)`` returns the four terms of :func:`yolo_loss_terms` (targets'
    labels 1..C, 0 being the background); in eval mode one dict of
    ``boxes``, ``scores`` and ``labels`` (1..C) per image, from
    :func:`yolo_decode` at ``score_thresh`` and ``nms_thresh``.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, widths=WIDTHS[:3], image_size: int = 64,
                 head: str = "fully_connected", grid: int | None = None, boxes_per_cell: int = BOXES_PER_CELL,
                 hidden: int = 256, score_thresh: float = 0.05, nms_thresh: float = 0.5, lambda_coord: float = 5.0,
                 lambda_noobj: float = 0.5):
        super().__init__()
        stride = 2 ** len(widths)
        if isinstance(image_size, (tuple, list)):
            raise ValueError(f"YOLO: image_size must be one int (square images); got {image_size!r}")
        image_size_pair("YOLO", image_size, stride)  # a positive multiple of the stride
        cells = image_size // stride
        if head not in YOLO_HEADS:
            raise ValueError(f"YOLO: head must be one of {YOLO_HEADS}; got {head!r}")
        grid = (GRID if head == "fully_connected" else cells) if grid is None else grid
        _check_grid("YOLO", grid, boxes_per_cell, num_classes)
        if head == "convolutional" and grid != cells:
            raise ValueError(f"YOLO: a convolutional head predicts one cell per position of the {cells}x{cells} "
                             f"map, so grid must be {cells}; got {grid}")
        self.image_size, self.grid = image_size, grid
        self.boxes_per_cell, self.num_classes = boxes_per_cell, num_classes
        self.score_thresh, self.nms_thresh = score_thresh, nms_thresh
        self.lambda_coord, self.lambda_noobj = lambda_coord, lambda_noobj
        outputs = 5 * boxes_per_cell + num_classes
        self.backbone = conv_backbone(3, widths)
        if head == "fully_connected":
            self.head = nn.Sequential(fc_head(widths[-1], cells * cells, grid * grid * outputs, hidden),
                                      nn.Unflatten(1, (grid, grid, outputs)))
        else:
            self.head = nn.Sequential(ConvBNAct(widths[-1], hidden), ConvBNAct(hidden, hidden),
                                      Conv2d(hidden, outputs, 1), Permute(0, 2, 3, 1))

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """The output tensor (N, S, S, 5B + C): per cell B times (x, y, w, h, confidence), then C probabilities."""
        check_images(type(self).__name__, images, 3, size=(self.image_size, self.image_size))
        out = self.head(self.backbone(images))
        boxes = 5 * self.boxes_per_cell
        return torch.cat([out[..., :boxes].sigmoid(), out[..., boxes:].softmax(-1)], -1)

    def forward(self, images: torch.Tensor, targets=None):
        output = self.predict(images)
        if self.training:
            if targets is None:
                raise ValueError("YOLO: training mode needs targets, one dict with 'boxes' and 'labels' per image; "
                                 "got None")
            target = yolo_targets([t["boxes"] for t in targets], [t["labels"] - 1 for t in targets],
                                  self.image_size, self.grid, self.num_classes).to(output)
            return yolo_loss_terms(output, target, self.boxes_per_cell, self.lambda_coord, self.lambda_noobj)
        detections = yolo_decode(output, self.image_size, self.boxes_per_cell, self.score_thresh, self.nms_thresh)
        return [{**d, "labels": d["labels"] + 1} for d in detections]


class Permute(nn.Module):
    """``x.permute(*dims)`` as a layer: a convolutional head's (N, K, S, S) as YOLO's (N, S, S, K)."""

    def __init__(self, *dims: int):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)
