"""Frequency statistics of images: shares sum to one, land in the right ring, and distances behave."""

import pytest
import torch

from cnncourse import viz


def test_radial_spectrum_rows_are_shares_and_a_checkerboard_is_all_in_the_last_ring():
    torch.manual_seed(0)
    spectrum = viz.radial_spectrum(torch.rand(3, 3, 20, 24), bins=8)
    assert spectrum.shape == (3, 8)
    torch.testing.assert_close(spectrum.sum(1), torch.ones(3))
    rows, cols = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
    checker = ((rows + cols) % 2).float().expand(1, 3, 16, 16)
    assert viz.radial_spectrum(checker, bins=8)[0, -1].item() == pytest.approx(1.0)
    slow = torch.sin(2 * torch.pi * cols / 16).float().expand(1, 1, 16, 16)  # 1/16 cycle per pixel: ring 1 of 8
    assert viz.radial_spectrum(slow, bins=8)[0].argmax().item() == 1


def test_spectrum_distance_is_zero_for_the_same_image_and_ignores_position_and_size():
    torch.manual_seed(1)
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(viz.spectrum_distance(x, x), torch.zeros(2))
    rolled = torch.roll(x, (5, 7), dims=(2, 3))  # the power spectrum does not see a circular shift
    torch.testing.assert_close(viz.spectrum_distance(rolled, x), torch.zeros(2), atol=1e-5, rtol=0)
    smooth = viz.GaussianBlur(2.0)(x, x, 0)
    assert (viz.spectrum_distance(smooth, x) > 0.3).all()
    assert viz.spectrum_distance(x[:1], torch.rand(1, 3, 64, 64)).item() < 0.2  # noise at two sizes


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="images must be"):
        viz.radial_spectrum(torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match="reference must be"):
        viz.spectrum_distance(torch.rand(1, 3, 8, 8), torch.rand(3, 8, 8))
