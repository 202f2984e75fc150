"""Classification + localisation: one network, two heads, two losses.

The lecture's first step beyond classification: the label of an image is a
class *and* the box (x1, y1, x2, y2) of its one object, in pixels. A shared
convolutional backbone feeds

* a class head: logits (N, C), trained with cross-entropy;
* a box head: four numbers (N, 4), trained with a regression loss, either
  ``||[x, y, w, h]^ - [x, y, w, h]||^2`` or ``1 - IoU`` (the lecture's two
  examples), or ``1 - GIoU`` (Rezatofighi et al., 2019), which keeps a gradient
  when the boxes do not overlap.

OverFeat (Sermanet et al., 2014) trains the box regressor on top of the
classifier's features the same way. The network of this module predicts the box
relative to the image: ``sigmoid`` of the head gives ``(cx, cy, w, h)`` in
[0, 1], multiplied by the image's width and height and converted to pixel
``xyxy``. The box can therefore reach past the border (cx = 0.9, w = 0.5),
never be inverted (w, h >= 0), and starts centred, half the image wide.

The backbone is :func:`cnncourse.backbone.conv_backbone`, shared with the
pose, depth and relocalisation heads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.backbone import WIDTHS, check_images, conv_backbone, fc_head, image_size_pair
from cnncourse.boxes import box_convert, check_boxes, elementwise_box_iou, giou_loss, iou_loss
from cnncourse.layers import global_avg_pool2d
from cnncourse.layers._args import pair

BOX_LOSSES = ("l2", "iou", "giou")


class Localizer(nn.Module):
    """Classifier and box regressor on one backbone: (N, C_in, H, W) -> (logits (N, C), boxes (N, 4)).

    The backbone is :func:`~cnncourse.backbone.conv_backbone`. The class head
    is linear on its global average pool, (N, widths[-1]): *what* is in the
    image, wherever it is. The box head is :func:`~cnncourse.backbone.fc_head`
    on the flattened map (a hidden layer of ``hidden`` units), because the
    average pool throws away *where* the features are, and the box is a
    where. ``boxes`` are pixel ``xyxy`` for an image of ``image_size`` (an int
    or (H, W)): the box head's ``sigmoid`` gives ``(cx, cy, w, h)`` as
    fractions of the image (see the module docstring).
    """

    def __init__(self, num_classes, in_channels=3, widths=WIDTHS, image_size=64, hidden=256):
        super().__init__()
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
            raise ValueError(f"Localizer: num_classes must be a positive int; got {num_classes!r}")
        self.in_channels = in_channels
        self.image_size = image_size_pair("Localizer", image_size, 2 ** len(widths))
        self.features = conv_backbone(in_channels, widths)
        self.classifier = nn.Linear(widths[-1], num_classes)
        cells = (self.image_size[0] >> len(widths)) * (self.image_size[1] >> len(widths))
        self.box_head = fc_head(widths[-1], cells, 4, hidden)

    def forward(self, x):
        check_images("Localizer", x, self.in_channels, self.image_size)
        features = self.features(x)  # (N, widths[-1], H / 2^L, W / 2^L)
        h, w = self.image_size
        relative = torch.sigmoid(self.box_head(features))  # (cx, cy, w, h) / (W, H, W, H)
        boxes = box_convert(relative * relative.new_tensor([w, h, w, h]), "cxcywh", "xyxy")
        return self.classifier(global_avg_pool2d(features).flatten(1)), boxes


def _check_pairs(fn, logits, boxes, labels, target_boxes):
    """logits (N, C), labels (N,), boxes and target_boxes (N, 4), xyxy."""
    for name, value in (("logits", logits), ("labels", labels)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{fn}: {name} must be a torch.Tensor; got {type(value).__name__}")
    if logits.dim() != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f"{fn}: logits must be (N, C) and labels (N,); got {tuple(logits.shape)} and "
                         f"{tuple(labels.shape)}")
    check_boxes(fn, "target_boxes", target_boxes)
    check_boxes(fn, "boxes", boxes)
    if boxes.shape != (len(logits), 4) or target_boxes.shape != boxes.shape:
        raise ValueError(f"{fn}: boxes and target_boxes must be (N, 4) with N = {len(logits)} (the logits' batch); "
                         f"got {tuple(boxes.shape)} and {tuple(target_boxes.shape)}")


def localization_loss(logits, boxes, labels, target_boxes, box_loss="l2", box_weight=1.0, image_size=None):
    """Cross-entropy of the class plus ``box_weight`` times the box loss, each averaged over the batch.

    ``logits`` (N, C), ``labels`` (N,) int; ``boxes``, ``target_boxes`` (N, 4)
    pixel xyxy. ``box_loss``:

    * ``"l2"``: ``||b^ - b||^2`` summed over ``b = (cx / W, cy / H, w / W, h / H)``,
      the lecture's ``||[x, y, w, h]^ - [x, y, w, h]||^2`` on coordinates
      divided by the image size (``image_size``, an int or (H, W), is needed
      for it), so that the term is O(1) like the cross-entropy and the IoU losses;
    * ``"iou"``: ``1 - IoU``, scale-free, zero for a perfect box, but without a
      gradient once the boxes stop overlapping;
    * ``"giou"``: ``1 - GIoU`` (Rezatofighi et al., 2019), in [0, 2).

    Both box tensors must have x2 >= x1 and y2 >= y1.
    """
    fn = "localization_loss"
    if box_loss not in BOX_LOSSES:
        raise ValueError(f"{fn}: box_loss must be one of {BOX_LOSSES}; got {box_loss!r}")
    _check_pairs(fn, logits, boxes, labels, target_boxes)
    classification = F.cross_entropy(logits, labels)
    if box_loss == "iou":
        regression = iou_loss(boxes, target_boxes)
    elif box_loss == "giou":
        regression = giou_loss(boxes, target_boxes)
    else:
        if image_size is None:
            raise ValueError(f"{fn}: box_loss='l2' needs image_size (an int or (H, W)) to normalise the coordinates")
        h, w = pair(fn, "image_size", image_size)
        scale = boxes.new_tensor([w, h, w, h])
        diff = (box_convert(boxes, "xyxy", "cxcywh") - box_convert(target_boxes, "xyxy", "cxcywh")) / scale
        regression = diff.pow(2).sum(1).mean()
    return classification + box_weight * regression


def localization_accuracy(logits, boxes, labels, target_boxes, iou_threshold=0.5):
    """Fraction of images whose class is right *and* whose box has IoU >= ``iou_threshold`` with the truth.

    The ILSVRC localisation criterion (Russakovsky et al., 2015) with one guess
    per image; a float in [0, 1]. Shapes as :func:`localization_loss`.
    """
    _check_pairs("localization_accuracy", logits, boxes, labels, target_boxes)
    hit = (logits.argmax(1) == labels) & (elementwise_box_iou(boxes, target_boxes) >= iou_threshold)
    return hit.float().mean().item()
