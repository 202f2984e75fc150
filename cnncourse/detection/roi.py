"""Region-of-interest pooling: a fixed-size feature grid for every box, from one shared feature map.

Fast R-CNN (Girshick, 2015) computes the convolutional features of an image
once and cuts every proposal's features out of that map: **RoI pooling**
snaps the box to the map's cells (its corners rounded to the nearest cell)
and max-pools an ``output_size`` grid of roughly equal bins. Mask R-CNN (He
et al., 2017) showed that the two roundings misalign features and pixels by
up to a cell, which hurts masks, and replaced them with **RoIAlign**: no
rounding, each bin averages ``sampling_ratio`` x ``sampling_ratio`` points
read by bilinear interpolation.

Signatures and results follow ``torchvision.ops.roi_pool`` and
``roi_align``: ``input`` (N, C, H, W); ``boxes`` a (K, 5) tensor of
``(batch index, x1, y1, x2, y2)`` in input-image coordinates, or a list of
N tensors (L_n, 4); ``spatial_scale`` maps them onto the feature map (1/16
for a stride-16 backbone); the output is (K, C, out_h, out_w). Gradients
flow to ``input`` only, as in torchvision (the boxes are detached).
"""

from __future__ import annotations

import math

import torch

from cnncourse.boxes import check_boxes
from cnncourse.layers._args import pair


def _rois(fn, input, boxes) -> torch.Tensor:
    """``boxes`` as one (K, 5) tensor (batch index first), checked against ``input``."""
    if not isinstance(input, torch.Tensor) or input.dim() != 4:
        got = tuple(input.shape) if isinstance(input, torch.Tensor) else type(input).__name__
        raise ValueError(f"{fn}: input must be a (N, C, H, W) tensor; got {got}")
    if isinstance(boxes, (list, tuple)):
        if len(boxes) != len(input):
            raise ValueError(f"{fn}: a list of boxes needs one (L, 4) tensor per image, {len(input)}; "
                             f"got {len(boxes)}")
        for n, b in enumerate(boxes):
            check_boxes(fn, f"boxes[{n}]", b)
        index = torch.cat([torch.full((len(b),), n, dtype=input.dtype, device=input.device)
                           for n, b in enumerate(boxes)])
        boxes = torch.cat([index[:, None], torch.cat(list(boxes)).to(input)], 1)
    if not isinstance(boxes, torch.Tensor) or boxes.dim() != 2 or boxes.shape[1] != 5:
        got = tuple(boxes.shape) if isinstance(boxes, torch.Tensor) else type(boxes).__name__
        raise ValueError(f"{fn}: boxes must be a (K, 5) tensor (batch index, x1, y1, x2, y2) or a list of "
                         f"(L, 4) tensors; got {got}")
    check_boxes(fn, "boxes", boxes[:, 1:])
    index = boxes[:, 0]
    bad = (index < 0) | (index >= len(input)) | (index != index.round())
    if bad.any():
        raise ValueError(f"{fn}: the batch index (boxes[:, 0]) must be an integer in [0, {len(input) - 1}]; "
                         f"got {index[bad][0].item()}")
    return boxes.detach().to(input.dtype)


def _output_size(fn, output_size):
    h, w = pair(fn, "output_size", output_size)
    if h < 1 or w < 1:
        raise ValueError(f"{fn}: output_size must be positive; got {output_size!r}")
    return h, w


def _round_half_away(x: torch.Tensor) -> torch.Tensor:
    """C's ``round``: halves away from zero (``torch.round`` rounds them to even)."""
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


def roi_pool(input: torch.Tensor, boxes, output_size, spatial_scale: float = 1.0) -> torch.Tensor:
    """Fast R-CNN's RoI max pooling: (N, C, H, W) and K boxes -> (K, C, out_h, out_w).

    The box's corners are rounded to cells (``round(x * spatial_scale)``,
    halves away from zero), the snapped box (at least 1x1 cells, both ends
    included) is cut into ``out_h`` x ``out_w`` bins whose edges are
    ``floor`` and ``ceil`` of equal fractions, and each bin takes its
    maximum; a bin outside the map is 0.
    """
    fn = "roi_pool"
    return _pool(_rois(fn, input, boxes), input, _output_size(fn, output_size), spatial_scale, "max", 1, 0)


