"""Grading: the exercises of the chapter *Instance segmentation: Mask R-CNN and FCIS*."""

import pytest
import torch
import torchvision.ops as tv

from cnncourse.detection.fcis import assemble
from tests.grading.boxes import random_boxes

ALIGN = pytest.mark.forbid("torchvision.ops.roi_align", "torchvision.ops.RoIAlign", "cnncourse.detection.roi_align",
                           "cnncourse.detection.mask_targets", "torch.nn.functional.grid_sample",
                           "torch.nn.functional.interpolate")
ASSEMBLE = pytest.mark.forbid("cnncourse.detection.fcis.assemble", "cnncourse.detection.fcis.assemble_loop",
                              "torchvision.ops.ps_roi_align")


def _reference(mask, box, size):
    return tv.roi_align(mask[None, None].double(), [box[None].double()], size, 1.0, 1, aligned=True)[0, 0]


@ALIGN
@pytest.mark.points(2)
def test_roi_align_mask_by_hand(submission):
    mask = torch.tensor([[0.0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]])
    got = submission("instance_segmentation").roi_align_mask(mask, torch.tensor([0.0, 0, 4, 4]), 2)
    # cell centres (1, 1) and (3, 1) in pixels, (0.5, 0.5) and (2.5, 0.5) as pixel indices
    torch.testing.assert_close(got.float(), torch.tensor([[2.5, 4.5], [10.5, 12.5]]))
    half = submission("instance_segmentation").roi_align_mask(mask, torch.tensor([1.0, 0, 2, 1]), 1)
    assert float(half) == pytest.approx(1.0), "a one-pixel box is that pixel's value"


@ALIGN
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, size", [(0, 14), (1, 7), (2, 5)])
def test_roi_align_mask_equals_torchvision_on_random_masks(submission, seed, size):
    g = torch.Generator().manual_seed(seed)
    mask = (torch.rand(24, 32, generator=g) > 0.5).double()
    for box in random_boxes(4, seed, 32):
        got = submission("instance_segmentation").roi_align_mask(mask, box.double(), size)
        assert got.shape == (size, size), f"expected ({size}, {size}); got {tuple(got.shape)}"
        torch.testing.assert_close(got.double(), _reference(mask, box, size))


@ALIGN
@pytest.mark.points(1)
def test_roi_align_mask_at_and_beyond_the_image_edges(submission):
    mask = torch.rand(6, 6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    for box in ([-4.0, -3, 3, 5], [2, 2, 9, 8], [-9, 1, -7.5, 4], [4.5, 4.5, 5.9, 5.9]):
        box = torch.tensor(box, dtype=torch.float64)
        got = submission("instance_segmentation").roi_align_mask(mask, box, 4)
        torch.testing.assert_close(got.double(), _reference(mask, box, 4))


@ASSEMBLE
@pytest.mark.points(2)
def test_assemble_by_hand(submission):
    pooled = torch.arange(4.0)[:, None, None].expand(4, 4, 4).clone()  # channel c is filled with c
    got = submission("instance_segmentation").assemble(pooled, 2)
    expected = torch.tensor([[0.0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])[None]
    assert got.shape == (1, 4, 4), f"expected (1, 4, 4); got {tuple(got.shape)}"
    torch.testing.assert_close(got, expected)


@ASSEMBLE
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, groups, k, M", [(0, 8, 3, 9), (1, 3, 3, 6), (2, 2, 7, 14), (3, 5, 2, 8)])
def test_assemble_equals_the_course_on_random_regions(submission, seed, groups, k, M):
    g = torch.Generator().manual_seed(seed)
    maps = torch.randn(1, groups * k * k, 6, 6, generator=g)
    box = torch.tensor([[0.0, 5, 3, 40, 44]])
    expected = assemble(maps, box, k, M, 1 / 8)[0]
    pooled = tv.roi_align(maps, box, M, 1 / 8, 1, aligned=True)[0]  # every map resampled to the region
    got = submission("instance_segmentation").assemble(pooled, k)
    assert got.shape == expected.shape, f"expected {tuple(expected.shape)}; got {tuple(got.shape)}"
    torch.testing.assert_close(got, expected)


@ASSEMBLE
@pytest.mark.points(1)
def test_assemble_with_one_cell_returns_the_maps(submission):
    pooled = torch.randn(3, 5, 5, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(submission("instance_segmentation").assemble(pooled, 1), pooled)
