"""Batch augmentation: crops are shifts of the image, flips are mirrors, sizes are kept."""

import pytest
import torch
import torch.nn.functional as F

from cnncourse import data


def test_random_crop_shifts_every_image_by_at_most_padding():
    torch.manual_seed(0)
    images = torch.rand(16, 3, 8, 9) + 1  # all values > 0, so the zero fill is visible
    out = data.random_crop(images, padding=2)
    assert out.shape == images.shape
    padded = F.pad(images, (2, 2, 2, 2))
    offsets = set()
    for i in range(16):
        matches = [(dy, dx) for dy in range(5) for dx in range(5) if torch.equal(out[i], padded[i, :, dy : dy + 8, dx : dx + 9])]
        assert matches, f"image {i} is not a crop of its padded self"
        offsets.add(matches[0])
    assert len(offsets) > 1  # the offsets are random, not one fixed shift


def test_random_crop_without_padding_is_the_identity():
    images = torch.rand(4, 1, 5, 5)
    assert torch.equal(data.random_crop(images, padding=0), images)


def test_random_hflip_mirrors_with_probability_p():
    torch.manual_seed(0)
    images = torch.rand(400, 1, 4, 4)
    assert torch.equal(data.random_hflip(images, p=1.0), images.flip(-1))
    assert torch.equal(data.random_hflip(images, p=0.0), images)
    flipped = (data.random_hflip(images, p=0.5) != images).flatten(1).any(1).float().mean()
    assert 0.4 < flipped < 0.6


def test_compose_applies_in_order():
    images = torch.rand(3, 1, 4, 4)
    both = data.compose(lambda x: x + 1, lambda x: x * 2)
    assert torch.equal(both(images), (images + 1) * 2)


@pytest.mark.parametrize("call, message", [
    (lambda: data.random_crop(torch.rand(3, 4, 4)), r"random_crop: images must be .*\(N, C, H, W\)"),
    (lambda: data.random_crop(torch.rand(1, 1, 4, 4), padding=-1), r"padding must be an int >= 0; got -1"),
    (lambda: data.random_hflip(torch.rand(1, 1, 4, 4), p=2), r"p must be in \[0, 1\]; got 2"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
