"""Position-sensitive RoI pooling: each bin of a box reads its own group of channels (Dai et al., 2016).

R-FCN, and FCIS for instance masks (Li et al., 2017), make a fully
convolutional network output k x k groups of score maps, each group for one
relative position in an object (top-left, top-centre, ..., bottom-right). A
box is cut into k x k bins and bin (i, j) pools only the maps of group
(i, j): its output is "how much this part of the box looks like that part
of an object". FCIS assembles inside and outside score maps this way into
an instance mask.

``input`` (N, C_out * k_h * k_w, H, W) -> (K, C_out, k_h, k_w): bin (i, j) of
output channel c reads input channel ``(c * k_h + i) * k_w + j``. Equal to
``torchvision.ops.ps_roi_pool`` (mean of the bin's cells, corners rounded)
and ``ps_roi_align`` (bilinear points, boxes shifted by half a cell).
"""

from __future__ import annotations

import torch

from cnncourse.detection.roi import _align, _output_size, _pool, _rois


def _groups(fn, input, output_size):
    out_h, out_w = _output_size(fn, output_size)
    if input.shape[1] % (out_h * out_w):
        raise ValueError(f"{fn}: input must have C_out * {out_h} * {out_w} channels (one group per bin); got "
                         f"{input.shape[1]}")
    return out_h, out_w


def _assemble(pooled: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    """(K, C_out * k_h * k_w, k_h, k_w) pooled from every channel -> (K, C_out, k_h, k_w): bin (i, j) from group (i, j)."""
    K, C = pooled.shape[:2]
    groups = pooled.reshape(K, C // (out_h * out_w), out_h, out_w, out_h, out_w)
    return groups.diagonal(dim1=2, dim2=4).diagonal(dim1=2, dim2=3)  # (K, C_out, k_h, k_w)


def ps_roi_pool(input: torch.Tensor, boxes, output_size, spatial_scale: float = 1.0) -> torch.Tensor:
    """Position-sensitive RoI pooling, each bin the mean of its cells in its group's channels.

    The values equal torchvision's; so do the input gradients, except for
    boxes that pass the map's far edges, where torchvision's backward does
    not match its own forward (its ``gradcheck`` fails) and ours does.
    """
    fn = "ps_roi_pool"
    rois = _rois(fn, input, boxes)
    out_h, out_w = _groups(fn, input, output_size)
    return _assemble(_pool(rois, input, (out_h, out_w), spatial_scale, "mean", 0, 1), out_h, out_w)


def ps_roi_align(input: torch.Tensor, boxes, output_size, spatial_scale: float = 1.0,
                 sampling_ratio: int = -1) -> torch.Tensor:
    """Position-sensitive RoIAlign, each bin the mean of bilinear reads in its group's channels.

    With an adaptive grid (``sampling_ratio`` <= 0), a box of zero size has no
    points and gives 0; torchvision's divides by zero points there and gives NaN.
    """
    fn = "ps_roi_align"
    rois = _rois(fn, input, boxes)
    out_h, out_w = _groups(fn, input, output_size)
    if not isinstance(sampling_ratio, int) or isinstance(sampling_ratio, bool):
        raise ValueError(f"{fn}: sampling_ratio must be an int (<= 0: adaptive); got {sampling_ratio!r}")
    return _assemble(_align(rois, input, (out_h, out_w), spatial_scale, sampling_ratio, 0.5, None), out_h, out_w)