def _pool(rois, input, output_size, spatial_scale, reduce, extent, margin) -> torch.Tensor:
    """RoI pooling with snapped corners: (K, C, out_h, out_w), each bin's max or mean (``reduce``).

    A box spans ``round(x2) - round(x1) + extent`` cells (at least 1); bins
    are clipped to the map less ``margin`` cells at its far edges
    (RoIPool: extent 1, margin 0; PS-RoIPool: extent 0, margin 1). All RoIs
    at once, in chunks of about 2^24 numbers: each reads a window of the
    map as large as the largest box. The mean sums each bin through (bins,
    cells) masks per side; the max (:func:`_argmax_index`) looks at each
    bin's cells only, columns first, then rows, finds the maximum without
    autograd and reads it back from the map by its index, so the gradient
    goes to it alone (the first of equal maxima, row by row), as in
    torchvision's kernel.
    """
    out_h, out_w = output_size
    H, W = input.shape[-2:]
    K, C = len(rois), input.shape[1]
    if K == 0:
        return input.new_zeros(0, C, out_h, out_w)
    x1, y1, x2, y2 = _round_half_away(rois[:, 1:] * spatial_scale).double().cpu().unbind(1)
    rows, top, row_bins = _bins(y1, (y2 - y1 + extent).clamp(min=1), out_h, H - margin)  # (K, out_h, h), (K,), ...
    cols, left, col_bins = _bins(x1, (x2 - x1 + extent).clamp(min=1), out_w, W - margin)  # (K, out_w, w), (K,), ...
    rows, cols = rows.to(input.device), cols.to(input.device)
    r = (top[:, None] + torch.arange(rows.shape[-1])).clamp(max=H - 1).to(input.device)  # (K, h) map rows
    c = (left[:, None] + torch.arange(cols.shape[-1])).clamp(max=W - 1).to(input.device)  # (K, w) map columns
    n = rois[:, 0].long().to(input.device)
    empty = ~(rows.any(2)[:, :, None] & cols.any(2)[:, None, :])  # (K, out_h, out_w)
    h, w = rows.shape[-1], cols.shape[-1]
    row_taps, row_ok = (t.to(input.device) for t in _taps(row_bins, top, h))  # (K, out_h, Br)
    col_taps, col_ok = (t.to(input.device) for t in _taps(col_bins, left, w))  # (K, out_w, Bc)
    per_roi = C * max(h * w, h * col_taps[0].numel(), out_w * row_taps[0].numel())
    step = max(1, 2**24 // per_roi)
    outputs = []
    for k in range(0, K, step):
        chunk = slice(k, k + step)
        with torch.set_grad_enabled(torch.is_grad_enabled() and reduce != "max"):
            x = input[n[chunk, None, None], :, r[chunk, :, None], c[chunk, None, :]]  # (k, h, w, C)
        if reduce == "max":
            index = _argmax_index(x, n[chunk], r[chunk], c[chunk], row_taps[chunk], row_ok[chunk],
                                  col_taps[chunk], col_ok[chunk], input.shape)
            pooled = input.reshape(-1)[index]  # gradients flow to each bin's maximum, as in torchvision
        else:  # the mean: a sum over each bin, divided by its cells
            rm, cm = rows[chunk], cols[chunk]
            pooled = torch.einsum("khwc,kih,kjw->kcij", x, rm.to(x.dtype), cm.to(x.dtype))
            pooled = pooled / (rm.sum(2)[:, :, None] * cm.sum(2)[:, None, :]).clamp(min=1)[:, None].to(x.dtype)
        outputs.append(pooled.masked_fill(empty[chunk, None], 0.0))
    return torch.cat(outputs)


def _taps(bins: tuple, first: torch.Tensor, span: int):
    """Each bin's cells as window-relative indices (K, bins, B), B the widest bin, and which are in the bin."""
    lo, hi = bins
    widest = max(int((hi - lo).max()), 1)
    taps = (lo - first[:, None])[:, :, None] + torch.arange(widest)
    ok = taps < (hi - first[:, None])[:, :, None]
    return taps.clamp(0, span - 1), ok


@torch.no_grad()
def _argmax_index(x, n, r, c, row_taps, row_ok, col_taps, col_ok, shape) -> torch.Tensor:
    """The flat index into the (N, C, H, W) map of each bin's first maximum (row by row): (k, C, out_h, out_w).

    Separable: each row's maximum over each column bin's cells, then the
    maximum of those over each row bin's rows. ``x`` (k, h, w, C) holds each
    RoI's window of the map, rows ``r`` (k, h) and columns ``c`` (k, w).
    """
    N, C, H, W = shape
    k, h, _, _ = x.shape
    out_h, out_w = row_taps.shape[1], col_taps.shape[1]
    kk = torch.arange(k, device=x.device)[:, None]
    by_col = x[kk, :, col_taps.reshape(k, -1)].view(k, out_w, -1, h, C)  # (k, out_w, Bc, h, C)
    best, tap = by_col.masked_fill(~col_ok[:, :, :, None, None], -math.inf).max(2)  # (k, out_w, h, C)
    col = torch.gather(col_taps[:, :, :, None, None].expand(-1, -1, -1, h, C), 2, tap[:, :, None])[:, :, 0]
    by_row = best[kk, :, row_taps.reshape(k, -1)].view(k, out_h, -1, out_w, C)  # (k, out_h, Br, out_w, C)
    _, tap = by_row.masked_fill(~row_ok[:, :, :, None, None], -math.inf).max(2)  # (k, out_h, out_w, C)
    row = torch.gather(row_taps[:, :, :, None, None].expand(-1, -1, -1, out_w, C), 2, tap[:, :, None])[:, :, 0]
    col = torch.gather(col.permute(0, 2, 1, 3), 1, row)  # the column of the maximum in the chosen row
    map_row = torch.gather(r, 1, row.reshape(k, -1)).view_as(row)
    map_col = torch.gather(c, 1, col.reshape(k, -1)).view_as(col)
    channel = torch.arange(C, device=x.device)
    index = ((n[:, None, None, None] * C + channel) * H + map_row) * W + map_col  # (k, out_h, out_w, C)
    return index.permute(0, 3, 1, 2)


def _bins(start: torch.Tensor, length: torch.Tensor, bins: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Which cells each of ``bins`` equal bins of [start, start + length) covers, per RoI, along a side of ``size``.

    Bin k spans cells ``floor(k * step)`` to ``ceil((k + 1) * step)`` (exclusive) from ``start``, clipped to
    the map. ``start`` and ``length`` are (K,) float64. Returns a (K, bins, n) bool mask over the n cells
    from ``first`` on, ``first`` (K,), n being the widest span of any RoI (at least one cell, so that
    a box off the map still has a window), and the bins' (lo, hi) cells (K, bins).
    """
    step = (length / bins)[:, None]
    k = torch.arange(bins, dtype=torch.float64)
    lo = (torch.floor(k * step) + start[:, None]).clamp(0, size)
    hi = (torch.ceil((k + 1) * step) + start[:, None]).clamp(0, size)
    first = lo.amin(1).clamp(max=size - 1)
    span = int((torch.maximum(hi.amax(1), first + 1) - first).max())
    cells = first[:, None] + torch.arange(span, dtype=torch.float64)  # (K, n)
    mask = (cells[:, None, :] >= lo[:, :, None]) & (cells[:, None, :] < hi[:, :, None])
    return mask, first.long(), (lo.long(), hi.long())


def _bilinear_taps(H: int, W: int, y: torch.Tensor, x: torch.Tensor):
    """The four cells each point (y, x) reads and their bilinear weights: (..., 4) cell indices, (..., 4) weights.

    As Mask R-CNN's reference code: a point more than one cell outside the
    map reads 0 (zero weights); otherwise it is clamped to the map's edge cells.
    """
    outside = (y < -1.0) | (y > H) | (x < -1.0) | (x > W)
    y, x = y.clamp(min=0), x.clamp(min=0)
    y0, x0 = y.floor().clamp(max=H - 1), x.floor().clamp(max=W - 1)
    y = torch.where(y0 >= H - 1, y0, y)  # at the last row (column) the point snaps onto it
    x = torch.where(x0 >= W - 1, x0, x)
    y1, x1 = (y0 + 1).clamp(max=H - 1), (x0 + 1).clamp(max=W - 1)
    ly, lx = y - y0, x - x0
    cells = torch.stack([y0 * W + x0, y0 * W + x1, y1 * W + x0, y1 * W + x1], -1).long()
    weights = torch.stack([(1 - ly) * (1 - lx), (1 - ly) * lx, ly * (1 - lx), ly * lx], -1)
    return cells, weights.masked_fill(outside[..., None], 0.0)


def _offsets(bins: int, grid: int, like: torch.Tensor) -> torch.Tensor:
    """Sample points along one side of a box, in bins from its start: ``b + (i + 0.5) / grid``, (bins * grid,)."""
    grid = max(grid, 1)
    b = torch.arange(bins, dtype=like.dtype, device=like.device)[:, None]
    i = torch.arange(grid, dtype=like.dtype, device=like.device)
    return (b + (i + 0.5) / grid).flatten()


def roi_align(input: torch.Tensor, boxes, output_size, spatial_scale: float = 1.0, sampling_ratio: int = -1,
              aligned: bool = False) -> torch.Tensor:
    """Mask R-CNN's RoIAlign: (N, C, H, W) and K boxes -> (K, C, out_h, out_w), no rounding anywhere.

    Each of the ``out_h`` x ``out_w`` bins averages a grid of bilinear reads:
    ``sampling_ratio`` x ``sampling_ratio`` points, or, if it is <= 0,
    ``ceil(box size / output size)`` per side, per box. ``aligned=True``
    shifts the box by half a cell (a pixel's centre is at +0.5), the
    correction torchvision's and Detectron2's default uses; ``False`` is the
    original (and then a box is at least one cell wide and high).
    """
    fn = "roi_align"
    rois = _rois(fn, input, boxes)
    if not isinstance(sampling_ratio, int) or isinstance(sampling_ratio, bool):
        raise ValueError(f"{fn}: sampling_ratio must be an int (<= 0: adaptive); got {sampling_ratio!r}")
    return _align(rois, input, _output_size(fn, output_size), spatial_scale, sampling_ratio,
                  0.5 if aligned else 0.0, None if aligned else 1.0)


def _align(rois, input, output_size, spatial_scale, sampling_ratio, offset, min_size) -> torch.Tensor:
    """RoIAlign's bilinear bins: (K, C, out_h, out_w). Boxes shift by -``offset`` cells and are at least
    ``min_size`` cells wide and high (None: no minimum). RoIAlign: offset 0 and min 1, or 0.5 and None;
    PS-RoIAlign: 0.5 and None."""
    out_h, out_w = output_size
    start = rois[:, 1:3] * spatial_scale - offset  # (K, 2): x, y
    size = rois[:, 3:5] * spatial_scale - offset - start  # (K, 2): width, height
    if min_size is not None:
        size = size.clamp(min=min_size)
    if sampling_ratio > 0:
        grids = torch.full((len(rois), 2), sampling_ratio, dtype=torch.long)
    else:  # per box, as many points per bin as the bin has cells (rounded up)
        grids = torch.ceil(size / size.new_tensor([out_w, out_h])).long().cpu()
    # RoIAlign is linear in the input: output = S @ cells, with S (K * out_h * out_w, N * H * W) holding
    # each bin's bilinear weights divided by its number of points, 16 per row for a 2x2 grid
    N, C, H, W = input.shape
    no_index = torch.zeros(0, dtype=torch.long, device=input.device)
    rows, columns, values = [no_index], [no_index], [input.new_zeros(0)]
    for grid in torch.unique(grids, dim=0).tolist():  # boxes with the same sampling grid, together
        chosen = (grids == torch.tensor(grid)).all(1).nonzero().flatten().to(input.device)
        gx, gy = grid
        if gx * gy == 0:
            continue  # an empty grid (a box of zero size, aligned): the bins stay 0, as in torchvision
        bins = size[chosen] / size.new_tensor([out_w, out_h])  # (k, 2) bin width and height
        xs = start[chosen, 0, None] + bins[:, 0, None] * _offsets(out_w, gx, input)  # (k, out_w * gx)
        ys = start[chosen, 1, None] + bins[:, 1, None] * _offsets(out_h, gy, input)  # (k, out_h * gy)
        k = len(chosen)
        cells, weights = _bilinear_taps(H, W, ys[:, :, None].expand(-1, -1, xs.shape[1]),
                                        xs[:, None, :].expand(-1, ys.shape[1], -1))  # (k, out_h*gy, out_w*gx, 4)
        bin_of = (torch.arange(out_h, device=input.device).repeat_interleave(gy)[:, None] * out_w
                  + torch.arange(out_w, device=input.device).repeat_interleave(gx))  # (out_h*gy, out_w*gx)
        rows.append((chosen[:, None, None, None] * (out_h * out_w) + bin_of[None, :, :, None]).expand_as(cells))
        columns.append(rois[chosen, 0].long()[:, None, None, None] * (H * W) + cells)
        values.append(weights / (gx * gy))
    S = torch.sparse_coo_tensor(torch.stack([torch.cat([r.flatten() for r in rows]),
                                             torch.cat([c.flatten() for c in columns])]),
                                torch.cat([v.flatten() for v in values]), (len(rois) * out_h * out_w, N * H * W),
                                check_invariants=False)
    cells = input.permute(0, 2, 3, 1).reshape(N * H * W, C)
    return torch.sparse.mm(S, cells).view(len(rois), out_h, out_w, C).permute(0, 3, 1, 2)
