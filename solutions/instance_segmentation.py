"""Exercises for the chapter *Instance segmentation: Mask R-CNN and FCIS*.

Grade them with ``make grade`` (or ``pytest tests/grading -k instance_segmentation --impl=exercises``).
"""

import math

import torch


def roi_align_mask(mask, box, size):
    """Mask R-CNN's mask target: an object's mask (H, W) read under a box (4,) on a size x size grid.

    box is (x1, y1, x2, y2) in pixels; pixel (i, j) covers [j, j + 1) x
    [i, i + 1), so its value sits at its centre. Cut the box into size x
    size cells; cell (i, j) reads the mask bilinearly at the cell's centre,
    in pixel-index coordinates (pixel centres at whole numbers):
      x = x1 + (j + 0.5) * (x2 - x1) / size - 0.5
      y = y1 + (i + 0.5) * (y2 - y1) / size - 0.5
    Bilinear reading at (x, y), as torchvision's roi_align does it:
    * a point with y < -1 or y > H, or x < -1 or x > W, reads 0;
    * otherwise clamp: y = max(y, 0), x = max(x, 0); the low row is
      floor(y); if it is H - 1 or more, use row H - 1 alone (the high row
      is the same, y = H - 1); likewise for columns;
    * value = the four neighbours weighted by (1 - dy)(1 - dx),
      (1 - dy) dx, dy (1 - dx) and dy dx, dy = y - low row, dx = x - low column.
    Return a (size, size) float tensor.

    Hint: two loops over the cells and a small helper for one axis, which
    returns the low index, the high index and the weight of the high one.
    """
    ### BEGIN SOLUTION
    H, W = mask.shape
    x1, y1, x2, y2 = box.tolist()
    out = torch.zeros(size, size, dtype=mask.dtype)

    def axis(v, n):
        v = max(v, 0.0)
        low = math.floor(v)
        if low >= n - 1:
            return n - 1, n - 1, 0.0
        return low, low + 1, v - low

    for i in range(size):
        y = y1 + (i + 0.5) * (y2 - y1) / size - 0.5
        for j in range(size):
            x = x1 + (j + 0.5) * (x2 - x1) / size - 0.5
            if y < -1 or y > H or x < -1 or x > W:
                continue
            (top, bottom, dy), (left, right, dx) = axis(y, H), axis(x, W)
            out[i, j] = ((1 - dy) * (1 - dx) * mask[top, left] + (1 - dy) * dx * mask[top, right]
                         + dy * (1 - dx) * mask[bottom, left] + dy * dx * mask[bottom, right])
    return out
    ### END SOLUTION


def assemble(pooled, k):
    """FCIS's position-sensitive assembling for one region: (D * k * k, M, M) -> (D, M, M).

    pooled holds every score map already resampled to the region (as
    roi_align gives it), in torchvision's ps_roi layout: map d of cell
    (a, b), row a and column b of the region's k x k cells, is channel
    (d * k + a) * k + b. M is a multiple of k and each cell is r = M / k
    pixels a side. Output pixel (i, j) of map d copies pooled pixel (i, j)
    of map d of the cell that holds it, (i // r, j // r).

    Hint: loop over the k x k cells and copy an r x r block of each; or
    build the (M, M) tensor of cell numbers and use torch.gather.
    """
    ### BEGIN SOLUTION
    M = pooled.shape[-1]
    groups, r = pooled.shape[0] // (k * k), M // k
    maps = pooled.view(groups, k, k, M, M)
    out = pooled.new_zeros(groups, M, M)
    for a in range(k):
        for b in range(k):
            block = (slice(None), slice(a * r, (a + 1) * r), slice(b * r, (b + 1) * r))
            out[block] = maps[:, a, b][block]
    return out
    ### END SOLUTION
