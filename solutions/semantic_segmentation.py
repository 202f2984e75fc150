"""Exercises for the chapter *Semantic segmentation: from sliding windows to fully convolutional networks*.

Grade them with ``make grade`` (or ``pytest tests/grading -k semantic_segmentation --impl=exercises``).
"""

import torch


def bilinear_kernel(channels, scale_factor):
    """The (channels, channels, k, k) weight of a transposed convolution that upsamples bilinearly.

    FCN initialises its upsampling layers this way (Long et al., 2015). For a
    factor f the kernel size is k = 2f - f % 2; the 1-D tent is
    ``1 - |i - c| / f`` for i = 0 .. k - 1, with centre c = f - 1 when k is
    odd and f - 0.5 when k is even; the k x k stamp is the outer product of
    the tent with itself. Each output channel copies only its own input
    channel: weight[c, c] is the stamp, every other weight[c, d] is zero.
    Used with stride f and padding (k - f) // 2, it equals
    F.interpolate(mode="bilinear", align_corners=False) away from the border.
    """
    ### BEGIN SOLUTION
    f = scale_factor
    k = 2 * f - f % 2
    centre = f - 1 if k % 2 == 1 else f - 0.5
    tent = 1 - (torch.arange(k, dtype=torch.float32) - centre).abs() / f
    weight = torch.zeros(channels, channels, k, k)
    for c in range(channels):
        weight[c, c] = torch.outer(tent, tent)
    return weight
    ### END SOLUTION


def skip_fusion(coarse, skip, upsample):
    """One FCN skip: upsample the coarse class scores, crop them to the skip's size, add the skip's scores.

    coarse (N, C, h, w) are scores at stride 2s; skip (N, C, H, W) are scores
    computed from a finer layer at stride s, with H = 2h or 2h - 1 (an odd
    map pooled with ceil_mode). ``upsample`` is a module (a transposed
    convolution with kernel 4, stride 2 and padding 1, initialised bilinear)
    that maps h to 2h, aligned at the top-left corner: keep its top-left
    H x W. Return the sum (N, C, H, W), the fused scores at stride s.
    """
    ### BEGIN SOLUTION
    up = upsample(coarse)
    h, w = skip.shape[-2:]
    return up[..., :h, :w] + skip
    ### END SOLUTION


def iou_from_confusion(confmat):
    """Per-class IoU and mean IoU from a (C, C) confusion matrix (row = true class, column = predicted).

    IoU_c = M[c, c] / (sum of row c + sum of column c - M[c, c]). A class
    absent from both the target and the prediction (its row and column are
    all zero) has no IoU: put float("nan") there and leave it out of the
    mean. Return (iou, miou): a float tensor (C,) and a Python float.
    """
    ### BEGIN SOLUTION
    m = confmat.double()
    tp = torch.diag(m)
    union = m.sum(0) + m.sum(1) - tp
    iou = torch.where(union > 0, tp / union.clamp(min=1), torch.nan)
    return iou.float(), iou[union > 0].mean().item()
    ### END SOLUTION
