import pytest
import torch
import torch.nn.functional as F

from cnncourse.layers.conv import conv2d
from cnncourse.layers.normalization import (
    BatchNorm2d, LocalResponseNorm, batch_norm, gaussian_window, local_contrast_norm, local_response_norm, mean_image, subtract_mean_image,
)


@pytest.mark.parametrize("size, alpha, beta, k", [(5, 1e-4, 0.75, 2.0), (4, 1e-2, 0.5, 1.0), (1, 1.0, 1.0, 1.0), (7, 0.1, 0.75, 2.0)])
def test_local_response_norm_matches_torch(size, alpha, beta, k):
    x = torch.randn(2, 9, 5, 4, requires_grad=True)
    ours, ref = local_response_norm(x, size, alpha, beta, k), F.local_response_norm(x, size, alpha, beta, k)
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-5)
    g = torch.randn_like(ref)
    torch.testing.assert_close(torch.autograd.grad(ours, x, g)[0], torch.autograd.grad(ref, x, g)[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(LocalResponseNorm(size, alpha, beta, k)(x), torch.nn.LocalResponseNorm(size, alpha, beta, k)(x))


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5, 5), (2, 3, 7)])
def test_batch_norm_train_and_eval_match_torch_including_running_stats(shape):
    torch.manual_seed(0)
    x = (torch.randn(shape) * 3 + 1).requires_grad_()
    w, b = torch.randn(3, requires_grad=True), torch.randn(3, requires_grad=True)
    ours_stats, ref_stats = (torch.zeros(3), torch.ones(3)), (torch.zeros(3), torch.ones(3))
    for _ in range(3):
        ours = batch_norm(x, *ours_stats, w, b, training=True, momentum=0.2)
        ref = F.batch_norm(x, *ref_stats, w, b, training=True, momentum=0.2)
        torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    for a, r in zip(ours_stats, ref_stats):
        torch.testing.assert_close(a, r)
    g = torch.randn_like(ref)
    for a, r in zip(torch.autograd.grad(ours, (x, w, b), g), torch.autograd.grad(ref, (x, w, b), g)):
        torch.testing.assert_close(a, r, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(batch_norm(x, *ours_stats, w, b), F.batch_norm(x, *ref_stats, w, b), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_module_is_a_drop_in_for_torch(momentum):
    torch.manual_seed(0)
    ours, ref = BatchNorm2d(4, momentum=momentum), torch.nn.BatchNorm2d(4, momentum=momentum)
    ours.load_state_dict(ref.state_dict(), strict=True)
    for _ in range(3):
        x = torch.randn(5, 4, 3, 3) * 2 + 1
        torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[key], value)
    ours.eval(), ref.eval()
    torch.testing.assert_close(ours(x), ref(x), atol=1e-5, rtol=1e-5)


def test_batch_norm_with_one_value_per_channel_in_training_is_an_error():
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3, 1, 1\) has 1"):
        batch_norm(torch.randn(1, 3, 1, 1), torch.zeros(3), torch.ones(3), training=True)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\).*got \(4,\)"):
        batch_norm(torch.randn(2, 3), torch.zeros(4), torch.ones(3), training=True)


def test_local_contrast_norm_gives_local_mean_zero_and_local_std_one():
    torch.manual_seed(0)
    # a textured image with a brightness ramp and strong contrast differences
    x = torch.rand(1, 3, 48, 48) * torch.linspace(0.2, 5, 48) + torch.linspace(0, 3, 48).view(-1, 1)
    y = local_contrast_norm(x, size=7)
    window = (gaussian_window(7) / 3).expand(1, 3, 7, 7)
    inner = (slice(None), slice(None), slice(6, -6), slice(6, -6))
    local_mean = conv2d(y, window)
    local_std = conv2d((y - conv2d(y, window, padding=3)) ** 2, window).sqrt()
    assert local_mean[inner].abs().max() < 0.15
    assert (local_std[inner] - 1).abs().median() < 0.2
    assert y.shape == x.shape
    with pytest.raises(ValueError, match="size must be a positive odd int; got 4"):
        local_contrast_norm(x, size=4)


def test_mean_image_subtraction_centres_every_pixel():
    images = torch.rand(10, 3, 8, 8) + torch.linspace(0, 1, 8)
    centred = subtract_mean_image(images)
    torch.testing.assert_close(centred.mean(0), torch.zeros(3, 8, 8), atol=1e-6, rtol=0)
    assert mean_image(images).shape == (3, 8, 8)
    with pytest.raises(ValueError, match="mean \\(3, 4, 4\\) must match one image \\(3, 8, 8\\)"):
        subtract_mean_image(images, torch.zeros(3, 4, 4))
