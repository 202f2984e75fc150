"""Which anchor learns which object: IoU matching, and the balanced sample of a training step.

Faster R-CNN (Ren et al., 2015) labels an anchor **positive** if its IoU with
some ground-truth box is at least 0.7, **negative** if its IoU with every
box is below 0.3, and ignores the rest; so that no object is left without
an anchor, the anchor(s) with the highest IoU for each object are positive
too, whatever that IoU ("low-quality matches"). Each image then contributes
256 anchors to the loss, up to half of them positive.

:class:`Matcher` and :func:`sample_balanced` follow torchvision's
``Matcher`` and ``BalancedPositiveNegativeSampler``: the same matches, and,
from the same random state, the same sample.
"""

from __future__ import annotations

import torch

BELOW_LOW, BETWEEN = -1, -2  # the Matcher's codes: negative, and ignored


class Matcher:
    """``matcher(iou)`` for iou (G, N), ground truths by predictions: (N,) index of each prediction's object.

    ``>= high_threshold``: the best object's index; ``< low_threshold``:
    ``BELOW_LOW`` (-1, background); in between: ``BETWEEN`` (-2, ignored).
    With ``allow_low_quality_matches``, every prediction that ties for the
    highest IoU with some object keeps its best match whatever its IoU.
    """

    def __init__(self, high_threshold: float, low_threshold: float, allow_low_quality_matches: bool = False):
        if not 0 <= low_threshold <= high_threshold <= 1:
            raise ValueError(f"Matcher: need 0 <= low_threshold <= high_threshold <= 1; got low {low_threshold}, "
                             f"high {high_threshold}")
        self.high, self.low, self.low_quality = high_threshold, low_threshold, allow_low_quality_matches

    def __call__(self, iou: torch.Tensor) -> torch.Tensor:
        if not isinstance(iou, torch.Tensor) or iou.dim() != 2:
            raise ValueError(f"Matcher: iou must be a (G, N) matrix, ground truths by predictions; got "
                             f"{tuple(iou.shape) if isinstance(iou, torch.Tensor) else type(iou).__name__}")
        if iou.numel() == 0:
            what = "ground-truth boxes" if iou.shape[0] == 0 else "predictions"
            raise ValueError(f"Matcher: no {what} to match (iou has shape {tuple(iou.shape)})")
        best, matches = iou.max(dim=0)  # each prediction's best object
        result = matches.clone()
        result[best < self.low] = BELOW_LOW
        result[(best >= self.low) & (best < self.high)] = BETWEEN
        if self.low_quality:
            # the predictions that reach some object's highest IoU keep their best match
            tops = (iou == iou.max(dim=1, keepdim=True).values).nonzero()[:, 1]
            result[tops] = matches[tops]
        return result


def sample_balanced(labels, batch_size_per_image: int, positive_fraction: float):
    """Per image, at most ``batch_size_per_image`` labelled examples, up to ``positive_fraction`` positive.

    ``labels``: a list of (N_i,) tensors, >= 1 positive, 0 negative, -1 ignored.
    Positives and negatives are drawn uniformly (``torch.randperm``); when
    there are too few positives, negatives fill the batch. Returns two lists
    of (N_i,) uint8 masks: the positives and the negatives chosen.
    """
    if not 0 <= positive_fraction <= 1:
        raise ValueError(f"sample_balanced: positive_fraction must be in [0, 1]; got {positive_fraction!r}")
    positives, negatives = [], []
    for image_labels in labels:
        pos, neg = (image_labels >= 1).nonzero().flatten(), (image_labels == 0).nonzero().flatten()
        num_pos = min(pos.numel(), int(batch_size_per_image * positive_fraction))
        num_neg = min(neg.numel(), batch_size_per_image - num_pos)
        chosen_pos = pos[torch.randperm(pos.numel(), device=pos.device)[:num_pos]]
        chosen_neg = neg[torch.randperm(neg.numel(), device=neg.device)[:num_neg]]
        for masks, chosen in ((positives, chosen_pos), (negatives, chosen_neg)):
            mask = torch.zeros_like(image_labels, dtype=torch.uint8)
            mask[chosen] = 1
            masks.append(mask)
    return positives, negatives
