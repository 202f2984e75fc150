"""Grading: the exercises of the chapter *LeNet and AlexNet*."""

import pytest
import torch
import torchvision.transforms.v2.functional as TF

from cnncourse.models.lenet import C3_TABLE


@pytest.mark.points(4)
@pytest.mark.parametrize("shape, size", [((2, 3, 9, 9), 5), ((1, 1, 10, 12), 6), ((3, 2, 5, 5), 5)])
def test_ten_crops_match_torchvision(submission, shape, size):  # even margins: no rounding involved
    torch.manual_seed(0)
    images = torch.randn(shape)
    crops = submission("lenet_alexnet").ten_crops(images, size)
    assert crops.shape == (shape[0], 10, shape[1], size, size)
    expected = torch.stack(TF.ten_crop(images, [size, size]), dim=1)
    torch.testing.assert_close(crops, expected, rtol=0, atol=0)


@pytest.mark.points(1)
def test_ten_crops_refuse_a_crop_larger_than_the_image(submission):
    with pytest.raises(ValueError):
        submission("lenet_alexnet").ten_crops(torch.zeros(1, 1, 4, 6), 5)


@pytest.mark.points(2)
@pytest.mark.parametrize("table, kernel_size, expected", [
    (C3_TABLE, 5, 1516),
    ([list(range(6))] * 16, 5, 2416),
    ([[0], [0, 1], [1, 2, 3]], 3, 6 * 9 + 3),
])
def test_lenet_c3_params(submission, table, kernel_size, expected):
    assert submission("lenet_alexnet").lenet_c3_params(table, kernel_size) == expected


@pytest.mark.points(1)
def test_ten_crops_round_an_odd_centre_margin_up(submission):
    images = torch.arange(2 * 8 * 7, dtype=torch.float32).view(1, 2, 8, 7)
    crops = submission("lenet_alexnet").ten_crops(images, 4)
    torch.testing.assert_close(crops[:, 4], images[..., 2:6, 2:6], rtol=0, atol=0)  # margins 4 and 3 -> 2 and 2
    torch.testing.assert_close(crops[:, 9], images.flip(-1)[..., 2:6, 2:6], rtol=0, atol=0)
