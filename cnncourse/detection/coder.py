"""The box coder: a box as offsets from a reference box (an anchor or a proposal), and back.

R-CNN (Girshick et al., 2014, appendix C) regresses, for a proposal P and its
ground-truth box G (centres x, y, widths w, heights h),

    tx = (Gx - Px) / Pw,   ty = (Gy - Py) / Ph,   tw = log(Gw / Pw),   th = log(Gh / Ph),

scale-invariant shifts and log-space size changes, the targets of Fast and
Faster R-CNN's box heads too. The weights (wx, wy, ww, wh) multiply the
targets (Fast R-CNN's box head uses (10, 10, 5, 5), the RPN (1, 1, 1, 1)) so
that they have about unit variance. Decoding clamps tw, th at
``log(1000 / 16)`` so that an untrained head cannot overflow ``exp``.
Conventions of torchvision's ``BoxCoder`` (``encode_single``, ``decode_single``).
"""

from __future__ import annotations

import math

import torch

from cnncourse.boxes import check_boxes

CLIP = math.log(1000.0 / 16)


def _centres(boxes):
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * widths, boxes[:, 1] + 0.5 * heights, widths, heights


class BoxCoder:
    """``encode(boxes, references)`` -> (N, 4) targets; ``decode(codes, references)`` -> (N, 4) boxes."""

    def __init__(self, weights=(1.0, 1.0, 1.0, 1.0), clip: float = CLIP):
        if len(weights) != 4 or any(not isinstance(w, (int, float)) or w <= 0 for w in weights):
            raise ValueError(f"BoxCoder: weights must be four positive numbers (wx, wy, ww, wh); got {weights!r}")
        self.weights, self.clip = tuple(float(w) for w in weights), clip

    def encode(self, boxes: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
        """Targets (N, 4) = (tx, ty, tw, th) * weights of ``boxes`` (N, 4) against ``references`` (N, 4), xyxy."""
        for name, value in (("boxes", boxes), ("references", references)):
            check_boxes("BoxCoder.encode", name, value)
        if boxes.shape != references.shape or boxes.dim() != 2:
            raise ValueError(f"BoxCoder.encode: boxes and references must both be (N, 4); got "
                             f"{tuple(boxes.shape)} and {tuple(references.shape)}")
        wx, wy, ww, wh = self.weights
        gx, gy, gw, gh = _centres(boxes)
        px, py, pw, ph = _centres(references)
        return torch.stack([wx * (gx - px) / pw, wy * (gy - py) / ph, ww * torch.log(gw / pw),
                            wh * torch.log(gh / ph)], 1)

    def decode(self, codes: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
        """Boxes (N, 4) xyxy from ``codes`` (N, 4) relative to ``references`` (N, 4): the inverse of ``encode``."""
        check_boxes("BoxCoder.decode", "references", references)
        if codes.dim() != 2 or codes.shape != references.shape:
            raise ValueError(f"BoxCoder.decode: codes and references must both be (N, 4); got "
                             f"{tuple(codes.shape)} and {tuple(references.shape)}")
        references = references.to(codes.dtype)
        wx, wy, ww, wh = self.weights
        px, py, pw, ph = _centres(references)
        dx, dy = codes[:, 0] / wx, codes[:, 1] / wy
        dw, dh = (codes[:, 2] / ww).clamp(max=self.clip), (codes[:, 3] / wh).clamp(max=self.clip)
        cx, cy = dx * pw + px, dy * ph + py
        half_w, half_h = 0.5 * torch.exp(dw) * pw, 0.5 * torch.exp(dh) * ph
        return torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], 1)
