"""Real photographs and textures that ship inside scikit-image and scikit-learn.

No download: these files are part of the installed wheels. Each image comes
back as a float tensor in [0, 1] of shape (C, H, W), C = 3 (colour) or 1 (grey).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


class SampleImage(NamedTuple):
    package: str   # where it ships
    loader: str    # the function or file inside that package
    source: str    # what it is and where it comes from


SAMPLE_IMAGES: dict[str, SampleImage] = {
    "astronaut": SampleImage("scikit-image", "skimage.data.astronaut", "astronaut Eileen Collins, NASA (public domain)"),
    "chelsea": SampleImage("scikit-image", "skimage.data.chelsea", "Chelsea the cat (CC0)"),
    "coffee": SampleImage("scikit-image", "skimage.data.coffee", "a coffee cup (CC0)"),
    "rocket": SampleImage("scikit-image", "skimage.data.rocket", "DSCOVR launch on Falcon 9, SpaceX (public domain)"),
    "camera": SampleImage("scikit-image", "skimage.data.camera", "the cameraman, grey (CC0)"),
    "coins": SampleImage("scikit-image", "skimage.data.coins", "Greek coins from Pompeii, Walters Art Museum, grey"),
    "brick": SampleImage("scikit-image", "skimage.data.brick", "a brick wall, grey texture (CC0)"),
    "grass": SampleImage("scikit-image", "skimage.data.grass", "grass, grey texture (CC0)"),
    "gravel": SampleImage("scikit-image", "skimage.data.gravel", "gravel, grey texture (CC0)"),
    "text": SampleImage("scikit-image", "skimage.data.text", "printed and handwritten text, grey"),
    "china": SampleImage("scikit-learn", "china.jpg", "a Chinese temple, danielbuechele on Flickr (CC BY 2.0)"),
    "flower": SampleImage("scikit-learn", "flower.jpg", "a flower, vultilion on Flickr (CC BY 2.0)"),
}
"""Name -> where the image ships and what it is; the licences are in each package's docs."""


def _load_array(name: str) -> np.ndarray:
    entry = SAMPLE_IMAGES[name]
    if entry.package == "scikit-image":
        import skimage.data

        return getattr(skimage.data, entry.loader.rsplit(".", 1)[1])()
    from sklearn.datasets import load_sample_image

    return load_sample_image(entry.loader)


def sample_image(name: str) -> torch.Tensor:
    """One sample image by name: (3, H, W) or (1, H, W), float32 in [0, 1]."""
    if name not in SAMPLE_IMAGES:
        raise KeyError(f"unknown sample image {name!r}; available: {', '.join(sorted(SAMPLE_IMAGES))}")
    array = _load_array(name)
    tensor = torch.from_numpy(np.array(array))  # a writable copy
    tensor = tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)[:3]
    scale = 255.0 if array.dtype == np.uint8 else 1.0
    return tensor.float().div_(scale).contiguous()


def sample_images(*names: str) -> dict[str, torch.Tensor]:
    """Several sample images by name (all of them when no name is given)."""
    return {name: sample_image(name) for name in (names or SAMPLE_IMAGES)}


def square_image(name: str, size: int = 128) -> torch.Tensor:
    """A sample image as a colour square: the centre crop, resized (antialiased) to (3, size, size) in [0, 1].

    Grey images are repeated over the three channels, so every sample image
    can go into a colour network.
    """
    image = sample_image(name)
    image = image.expand(3, -1, -1) if image.shape[0] == 1 else image
    h, w = image.shape[1:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[None, :, top:top + side, left:left + side]
    resized = torch.nn.functional.interpolate(crop, size=(size, size), mode="bilinear", antialias=True,
                                              align_corners=False)
    return resized[0].clamp(0, 1)


class FaceSet(NamedTuple):
    """Faces and non-faces: images (200, 1, 25, 25) float32 in [0, 1], labels (200,) int64, 1 = face."""

    images: torch.Tensor
    labels: torch.Tensor


def faces() -> FaceSet:
    """scikit-image's ``lfw_subset``: 100 faces from Labeled Faces in the Wild and 100 non-faces cut from
    the backgrounds of the same dataset, grey, 25 x 25 pixels (Huang et al., 2012).

    Real photographs that ship in the scikit-image wheel: the course's
    small real task for transfer learning.
    """
    import skimage.data

    array = skimage.data.lfw_subset()
    images = torch.from_numpy(np.array(array, dtype=np.float32))[:, None]
    scale = 255.0 if array.dtype == np.uint8 else 1.0
    labels = torch.cat([torch.ones(100), torch.zeros(len(array) - 100)]).long()
    return FaceSet(images.div_(scale).contiguous(), labels)
