"""Grading: the exercises of the chapter *Semantic segmentation*."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassJaccardIndex

from cnncourse.layers import bilinear_kernel

BILINEAR = pytest.mark.forbid("cnncourse.layers.bilinear_kernel", "cnncourse.layers.bilinear_transposed_conv",
                              "cnncourse.layers.upsampling.bilinear_kernel")
IOU = pytest.mark.forbid("cnncourse.segmentation.scores", "cnncourse.segmentation.mean_iou",
                         "cnncourse.segmentation.metrics.scores", "cnncourse.segmentation.metrics.mean_iou")


@BILINEAR
@pytest.mark.points(2)
@pytest.mark.parametrize("channels, factor", [(1, 2), (3, 3), (2, 4), (2, 1)])
def test_bilinear_kernel_values(submission, channels, factor):
    got = submission("semantic_segmentation").bilinear_kernel(channels, factor)
    torch.testing.assert_close(got.float(), bilinear_kernel(channels, factor))


@BILINEAR
@pytest.mark.points(2)
@pytest.mark.parametrize("factor", [2, 3])
def test_bilinear_kernel_upsamples_like_interpolate_away_from_the_border(submission, factor):
    weight = submission("semantic_segmentation").bilinear_kernel(2, factor).float()
    k = weight.shape[-1]
    x = torch.randn(1, 2, 6, 7, generator=torch.Generator().manual_seed(factor))
    up = F.conv_transpose2d(x, weight, stride=factor, padding=(k - factor) // 2)
    ref = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
    b = factor  # the border rows and columns differ (the transposed conv sees zeros beyond the edge)
    torch.testing.assert_close(up[..., b:-b, b:-b], ref[..., b:-b, b:-b], atol=1e-5, rtol=0)


def upsampler(channels, seed):
    """FCN's x2 upsampler (kernel 4, stride 2, padding 1): h -> 2h, aligned at the top-left."""
    torch.manual_seed(seed)
    return nn.ConvTranspose2d(channels, channels, 4, stride=2, padding=1, bias=False)


@pytest.mark.points(3)
@pytest.mark.parametrize("h, w, crop, seed", [(4, 5, (0, 0), 0), (3, 4, (1, 1), 1), (4, 4, (1, 0), 2)])
def test_skip_fusion_upsamples_crops_and_adds(submission, h, w, crop, seed):
    # an odd-sized finer map (7 pooled to 4 with ceil_mode) leaves one extra row or column to crop
    g = torch.Generator().manual_seed(seed)
    skip_h, skip_w = 2 * h - crop[0], 2 * w - crop[1]
    coarse, skip = torch.randn(2, 3, h, w, generator=g), torch.randn(2, 3, skip_h, skip_w, generator=g)
    up = upsampler(3, seed)
    got = submission("semantic_segmentation").skip_fusion(coarse, skip, up)
    assert got.shape == skip.shape, f"the fused scores must have the skip's shape {tuple(skip.shape)}"
    torch.testing.assert_close(got, up(coarse)[..., :skip_h, :skip_w] + skip, atol=1e-5, rtol=0)


@pytest.mark.points(1)
def test_skip_fusion_passes_gradients_to_both_paths(submission):
    coarse = torch.randn(1, 2, 3, 3, requires_grad=True)
    skip = torch.randn(1, 2, 6, 6, requires_grad=True)
    up = upsampler(2, 3)
    submission("semantic_segmentation").skip_fusion(coarse, skip, up).sum().backward()
    assert coarse.grad.abs().sum() > 0 and skip.grad.abs().sum() > 0 and up.weight.grad.abs().sum() > 0


@IOU
@pytest.mark.points(1)
def test_iou_from_confusion_by_hand(submission):
    confmat = torch.tensor([[5, 1, 0], [2, 3, 0], [0, 0, 0]])
    iou, miou = submission("semantic_segmentation").iou_from_confusion(confmat)
    assert iou[:2].tolist() == pytest.approx([5 / 8, 3 / 6])
    assert math.isnan(iou[2].item()), "class 2 never occurs: its IoU is undefined (nan)"
    assert miou == pytest.approx((5 / 8 + 3 / 6) / 2)


@IOU
@pytest.mark.points(3)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_iou_from_confusion_equals_torchmetrics(submission, seed):
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(0, 5, (4, 16, 16), generator=g)
    target[target == 3] = 0  # class 3 absent from the target...
    pred = torch.where(torch.rand(target.shape, generator=g) < 0.7, target, torch.randint(0, 5, target.shape, generator=g))
    if seed == 0:
        pred[pred == 3] = 1  # ... and, once, from the prediction too
    confmat = torch.bincount(target.flatten() * 5 + pred.flatten(), minlength=25).view(5, 5)
    _, miou = submission("semantic_segmentation").iou_from_confusion(confmat)
    expected = MulticlassJaccardIndex(5, average="macro")(pred, target).item()
    assert miou == pytest.approx(expected, abs=1e-6)
