"""Data augmentation on batches of images, as AlexNet used it (Krizhevsky et al., 2012).

AlexNet trained on random 224x224 crops of 256x256 images and their mirror
images, multiplying its training set by 2048. Here the same two transforms
work on a whole batch (N, C, H, W) at once, on any device, and keep the size:
:func:`random_crop` pads by ``padding`` and cuts a window of the original
size at a random offset per image (a random shift of up to ``padding``
pixels). Pass them to :func:`cnncourse.train.fit` as ``augment=``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnncourse.layers._args import check_tensor


def random_crop(images: torch.Tensor, padding: int = 4) -> torch.Tensor:
    """Shift each image by a random (dy, dx) in [-padding, padding], filling with zeros. (N, C, H, W) -> same."""
    check_tensor("random_crop", "images", images, 4, "(N, C, H, W)")
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"random_crop: padding must be an int >= 0; got {padding!r}")
    n, c, h, w = images.shape
    padded = F.pad(images, (padding,) * 4)
    dy, dx = torch.randint(0, 2 * padding + 1, (2, n, 1), device=images.device)
    rows = (dy + torch.arange(h, device=images.device))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx + torch.arange(w, device=images.device))[:, None, None, :]  # (N, 1, 1, W)
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    channel = torch.arange(c, device=images.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def random_hflip(images: torch.Tensor, p: float = 0.5) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``. (N, C, H, W) -> same."""
    check_tensor("random_hflip", "images", images, 4, "(N, C, H, W)")
    if not 0 <= p <= 1:
        raise ValueError(f"random_hflip: p must be in [0, 1]; got {p!r}")
    flip = torch.rand(images.shape[0], device=images.device) < p
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def compose(*transforms):
    """Apply ``transforms`` in order: ``compose(random_crop, random_hflip)``."""
    def apply(images):
        for transform in transforms:
            images = transform(images)
        return images

    return apply
