"""Grading: the exercises of the chapter *Encoder-decoders*."""

import pytest
import torch
import torch.nn.functional as F

UNPOOL = pytest.mark.forbid("torch.nn.functional.max_unpool2d", "torch.nn.MaxUnpool2d",
                            "cnncourse.layers.max_unpool2d", "cnncourse.layers.upsampling.max_unpool2d")


@UNPOOL
@pytest.mark.points(1)
def test_max_unpool_by_hand(submission):
    x = torch.tensor([[[[1.0, 2, 0, 0], [0, 5, 3, 1], [7, 0, 0, 0], [1, 1, 0, 4]]]])
    pooled, indices = F.max_pool2d(x, 2, return_indices=True)
    got = submission("encoder_decoder").max_unpool(pooled, indices, (4, 4))
    expected = torch.tensor([[[[0.0, 0, 0, 0], [0, 5, 3, 0], [7, 0, 0, 0], [0, 0, 0, 4]]]])
    torch.testing.assert_close(got, expected)


@UNPOOL
@pytest.mark.points(3)
@pytest.mark.parametrize("shape, kernel, seed", [((2, 3, 8, 6), 2, 0), ((1, 4, 9, 9), 3, 1), ((3, 2, 7, 10), 2, 2)])
def test_max_unpool_equals_torch(submission, shape, kernel, seed):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    pooled, indices = F.max_pool2d(x, kernel, return_indices=True)
    size = x.shape[-2:]
    got = submission("encoder_decoder").max_unpool(pooled, indices, tuple(size))
    torch.testing.assert_close(got, F.max_unpool2d(pooled, indices, kernel, output_size=size))


@UNPOOL
@pytest.mark.points(1)
def test_max_unpool_passes_gradients_to_the_pooled_values(submission):
    x = torch.randn(1, 2, 6, 6)
    pooled, indices = F.max_pool2d(x, 2, return_indices=True)
    pooled.requires_grad_()
    submission("encoder_decoder").max_unpool(pooled, indices, (6, 6)).sum().backward()
    torch.testing.assert_close(pooled.grad, torch.ones_like(pooled))


@pytest.mark.points(2)
@pytest.mark.parametrize("enc, dec", [((64, 64), (56, 56)), ((9, 12), (4, 7)), ((6, 6), (6, 6))])
def test_copy_and_crop_takes_the_central_window_encoder_first(submission, enc, dec):
    g = torch.Generator().manual_seed(sum(enc))
    encoder, decoder = torch.randn(2, 3, *enc, generator=g), torch.randn(2, 5, *dec, generator=g)
    got = submission("encoder_decoder").copy_and_crop(decoder, encoder)
    top, left = (enc[0] - dec[0]) // 2, (enc[1] - dec[1]) // 2
    expected = torch.cat([encoder[..., top:top + dec[0], left:left + dec[1]], decoder], 1)
    assert got.shape == (2, 8, *dec), f"expected (N, C2 + C1, h, w) = (2, 8, {dec[0]}, {dec[1]}); got {tuple(got.shape)}"
    torch.testing.assert_close(got, expected)
