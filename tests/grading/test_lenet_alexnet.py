"""Grading: the exercises of the chapter *LeNet and AlexNet*."""

import pytest
import torch
import torchvision.transforms.v2.functional as TF

from cnncourse.models.lenet import C3_TABLE


CROPS = pytest.mark.forbid("torchvision.transforms.v2.functional.ten_crop", "torchvision.transforms.v2.functional.five_crop",
                           "torchvision.transforms.functional.ten_crop", "torchvision.transforms.functional.five_crop")


def assert_same_crops(crops, expected):
    """The same ten patches per image, in any order (the exercise leaves the order free; the margins
    are even, so mirroring a crop and cropping the mirrored image agree)."""
    assert crops.shape == expected.shape, f"shape {tuple(crops.shape)}, expected {tuple(expected.shape)}"
    for n in range(expected.shape[0]):
        unmatched = list(range(10))
        for crop in expected[n]:
            match = next((i for i in unmatched if torch.equal(crops[n, i], crop)), None)
            assert match is not None, f"image {n}: a crop torchvision makes is missing"
            unmatched.remove(match)


@CROPS
@pytest.mark.points(4)
@pytest.mark.parametrize("shape, size", [((2, 3, 9, 9), 5), ((1, 1, 10, 12), 6), ((3, 2, 5, 5), 5)])
def test_ten_crops_match_torchvision(submission, shape, size):  # even margins: no rounding involved
    torch.manual_seed(0)
    images = torch.randn(shape)
    crops = submission("lenet_alexnet").ten_crops(images, size)
    assert_same_crops(crops, torch.stack(TF.ten_crop(images, [size, size]), dim=1))


@CROPS
@pytest.mark.points(1)
def test_ten_crops_refuse_a_crop_larger_than_the_image(submission):
    with pytest.raises(ValueError):
        submission("lenet_alexnet").ten_crops(torch.zeros(1, 1, 4, 6), 5)


@pytest.mark.forbid("cnncourse.analysis.count_params", "cnncourse.models.lenet.SparseConv2d")
@pytest.mark.points(2)
@pytest.mark.parametrize("table, kernel_size, expected", [
    (C3_TABLE, 5, 1516),
    ([list(range(6))] * 16, 5, 2416),
    ([[0], [0, 1], [1, 2, 3]], 3, 6 * 9 + 3),
])
def test_lenet_c3_params(submission, table, kernel_size, expected):
    assert submission("lenet_alexnet").lenet_c3_params(table, kernel_size) == expected


@CROPS
@pytest.mark.points(1)
def test_ten_crops_round_an_odd_centre_margin_up(submission):
    images = torch.arange(2 * 8 * 7, dtype=torch.float32).view(1, 2, 8, 7)
    crops = submission("lenet_alexnet").ten_crops(images, 4)
    centre = images[0, :, 2:6, 2:6]  # margins 4 and 3 -> 2 and 2
    assert any(torch.equal(crop, centre) for crop in crops[0]), "the centre crop"
    # With an odd margin, mirroring the centre crop and cropping the centre of the mirrored image differ
    # by a column; the exercise accepts either (torchvision does the second).
    mirrored = (centre.flip(-1), images[0].flip(-1)[:, 2:6, 2:6])
    assert any(torch.equal(crop, m) for crop in crops[0] for m in mirrored), "the mirrored centre crop"
