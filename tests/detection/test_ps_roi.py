"""Position-sensitive RoI pooling and RoIAlign equal torchvision.ops: values and input gradients."""

import pytest
import torch
import torchvision.ops as tv

from tests.detection.rois import compare, feature_map_and_rois

from cnncourse.detection import ps_roi_align, ps_roi_pool


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("spatial_scale", [0.25, 0.5, 1.0])
def test_ps_roi_pool_equals_torchvision(dtype, atol, spatial_scale):
    x, rois = feature_map_and_rois(dtype, 18)
    torch.testing.assert_close(ps_roi_pool(x, rois, 3, spatial_scale), tv.ps_roi_pool(x, rois, 3, spatial_scale),
                               atol=atol, rtol=0)
    # gradients: on boxes that stay inside the map (see the next test for those that do not)
    inside = rois.detach().clone()
    inside[:, 1:] = inside[:, 1:].clamp(0, 12 / spatial_scale)
    compare(ps_roi_pool(x, inside, 3, spatial_scale), tv.ps_roi_pool(x, inside, 3, spatial_scale), x, atol)


def test_ps_roi_pool_gradient_is_the_true_one_where_a_box_passes_the_far_edge():
    """torchvision's backward disagrees with its own forward there (its gradcheck fails); ours passes."""
    x = torch.randn(1, 9, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    box = torch.tensor([[0.0, 3, 2, 9, 9]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: ps_roi_pool(t, box, 3), (x,))


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("spatial_scale", [0.25, 0.5])
@pytest.mark.parametrize("sampling_ratio", [-1, 1, 2])
def test_ps_roi_align_equals_torchvision(dtype, atol, spatial_scale, sampling_ratio):
    # torchvision divides by zero sampling points on a zero-size box with an adaptive grid (NaN); ours gives 0
    x, rois = feature_map_and_rois(dtype, 18, seed=1, degenerate=sampling_ratio > 0)
    compare(ps_roi_align(x, rois, 3, spatial_scale, sampling_ratio),
            tv.ps_roi_align(x, rois, 3, spatial_scale, sampling_ratio), x, atol)


def test_each_bin_reads_its_own_group_of_channels():
    """Channel group g is constant g: the output's bin (i, j) shows which group it read, (i * 3 + j)."""
    x = torch.arange(9.0).repeat_interleave(1)[None, :, None, None].expand(1, 9, 12, 12).contiguous()
    out = ps_roi_pool(x, torch.tensor([[0.0, 0, 0, 12, 12]]), 3)
    torch.testing.assert_close(out[0, 0], torch.arange(9.0).view(3, 3))


def test_channels_must_divide_into_groups():
    with pytest.raises(ValueError, match=r"ps_roi_align: input must have C_out \* 3 \* 3 channels .*got 10"):
        ps_roi_align(torch.zeros(1, 10, 8, 8), torch.zeros(1, 5), 3)
