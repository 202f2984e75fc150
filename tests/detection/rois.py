"""Random feature maps and RoIs for the RoI operations' tests, and the comparison of values and gradients."""

import torch


def feature_map_and_rois(dtype, channels=3, seed=0, degenerate=True, k=25):
    """A (2, channels, 14, 18) map and k RoIs (k, 5), some reaching past the map, the first three points."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, channels, 14, 18, generator=g, dtype=dtype).requires_grad_()
    index = torch.randint(0, 2, (k, 1), generator=g).to(dtype)
    corner = torch.rand(k, 2, generator=g, dtype=dtype) * 80 - 10
    size = torch.rand(k, 2, generator=g, dtype=dtype) * 50
    if degenerate:
        size[:3] = 0  # degenerate boxes: a point, as torchvision allows
    return x, torch.cat([index, corner, corner + size], 1)


def compare(ours, reference, x, atol):
    """Equal values, and equal gradients with respect to ``x`` for one random output gradient."""
    torch.testing.assert_close(ours, reference, atol=atol, rtol=0)
    grad = torch.randn_like(reference)
    (mine,), (theirs,) = torch.autograd.grad(ours, x, grad), torch.autograd.grad(reference, x, grad)
    torch.testing.assert_close(mine, theirs, atol=atol, rtol=0)
