"""A procedural scene generator: coloured shapes on textured backgrounds.

Every later chapter (localization, detection, segmentation, instance
segmentation, keypoints) trains on these scenes, offline. Each sample is a
dict with

* ``image``: (3, H, W) float32 in [0, 1]
* ``labels``: (K,) int64, 1 = circle, 2 = square, 3 = triangle (0 is background)
* ``boxes``: (K, 4) float32, ``(x1, y1, x2, y2)`` in pixels around the visible part
* ``masks``: (K, H, W) bool, the visible pixels of each instance
* ``semantic``: (H, W) int64, the class of every pixel (0 = background)
* ``keypoints``: (K, 4, 3) float32, ``(x, y, visible)``: a square's four
  corners, a triangle's three corners and its centre, four points on a
  circle's rim at its rotation angle; ``visible`` is 0 where a later
  object covers the point.

The background is a coloured pattern of two gratings (``background=
"gratings"``) or a random crop of one of the photographs and textures that
ship with scikit-image and scikit-learn (``background="photos"``, natural
image statistics for the Visualization part's networks).

Scenes are deterministic: sample ``i`` of a dataset with seed ``s`` depends on
``(s, i)`` only, so it is the same in any order, worker or process.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

CLASSES = ("background", "circle", "square", "triangle")
BACKGROUNDS = ("gratings", "photos")


def _polygon(cx, cy, r, angle, n):
    """Vertices (n, 2) of a regular n-gon, counter-clockwise in image coordinates."""
    a = angle + 2 * np.pi * np.arange(n) / n
    return np.stack([cx + r * np.cos(a), cy - r * np.sin(a)], axis=1)


def _inside_polygon(vertices, x, y):
    """Whether points (x, y) lie inside the convex polygon with these vertices.

    A point is inside when it lies on the same side of every edge; ``_polygon``
    lists vertices in one fixed orientation, so "same side" is one sign.
    """
    inside = np.ones(np.shape(x), bool)
    for (vx, vy), (wx, wy) in zip(vertices, np.roll(vertices, -1, axis=0)):
        inside &= (wx - vx) * (y - vy) - (wy - vy) * (x - vx) <= 0
    return inside


class _Shape:
    """One object: its class, geometry, colour; answers "is (x, y) inside me?"."""

    def __init__(self, label, cx, cy, r, angle, colour):
        self.label, self.cx, self.cy, self.r, self.colour = label, cx, cy, r, colour
        if CLASSES[label] == "circle":
            self.vertices = None
            self.keypoints = _polygon(cx, cy, r, angle, 4)
        elif CLASSES[label] == "square":
            self.vertices = _polygon(cx, cy, r, angle, 4)
            self.keypoints = self.vertices
        else:
            self.vertices = _polygon(cx, cy, r, angle, 3)
            self.keypoints = np.vstack([self.vertices, [[cx, cy]]])

    def contains(self, x, y):
        if self.vertices is None:
            return (x - self.cx) ** 2 + (y - self.cy) ** 2 <= self.r**2
        return _inside_polygon(self.vertices, x, y)


class Shapes(Dataset):
    """``n`` random scenes of ``size`` x ``size`` pixels; see the module docstring."""

    classes = CLASSES

    def __init__(self, n=1000, size=64, objects=(1, 4), min_visible=0.4, seed=0, background="gratings",
                 radius=(0.1, 0.22)):
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"shapes: n must be a positive int; got {n!r}")
        if not isinstance(size, int) or size < 16:
            raise ValueError(f"shapes: size must be an int >= 16; got {size!r}")
        lo, hi = objects
        if not 1 <= lo <= hi:
            raise ValueError(f"shapes: objects must be (min, max) with 1 <= min <= max; got {objects!r}")
        if not 0 <= min_visible <= 1:
            raise ValueError(f"shapes: min_visible must be in [0, 1]; got {min_visible!r}")
        if not 0 < radius[0] <= radius[1] <= 0.5:
            raise ValueError(f"shapes: radius must be (min, max) with 0 < min <= max <= 0.5 (fractions of size); "
                             f"got {radius!r}")
        self.radius = tuple(radius)
        if background not in BACKGROUNDS:
            raise ValueError(f"shapes: background must be one of {BACKGROUNDS}; got {background!r}")
        self.n, self.size, self.objects, self.min_visible, self.seed = n, size, (lo, hi), min_visible, seed
        self.background = background
        self._photos = _photos() if background == "photos" else None
        centres = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
        self._x, self._y = np.meshgrid(centres, centres)

    def __len__(self):
        return self.n

    def _background(self, rng):
        """The background image (H, W, 3) and its mean colour."""
        if self._photos is not None:
            return self._photo_crop(rng)
        return self._gratings(rng)

    def _photo_crop(self, rng):
        """A random square crop of a random photograph, resized to size x size."""
        photo = self._photos[int(rng.integers(len(self._photos)))]
        h, w = photo.shape[1:]
        side = int(rng.integers(min(h, w) // 4, min(h, w) // 2 + 1))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = photo[None, :, top : top + side, left : left + side]
        crop = torch.nn.functional.interpolate(crop, size=(self.size, self.size), mode="bilinear",
                                               align_corners=False, antialias=True)[0]
        if rng.uniform() < 0.5:
            crop = crop.flip(-1)
        image = crop.permute(1, 2, 0).numpy().copy()
        return image, image.reshape(-1, 3).mean(0)

    def _gratings(self, rng):
        """A base colour modulated by two random gratings and fine noise."""
        s = self.size
        base = rng.uniform(0.15, 0.85, size=3).astype(np.float32)
        image = np.broadcast_to(base, (s, s, 3)).copy()
        centres = self._x[0]
        for _ in range(2):
            theta, freq, phase = rng.uniform(0, np.pi), rng.uniform(1, 6) / s, rng.uniform(0, 2 * np.pi)
            # sin(u(x) + v(y)) = sin u cos v + cos u sin v: two 1D sines instead of a 2D one
            u = 2 * np.pi * freq * np.cos(theta) * centres + phase
            v = 2 * np.pi * freq * np.sin(theta) * centres
            wave = np.outer(np.cos(v), np.sin(u)) + np.outer(np.sin(v), np.cos(u))
            tint = (rng.uniform(0.03, 0.12) * rng.uniform(-1, 1, size=3)).astype(np.float32)
            image += wave.astype(np.float32)[..., None] * tint
        return image, base

    def _place(self, rng, placed, owner, background):
        """Try to add one object that leaves every earlier one enough visible area."""
        s = self.size
        for _ in range(20):
            r = rng.uniform(*self.radius) * s
            cx, cy = rng.uniform(r, s - r, size=2)
            colour = rng.uniform(0, 1, size=3)
            if np.abs(colour - background).sum() < 0.6:  # too close to the background
                continue
            shape = _Shape(int(rng.integers(1, len(CLASSES))), cx, cy, r, rng.uniform(0, 2 * np.pi), colour)
            mask = shape.contains(self._x, self._y)
            new_owner = np.where(mask, len(placed), owner)
            before = np.bincount(owner.ravel() + 1, minlength=len(placed) + 2)[1:-1]
            after = np.bincount(new_owner.ravel() + 1, minlength=len(placed) + 2)[1:-1]
            if np.all((after >= self.min_visible * before) & (after > 0)):
                return shape, new_owner
        return None, owner

    def _scene(self, index):
        """The background, the placed shapes (in drawing order) and who owns each pixel."""
        if not -self.n <= index < self.n:
            raise IndexError(f"shapes: index {index} out of range for {self.n} scenes")
        rng = np.random.default_rng([self.seed, index % self.n])
        image, background = self._background(rng)
        owner = np.full((self.size, self.size), -1, dtype=np.int32)
        placed = []
        for _ in range(int(rng.integers(self.objects[0], self.objects[1] + 1))):
            shape, owner = self._place(rng, placed, owner, background)
            if shape is not None:
                placed.append(shape)
        return rng, image, placed, owner

    def layout(self, index) -> dict:
        """What the pixels of scene ``index`` hide: each object's whole shape, before occlusion.

        * ``areas``: (K,) float32, the whole shape's area in pixels (counted on the pixel grid);
        * ``occludes``: (K, K) bool, ``[a, b]`` when a is drawn after b and covers part of it
          (objects are drawn in their index order, later ones on top).
        """
        _, _, placed, _ = self._scene(index)
        whole = np.stack([shape.contains(self._x, self._y) for shape in placed]) if placed else \
            np.zeros((0, self.size, self.size), bool)
        overlap = np.einsum("ahw,bhw->ab", whole.astype(np.int32), whole.astype(np.int32)) > 0
        later = np.arange(len(placed))[:, None] > np.arange(len(placed))[None, :]
        return {"areas": torch.from_numpy(whole.sum((1, 2)).astype(np.float32)),
                "occludes": torch.from_numpy(overlap & later)}

    def __getitem__(self, index):
        rng, image, placed, owner = self._scene(index)
        if placed:
            palette = np.stack([shape.colour for shape in placed]).astype(np.float32)
            image = np.where(owner[..., None] >= 0, palette[owner], image)
        image += rng.uniform(-0.04, 0.04, size=image.shape).astype(np.float32)  # fine grain
        masks = owner[None] == np.arange(len(placed))[:, None, None]  # (K, H, W)
        boxes = np.zeros((len(placed), 4), np.float32)
        keypoints = np.zeros((len(placed), 4, 3), np.float32)
        for i, shape in enumerate(placed):
            ys, xs = np.nonzero(masks[i])
            boxes[i] = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
            kx, ky = shape.keypoints[:, 0], shape.keypoints[:, 1]
            covered = np.zeros(len(kx), bool)
            for later in placed[i + 1:]:
                covered |= later.contains(kx, ky)
            keypoints[i] = np.stack([kx, ky, ~covered], axis=1)
        labels = np.array([shape.label for shape in placed], dtype=np.int64)
        semantic = np.append(labels, 0)[owner]  # owner -1 (background) picks the appended 0
        return {
            "image": torch.from_numpy(np.clip(image, 0, 1).transpose(2, 0, 1).copy()),
            "labels": torch.from_numpy(labels),
            "boxes": torch.from_numpy(boxes),
            "masks": torch.from_numpy(masks),
            "semantic": torch.from_numpy(semantic.astype(np.int64)),
            "keypoints": torch.from_numpy(keypoints),
        }


def shapes(n=1000, size=64, objects=(1, 4), min_visible=0.4, seed=0, background="gratings",
           radius=(0.1, 0.22)) -> Shapes:
    """A :class:`Shapes` dataset of ``n`` deterministic scenes (``radius``: the objects' radii as fractions of size)."""
    return Shapes(n=n, size=size, objects=objects, min_visible=min_visible, seed=seed, background=background,
                  radius=radius)


@functools.lru_cache(maxsize=1)
def _photos():
    """Every embedded sample image as a (3, H, W) float tensor (grey ones repeated)."""
    from cnncourse.data.images import sample_images

    return tuple(image.expand(3, -1, -1).contiguous() for image in sample_images().values())


class ShapeSet(NamedTuple):
    """Single-object scenes as tensors: images (N, 3, S, S), labels (N,) in 0..2
    (circle, square, triangle), masks (N, S, S) bool, the object's pixels, and
    boxes (N, 4) around them, ``(x1, y1, x2, y2)`` in pixels."""

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor
    boxes: torch.Tensor

    def dataset(self) -> TensorDataset:
        """(image, label) pairs for training a classifier."""
        return TensorDataset(self.images, self.labels)

    def localization_dataset(self) -> list:
        """(image, (label, box)) pairs for classification + localisation (``train.fit`` moves both)."""
        return list(zip(self.images, zip(self.labels, self.boxes)))


def single_objects(n=1000, size=64, seed=0, background="photos", radius=(0.2, 0.35)) -> ShapeSet:
    """``n`` scenes with one shape each, for classification (its class, 0..2), attribution (its mask)
    and localisation (its box); ``radius`` sets the range of object sizes (fractions of ``size``)."""
    scenes = Shapes(n=n, size=size, objects=(1, 1), seed=seed, background=background, radius=radius)
    samples = [scenes[i] for i in range(n)]
    return ShapeSet(torch.stack([s["image"] for s in samples]),
                    torch.cat([s["labels"] for s in samples]) - 1,
                    torch.cat([s["masks"] for s in samples]),
                    torch.cat([s["boxes"] for s in samples]))


def segmentation_scenes(n=1000, size=64, seed=0, objects=(1, 4), background="gratings",
                        radius=(0.1, 0.22)) -> TensorDataset:
    """``n`` scenes as (image (3, S, S), semantic labels (S, S)) pairs, stacked, for segmentation."""
    scenes = Shapes(n=n, size=size, objects=objects, seed=seed, background=background, radius=radius)
    samples = [scenes[i] for i in range(n)]
    return TensorDataset(torch.stack([s["image"] for s in samples]), torch.stack([s["semantic"] for s in samples]))


def collate(batch):
    """Stack the images; keep the per-image targets (different K) in a list."""
    images = torch.stack([sample["image"] for sample in batch])
    targets = [{k: v for k, v in sample.items() if k != "image"} for sample in batch]
    return images, targets


def contains_shape(n=600, size=64, seed=0, shape="triangle", objects=(2, 3), background="photos",
                   radius=(0.15, 0.25)) -> TensorDataset:
    """Scenes of several shapes and whether ``shape`` is among them: images (N, 3, S, S), labels (N,) 0/1.

    A task the single-object classifiers were not trained for (several,
    smaller objects, and a yes/no question), on the same kind of scenes:
    the course's target task for transfer learning.
    """
    if shape not in CLASSES[1:]:
        raise ValueError(f"contains_shape: shape must be one of {CLASSES[1:]}; got {shape!r}")
    scenes = Shapes(n=n, size=size, objects=objects, seed=seed, background=background, radius=radius)
    samples = [scenes[i] for i in range(n)]
    label = CLASSES.index(shape)
    return TensorDataset(torch.stack([s["image"] for s in samples]),
                         torch.tensor([int((s["labels"] == label).any()) for s in samples]))
