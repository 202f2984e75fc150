"""roi_pool and roi_align equal torchvision.ops: values and input gradients, every convention."""

import pytest
import torch
import torchvision.ops as tv

from tests.detection.rois import compare, feature_map_and_rois

from cnncourse.detection import roi_align, roi_pool


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("output_size, spatial_scale", [((7, 7), 0.25), ((3, 5), 0.5), (2, 1.0)])
def test_roi_pool_equals_torchvision(dtype, atol, output_size, spatial_scale):
    x, rois = feature_map_and_rois(dtype)
    compare(roi_pool(x, rois, output_size, spatial_scale), tv.roi_pool(x, rois, output_size, spatial_scale), x,
            atol)


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 0, 1, 2])
@pytest.mark.parametrize("output_size, spatial_scale", [((7, 7), 0.25), ((3, 5), 0.5)])
def test_roi_align_equals_torchvision(dtype, atol, aligned, sampling_ratio, output_size, spatial_scale):
    x, rois = feature_map_and_rois(dtype, seed=1)
    ours = roi_align(x, rois, output_size, spatial_scale, sampling_ratio, aligned)
    compare(ours, tv.roi_align(x, rois, output_size, spatial_scale, sampling_ratio, aligned), x, atol)


def test_a_list_of_boxes_per_image_is_the_same_as_batch_indices():
    x, rois = feature_map_and_rois(torch.float32)
    per_image = [rois[rois[:, 0] == n, 1:] for n in range(2)]
    in_order = torch.cat([rois[rois[:, 0] == n] for n in range(2)])
    for op in (roi_pool, roi_align):
        torch.testing.assert_close(op(x, per_image, 4, 0.5), op(x, in_order, 4, 0.5))
    assert roi_align(x, [torch.zeros(0, 4), torch.zeros(0, 4)], 4).shape == (0, 3, 4, 4)
    assert roi_pool(x, torch.zeros(0, 5), (2, 3)).shape == (0, 3, 2, 3)


def test_roi_align_on_a_box_of_whole_cells_averages_them():
    """aligned=True puts pixel centres at +0.5: a box over cells 2..5 of a ramp averages their values exactly."""
    x = torch.arange(10.0).expand(1, 1, 10, 10).clone()  # value = column
    box = torch.tensor([[0.0, 2, 2, 6, 6]])
    out = roi_align(x, box, (1, 2), sampling_ratio=2, aligned=True)
    torch.testing.assert_close(out.flatten(), torch.tensor([2.5, 4.5]))  # columns 2-3 and 4-5


@pytest.mark.parametrize("call, message", [
    (lambda x: roi_pool(x[0], torch.zeros(1, 5), 2), r"roi_pool: input must be a \(N, C, H, W\) tensor"),
    (lambda x: roi_align(x, torch.tensor([[2.0, 0, 0, 4, 4]]), 2),
     r"roi_align: the batch index \(boxes\[:, 0\]\) must be an integer in \[0, 1\]; got 2.0"),
    (lambda x: roi_align(x, torch.tensor([[0.0, 5, 0, 4, 4]]), 2), r"roi_align: boxes must have x2 >= x1"),
    (lambda x: roi_pool(x, torch.zeros(3, 4), 2), r"roi_pool: boxes must be a \(K, 5\) tensor"),
    (lambda x: roi_pool(x, [torch.zeros(1, 4)], 2), r"roi_pool: a list of boxes needs one \(L, 4\) tensor per "
                                                    r"image, 2; got 1"),
    (lambda x: roi_align(x, torch.zeros(1, 5), 2, sampling_ratio=1.5), r"roi_align: sampling_ratio must be an int"),
    (lambda x: roi_align(x, torch.zeros(1, 5), 0), r"roi_align: output_size must be positive"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call(torch.zeros(2, 3, 8, 8))
