"""Texture or shape? Silhouettes filled with textures, and the shape-bias metric.

Geirhos et al. (ICLR 2019, "ImageNet-trained CNNs are biased towards
texture; increasing shape bias improves accuracy and robustness") showed
ImageNet CNNs *cue-conflict* images, the shape of one class with the texture
of another, and counted which cue each decision followed. This module builds
the same experiment from the embedded data:

* the **shapes** are the shape generator's circle, square and triangle
  (:mod:`cnncourse.data.shapes`, its geometry imported, not copied), one
  large shape per image, at a random position, size and rotation;
* the **textures** are the three grey textures that ship with scikit-image,
  ``TEXTURE_CLASSES`` = brick, grass, gravel: texture class ``k`` goes with
  shape class ``k`` (circle-brick, square-grass, triangle-gravel). They are
  kept grey, and each texture image is normalised to the same mean and
  contrast, so the texture cue is the *pattern*, not a colour or a grey
  level;
* the silhouette is filled with a crop of the texture and sits on a plain
  grey background (``background="plain"``: a uniform level kept at least
  0.2 away from the textures' mean of 0.5, so the silhouette is always
  visible) or on a crop of one of the colour photographs
  (``background="photos"``). A fine grain (uniform, +-0.03, independent per
  pixel and channel) covers the whole image.

Three ``mode`` s:

* ``"consistent"``: texture class = shape class; both cues predict the label;
* ``"conflict"``: the texture of one of the two *other* classes (uniformly);
  both labels are returned;
* ``"random_texture"``: the texture is a crop of one of ``STYLE_TEXTURES``
  (the other embedded images, made grey), drawn independently of the class:
  only the shape predicts the label. This is the idea of Geirhos et al.'s
  Stylized-ImageNet, where style transfer replaced each image's texture by
  that of a random painting. The texture label is then ``-1`` (no class).

Train and test images crop their textures (and photo backgrounds) from
disjoint column bands of each image (:func:`texture_region`; a gap between
the bands keeps the antialiased downscaling from mixing them), so a network
cannot pass the test by remembering texture pixels.

Images are deterministic: image ``i`` depends on ``(seed, split, i)`` only,
and the three modes share everything but the texture, so image ``i`` of a
conflict set is image ``i`` of the consistent set with another texture.

:func:`shape_bias` is the paper's metric: among the cue-conflict images whose
decision follows one of the two cues, the fraction that follows the shape.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import TensorDataset

from cnncourse.data.shapes import CLASSES as _SHAPE_CLASSES
from cnncourse.data.shapes import _Shape

SHAPES = _SHAPE_CLASSES[1:]  # ("circle", "square", "triangle"): shape label k = SHAPES[k]
TEXTURE_CLASSES = ("brick", "grass", "gravel")  # texture label k = TEXTURE_CLASSES[k], paired with SHAPES[k]
STYLE_TEXTURES = ("camera", "coins", "text", "astronaut", "chelsea", "coffee", "rocket", "china", "flower")
"""The random-texture pool: every other embedded image, made grey and normalised like the class textures."""
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "china", "flower")  # colour backgrounds
MODES = ("consistent", "conflict", "random_texture")
SPLITS = ("train", "test")
BACKGROUNDS = ("plain", "photos")
REGIONS = {"train": (0.0, 0.65), "test": (0.7, 1.0)}
"""The column band of every texture image that each split crops from, as fractions of its width."""
TEXTURE_MEAN, TEXTURE_STD = 0.5, 0.15  # every texture image is normalised to these


class CueSet(NamedTuple):
    """Images (N, 3, S, S) in [0, 1], their shape labels (N,) and texture labels (N,).

    Labels are indices into ``SHAPES`` and ``TEXTURE_CLASSES``; a texture
    label of -1 marks a texture from the random pool (no class).
    """

    images: torch.Tensor
    shape_labels: torch.Tensor
    texture_labels: torch.Tensor

    def dataset(self, labels: str = "shape") -> TensorDataset:
        """(image, label) pairs for training a classifier on the ``"shape"`` or ``"texture"`` label."""
        if labels not in ("shape", "texture"):
            raise ValueError(f"CueSet.dataset: labels must be 'shape' or 'texture'; got {labels!r}")
        return TensorDataset(self.images, self.shape_labels if labels == "shape" else self.texture_labels)


def texture_region(split: str, width: int) -> slice:
    """The columns of a ``width``-pixel-wide texture that ``split`` crops from (``REGIONS``)."""
    if split not in SPLITS:
        raise ValueError(f"texture_region: split must be one of {SPLITS}; got {split!r}")
    low, high = REGIONS[split]
    return slice(int(np.ceil(low * width)), int(np.floor(high * width)))


@functools.lru_cache(maxsize=8)
def _textures(names: tuple, side: int, grey: bool) -> tuple:
    """The named images resized so their shorter side is ``side`` pixels, as float32 (C, H, W) arrays.

    Grey ones (``grey=True``: colour images averaged over channels) are
    normalised to ``TEXTURE_MEAN`` and ``TEXTURE_STD`` and clipped to [0, 1].
    """
    from cnncourse.data.images import sample_image

    out = []
    for name in names:
        image = sample_image(name)
        h, w = image.shape[1:]
        scale = side / min(h, w)
        size = (max(side, round(h * scale)), max(side, round(w * scale)))
        image = torch.nn.functional.interpolate(image[None], size=size, mode="bilinear", align_corners=False,
                                                antialias=True)[0]
        if grey:
            image = image.mean(0, keepdim=True)
            image = (TEXTURE_MEAN + TEXTURE_STD * (image - image.mean()) / image.std()).clamp(0, 1)
        else:
            image = image.expand(3, -1, -1)
        out.append(image.numpy().astype(np.float32).copy())
    return tuple(out)


def _crop(rng, image, size, split):
    """A size x size crop (C, size, size) of ``image`` inside ``split``'s band, randomly flipped or transposed."""
    _, h, w = image.shape
    band = texture_region(split, w)
    top = int(rng.integers(0, h - size + 1))
    left = int(rng.integers(band.start, band.stop - size + 1))
    crop = image[:, top : top + size, left : left + size]
    if rng.uniform() < 0.5:
        crop = crop[:, :, ::-1]
    if rng.uniform() < 0.5:
        crop = crop[:, ::-1, :]
    if rng.uniform() < 0.5:
        crop = crop.transpose(0, 2, 1)
    return crop


