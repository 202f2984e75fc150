"""Two-stage detectors on one shared feature map: SPP-net, Fast R-CNN and Faster R-CNN.

R-CNN (Girshick et al., 2014) ran a CNN on every warped proposal. SPP-net
(He et al., 2014) computed the feature map of the image once and pooled each
proposal's part of it with a spatial pyramid. Fast R-CNN (Girshick, 2015)
pooled with RoI pooling and trained the classifier and the box regressor
jointly, end to end, on the same map. Faster R-CNN (Ren et al., 2015)
replaced selective search by a region proposal network on that map, so the
proposals cost almost nothing. :class:`TwoStageDetector` is all three:

* ``rpn=None``: proposals come with the images (``forward(images, targets,
  proposals)``), as in SPP-net and Fast R-CNN;
* a :class:`~cnncourse.detection.rpn.RegionProposalNetwork`: Faster R-CNN,
  four losses (objectness, proposal boxes, classes, final boxes).

The interface is torchvision's: in training mode ``forward`` returns the
dict of losses, in eval mode one dict of ``boxes``, ``scores`` and
``labels`` per image. :func:`two_stage` builds them from the table
``DETECTORS`` on :func:`cnncourse.backbone.conv_backbone`.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.backbone import check_images, conv_backbone
from cnncourse.detection.roi_heads import RoIHeads
from cnncourse.detection.rpn import RegionProposalNetwork
from cnncourse.detection.scenes import NUM_CLASSES

# name -> how its regions are pooled and where its proposals come from
DETECTORS = {
    "spp_net": {"pooler": "spp", "rpn": False},
    "fast_rcnn": {"pooler": "roi_pool", "rpn": False},
    "faster_rcnn": {"pooler": "roi_pool", "rpn": True},
}
WIDTHS = (16, 32, 64)  # the backbone: stride 8, an 8x8 map for a 64x64 scene
ANCHOR_SIZES, ASPECT_RATIOS = (16, 24, 32), (0.5, 1.0, 2.0)  # nine anchors per cell, the paper's 3 x 3 scaled down


class TwoStageDetector(nn.Module):
    """Backbone, optional RPN, RoI heads; see the module docstring. Images (N, 3, H, W) with H, W multiples of the stride."""

    def __init__(self, backbone: nn.Module, roi_heads: RoIHeads, rpn: RegionProposalNetwork | None = None,
                 stride: int = 8):
        super().__init__()
        self.backbone, self.rpn, self.roi_heads, self.stride = backbone, rpn, roi_heads, stride

    def forward(self, images: torch.Tensor, targets=None, proposals=None):
        check_images(type(self).__name__, images, 3, multiple=self.stride)
        if self.training and targets is None:
            raise ValueError(f"{type(self).__name__}: training mode needs targets, one dict with 'boxes' and "
                             f"'labels' per image; got None")
        if (self.rpn is None) == (proposals is None):
            need = "no proposals (its RPN makes them)" if self.rpn is not None else "proposals, a list of (P, 4)"
            raise ValueError(f"{type(self).__name__}: this detector takes {need}; got "
                             f"{'none' if proposals is None else type(proposals).__name__}")
        size = tuple(images.shape[-2:])
        features = self.backbone(images)
        losses = {}
        if self.rpn is not None:
            proposals, _, losses = self.rpn(features, size, targets)
        else:
            if len(proposals) != len(images):
                raise ValueError(f"{type(self).__name__}: proposals must hold one (P, 4) tensor per image, "
                                 f"{len(images)}; got {len(proposals)}")
            proposals = [p.to(features) for p in proposals]
        detections, head_losses = self.roi_heads(features, proposals, size, targets)
        return {**losses, **head_losses} if self.training else detections


def two_stage(name: str, num_classes: int = NUM_CLASSES, widths=WIDTHS, representation: int = 256,
              output_size: int = 4, rois_per_image: int = 32) -> TwoStageDetector:
    """``"spp_net"``, ``"fast_rcnn"`` or ``"faster_rcnn"`` (``DETECTORS``) for ``num_classes`` object classes.

    ``rois_per_image``: the RoI-centric mini-batch per image (Fast R-CNN: 64,
    from 2 images of 128; our scenes hold at most three objects).
    """
    if name not in DETECTORS:
        raise ValueError(f"two_stage: name must be one of {sorted(DETECTORS)}; got {name!r}")
    config = DETECTORS[name]
    stride = 2 ** len(widths)
    heads = RoIHeads(widths[-1], num_classes + 1, 1 / stride, config["pooler"], output_size, representation,
                     batch_size_per_image=rois_per_image)
    rpn = RegionProposalNetwork(widths[-1], ANCHOR_SIZES, ASPECT_RATIOS) if config["rpn"] else None
    return TwoStageDetector(conv_backbone(3, widths), heads, rpn, stride)