def cue_conflict(n: int = 1000, size: int = 32, mode: str = "consistent", split: str = "train", seed: int = 0,
                 background: str = "plain", radius=(0.28, 0.45), texture_scale: float = 0.25) -> CueSet:
    """``n`` texture-filled silhouettes of ``size`` x ``size`` pixels; see the module docstring.

    ``mode``: ``"consistent"``, ``"conflict"`` or ``"random_texture"``.
    ``split``: ``"train"`` or ``"test"``, which band of every texture the
    crops come from. ``radius``: (min, max) of the shape's circumradius as a
    fraction of ``size``. ``texture_scale``: the fraction of a texture
    image's shorter side that one image spans (at most 0.3, so a crop fits
    in the test band). Shape classes are drawn uniformly.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"cue_conflict: n must be a positive int; got {n!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 16:
        raise ValueError(f"cue_conflict: size must be an int >= 16; got {size!r}")
    if mode not in MODES:
        raise ValueError(f"cue_conflict: mode must be one of {MODES}; got {mode!r}")
    if split not in SPLITS:
        raise ValueError(f"cue_conflict: split must be one of {SPLITS}; got {split!r}")
    if background not in BACKGROUNDS:
        raise ValueError(f"cue_conflict: background must be one of {BACKGROUNDS}; got {background!r}")
    if len(radius) != 2 or not 0 < radius[0] <= radius[1] <= 0.5:
        raise ValueError(f"cue_conflict: radius must be (min, max) with 0 < min <= max <= 0.5 (fractions of size); "
                         f"got {radius!r}")
    if not 0 < texture_scale <= 0.3:
        raise ValueError(f"cue_conflict: texture_scale must be in (0, 0.3]; got {texture_scale!r}")
    side = round(size / texture_scale)
    classes = _textures(TEXTURE_CLASSES, side, True)
    pool = _textures(STYLE_TEXTURES, side, True)
    photos = _textures(PHOTOS, side, False) if background == "photos" else None
    centres = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
    x, y = np.meshgrid(centres, centres)
    images = np.empty((n, 3, size, size), np.float32)
    shape_labels = np.empty(n, np.int64)
    texture_labels = np.empty(n, np.int64)
    for i in range(n):
        rng = np.random.default_rng([seed, SPLITS.index(split), i])
        # what every mode shares: the shape, the background, the crop's position
        label = int(rng.integers(len(SHAPES)))
        r = rng.uniform(*radius) * size
        cx, cy = rng.uniform(r, size - r, size=2)
        mask = _Shape(label + 1, cx, cy, r, rng.uniform(0, 2 * np.pi), None).contains(x, y)
        if photos is None:
            level = rng.uniform(0.1, 0.3)
            level = level if rng.uniform() < 0.5 else 1 - level
            image = np.full((3, size, size), level, np.float32)
        else:
            image = _crop(rng, photos[int(rng.integers(len(photos)))], size, split).copy()
        other = (label + int(rng.integers(1, len(SHAPES)))) % len(SHAPES)  # a texture of another class
        style = int(rng.integers(len(pool)))
        crop_rng = np.random.default_rng(rng.integers(2**63))  # the crop's position, whatever the texture
        # what the mode decides: the texture
        if mode == "random_texture":
            texture, texture_labels[i] = pool[style], -1
        else:
            texture_labels[i] = label if mode == "consistent" else other
            texture = classes[texture_labels[i]]
        image = np.where(mask, _crop(crop_rng, texture, size, split), image)
        image += rng.uniform(-0.03, 0.03, size=image.shape).astype(np.float32)  # fine grain
        images[i] = np.clip(image, 0, 1)
        shape_labels[i] = label
    return CueSet(torch.from_numpy(images), torch.from_numpy(shape_labels), torch.from_numpy(texture_labels))


def _labels(value, argument, length=None) -> torch.Tensor:
    """``value`` as a 1-D int64 tensor of class indices >= 0 on the CPU, or a ValueError naming ``argument``."""
    tensor = torch.as_tensor(value).detach().cpu()
    if tensor.numel() == 0:
        tensor = tensor.long()  # [] is float to torch
    if tensor.dim() != 1:
        hint = " (class indices: take logits.argmax(1))" if argument == "predictions" else ""
        raise ValueError(f"shape_bias: {argument} must be 1-D{hint}; got shape {tuple(tensor.shape)}")
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise ValueError(f"shape_bias: {argument} must hold integer class indices; got dtype {tensor.dtype}")
    if length is not None and len(tensor) != length:
        raise ValueError(f"shape_bias: {argument} must have one entry per prediction ({length}); got {len(tensor)}")
    if len(tensor) and int(tensor.min()) < 0:
        raise ValueError(f"shape_bias: {argument} must be class indices >= 0 (random-texture images have no "
                         f"texture class); got {int(tensor.min())}")
    return tensor.long()


def cue_decisions(predictions, shape_labels, texture_labels) -> dict[str, int]:
    """How the decisions on the cue-conflict images split: ``{"shape", "texture", "neither", "conflict"}``.

    Only images whose shape and texture labels differ count (``conflict``
    is their number); each is a shape decision, a texture decision, or
    neither (a third class).
    """
    predictions = _labels(predictions, "predictions")
    shape_labels = _labels(shape_labels, "shape_labels", len(predictions))
    texture_labels = _labels(texture_labels, "texture_labels", len(predictions))
    conflict = shape_labels != texture_labels
    shape = int((conflict & (predictions == shape_labels)).sum())
    texture = int((conflict & (predictions == texture_labels)).sum())
    total = int(conflict.sum())
    return {"shape": shape, "texture": texture, "neither": total - shape - texture, "conflict": total}


def shape_bias(predictions, shape_labels, texture_labels) -> float:
    """Geirhos et al.'s (2019) shape bias: shape decisions / (shape + texture decisions).

    ``predictions``, ``shape_labels`` and ``texture_labels``: one class index
    per image (1-D, same length; tensors, arrays or lists). As in the paper,
    only cue-conflict images count (shape label != texture label), and
    among them only those whose decision is the shape's or the texture's
    class: an image classified as a third class is left out. 1 means every
    counted decision followed the shape, 0 every one the texture; NaN when no
    conflict image was decided by either cue.
    """
    counts = cue_decisions(predictions, shape_labels, texture_labels)
    decided = counts["shape"] + counts["texture"]
    return counts["shape"] / decided if decided else float("nan")
