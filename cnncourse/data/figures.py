"""Articulated stick figures with joint targets, for human-pose estimation.

DeepPose (Toshev & Szegedy, CVPR 2014, "DeepPose: Human Pose Estimation via
Deep Neural Networks") casts pose estimation as regression of the 2D
positions of a fixed list of body joints. This module generates, offline, the
data for that task: a stick figure on a textured background and its ``JOINTS``.

A figure is a kinematic tree rooted at the neck. Each bone (the table
``BONES``) has a length relative to the torso (neck to mid-hip = 1), angle
limits relative to its parent bone, and a half-thickness. A sample draws every
angle uniformly within its limits, a whole-body rotation (lean) of up to
``LEAN`` degrees, a body scale (``scale``: the height of the figure standing
straight, top of the head to the feet, as a fraction of the image size,
``HEIGHT`` torso units) and a position that keeps the figure in the image where
it fits. Bones are drawn as capsules (points within a half-thickness of a
segment), the torso as a thicker capsule, the head as a disc, all in one
colour far from the background's mean colour; the background is a random crop
of an embedded photo or a pattern of gratings (``cnncourse.data.shapes``).

The figure faces the viewer: its left joints are on the image's right when it
stands upright. ``FLIP`` swaps left and right, for horizontal-flip augmentation
(flip the image, map ``x`` to ``size - x``, then reorder the joints by ``FLIP``).

With probability ``occlusion`` a rectangle of another background crop is
pasted over a random in-image joint. A joint is visible when it lies inside
the image and outside that rectangle. Each sample is a dict with

* ``image``: (3, H, W) float32 in [0, 1];
* ``joints``: (14, 2) float32, ``(x, y)`` in pixels (pixel ``(i, j)`` has its
  centre at ``(j + 0.5, i + 0.5)``); joints may lie outside the image;
* ``visible``: (14,) bool;
* ``mask``: (H, W) bool, the figure's visible pixels.

Sample ``i`` of a dataset with seed ``s`` depends on ``(s, i)`` only.
"""

from __future__ import annotations

from numbers import Real
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset

from cnncourse.data.shapes import BACKGROUNDS, Shapes

JOINTS = ("head", "neck", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_hand", "right_hand",
          "left_hip", "right_hip", "left_knee", "right_knee", "left_foot", "right_foot")

# child: (parent, length, (min, max) angle in degrees relative to the parent bone, half-thickness), lengths in torso
# units. Angle 0 points along the parent bone (along the spine, downwards, for the bones leaving the neck); positive
# angles turn towards the figure's left (+x in the upright figure). Right rows mirror the left ones.
_LEFT_BONES = {
    "head": ("neck", 0.45, (160, 200), 0.12),
    "left_shoulder": ("neck", 0.45, (80, 100), 0.16),
    "left_elbow": ("left_shoulder", 0.6, (-95, 85), 0.12),
    "left_hand": ("left_elbow", 0.55, (-45, 145), 0.1),
    "left_hip": ("neck", 1.02, (9, 14), 0.16),
    "left_knee": ("left_hip", 0.85, (-30, 75), 0.15),
    "left_foot": ("left_knee", 0.85, (-80, 10), 0.12),
}
TORSO_RADIUS, HEAD_RADIUS = 0.3, 0.27  # the torso capsule (neck to mid-hip) and the head disc, torso units
LEAN = 35  # the whole-body rotation is uniform in (-LEAN, LEAN) degrees
MIN_RADIUS = 0.75  # pixels: every capsule covers the pixel that holds its end joints


def _mirror(name):
    side = {"left": "right", "right": "left"}
    first, _, rest = name.partition("_")
    return f"{side[first]}_{rest}" if first in side else name


def _mirror_row(row):
    parent, length, (lo, hi), radius = row
    return _mirror(parent), length, (-hi, -lo), radius


FLIP = tuple(JOINTS.index(_mirror(name)) for name in JOINTS)
BONES = {name: _LEFT_BONES[name] if name in _LEFT_BONES else _mirror_row(_LEFT_BONES[_mirror(name)])
         for name in JOINTS if name != "neck"}  # in JOINTS order: every parent comes before its children
LIMBS = tuple((JOINTS.index(parent), JOINTS.index(child)) for child, (parent, *_) in BONES.items())
HEIGHT = HEAD_RADIUS + BONES["head"][1] + 1 + BONES["left_knee"][1] + BONES["left_foot"][1]


def _capsules(x, y, a, b, radius):
    """Whether the pixel centres ``x``, ``y`` (H, W) lie within ``radius`` (S,) of segments ``a`` -> ``b`` (S, 2)."""
    ax, ay, dx, dy = (v[:, None, None] for v in (a[:, 0], a[:, 1], b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]))
    t = np.clip(((x - ax) * dx + (y - ay) * dy) / np.maximum(dx**2 + dy**2, 1e-12), 0, 1)
    return ((x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= radius[:, None, None] ** 2).any(0)


def _skeleton(rng):
    """Joint positions (14, 2) in torso units, neck at the origin, from random angles within ``BONES``' limits."""
    joints, angle = np.zeros((len(JOINTS), 2)), np.zeros(len(JOINTS))
    neck = JOINTS.index("neck")
    angle[neck] = np.deg2rad(rng.uniform(-LEAN, LEAN))  # the spine's direction, 0 = down
    for (p, c), (_, length, (lo, hi), _) in zip(LIMBS, BONES.values()):
        angle[c] = angle[p] + np.deg2rad(rng.uniform(lo, hi))
        joints[c] = joints[p] + length * np.array([np.sin(angle[c]), np.cos(angle[c])])
    return joints


class Figures(Dataset):
    """``n`` random stick figures of ``size`` x ``size`` pixels; see the module docstring."""

    def __init__(self, n=1000, size=64, seed=0, background="photos", occlusion=0.0, scale=(0.6, 0.9)):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"figures: n must be a positive int; got {n!r}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 16:
            raise ValueError(f"figures: size must be an int >= 16; got {size!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"figures: seed must be a non-negative int; got {seed!r}")
        if background not in BACKGROUNDS:
            raise ValueError(f"figures: background must be one of {BACKGROUNDS}; got {background!r}")
        if not isinstance(occlusion, Real) or not 0 <= occlusion <= 1:
            raise ValueError(f"figures: occlusion must be a probability in [0, 1]; got {occlusion!r}")
        if not (isinstance(scale, (tuple, list)) and len(scale) == 2 and all(isinstance(v, Real) for v in scale)
                and 0 < scale[0] <= scale[1]):
            raise ValueError(f"figures: scale must be (min, max) with 0 < min <= max (the standing height as a "
                             f"fraction of size); got {scale!r}")
        self.n, self.size, self.seed, self.background = n, size, seed, background
        self.occlusion, self.scale = float(occlusion), tuple(float(v) for v in scale)
        self._scenes = Shapes(n=1, size=size, background=background)  # its backgrounds and pixel-centre grid
        self._radii = np.array([row[3] for row in BONES.values()] + [TORSO_RADIUS, HEAD_RADIUS])
        self._segments = np.array(LIMBS + ((JOINTS.index("neck"), -1), (JOINTS.index("head"),) * 2))

    def __len__(self):
        return self.n

    def _place(self, rng, joints):
        """Scale and shift the skeleton (torso units) to pixels; the figure stays in the image where it fits."""
        unit = rng.uniform(*self.scale) * self.size / HEIGHT
        joints = joints * unit
        head = joints[JOINTS.index("head")]
        lo = np.minimum(joints.min(0), head - HEAD_RADIUS * unit)
        hi = np.maximum(joints.max(0), head + HEAD_RADIUS * unit)
        a, b = -lo, self.size - hi  # shifts that keep the figure's extent inside the image (if a <= b)
        return joints + rng.uniform(np.minimum(a, b), np.maximum(a, b)), unit

    def __getitem__(self, index):
        if not -self.n <= index < self.n:
            raise IndexError(f"figures: index {index} out of range for {self.n} figures")
        rng = np.random.default_rng([self.seed, index % self.n])
        image, mean = self._scenes._background(rng)
        colour = rng.uniform(0, 1, size=3)
        while np.abs(colour - mean).sum() < 0.6:  # too close to the background
            colour = rng.uniform(0, 1, size=3)
        joints, unit = self._place(rng, _skeleton(rng))
        hips = joints[[JOINTS.index("left_hip"), JOINTS.index("right_hip")]].mean(0)
        points = np.vstack([joints, hips]).astype(np.float32)  # index -1: mid-hip, the torso's lower end
        a, b = points[self._segments[:, 0]], points[self._segments[:, 1]]
        radii = np.maximum(self._radii * unit, MIN_RADIUS).astype(np.float32)
        mask = _capsules(self._scenes._x, self._scenes._y, a, b, radii)  # float32: twice as fast
        image = np.where(mask[..., None], colour.astype(np.float32), image)
        visible = ((joints >= 0) & (joints < self.size)).all(1)
        if rng.uniform() < self.occlusion:
            image, mask, visible = self._occlude(rng, image, mask, joints, visible)
        image += rng.uniform(-0.04, 0.04, size=image.shape).astype(np.float32)  # fine grain, as in shapes
        return {
            "image": torch.from_numpy(np.clip(image, 0, 1).transpose(2, 0, 1).copy()),
            "joints": torch.from_numpy(joints.astype(np.float32)),
            "visible": torch.from_numpy(visible),
            "mask": torch.from_numpy(mask),
        }

    def _occlude(self, rng, image, mask, joints, visible):
        """Paste a rectangle of another background over a random in-image joint; hide what it covers."""
        s = self.size
        inside = np.flatnonzero(visible) if visible.any() else np.arange(len(JOINTS))
        cx, cy = np.clip(joints[rng.choice(inside)], 0, s - 1e-6).astype(int)
        w, h = rng.integers(s // 5, s // 2 + 1, size=2)
        x0, y0 = max(cx - int(rng.integers(w)), 0), max(cy - int(rng.integers(h)), 0)
        x1, y1 = min(x0 + w, s), min(y0 + h, s)  # covers pixel (cy, cx): x0 <= cx < x1, y0 <= cy < y1
        patch, _ = self._scenes._background(rng)
        image[y0:y1, x0:x1], mask[y0:y1, x0:x1] = patch[y0:y1, x0:x1], False
        px, py = np.floor(joints).T
        return image, mask, visible & ~((x0 <= px) & (px < x1) & (y0 <= py) & (py < y1))


def figures(n=1000, size=64, seed=0, background="photos", occlusion=0.0, scale=(0.6, 0.9)) -> Figures:
    """A :class:`Figures` dataset of ``n`` deterministic stick figures."""
    return Figures(n=n, size=size, seed=seed, background=background, occlusion=occlusion, scale=scale)


class FigureSet(NamedTuple):
    """Stick figures as tensors: images (N, 3, S, S), joints (N, 14, 2) ``(x, y)`` pixels, visible (N, 14) bool."""

    images: torch.Tensor
    joints: torch.Tensor
    visible: torch.Tensor


def figure_tensors(n=1000, size=64, seed=0, background="photos", occlusion=0.0, scale=(0.6, 0.9)) -> FigureSet:
    """The ``n`` samples of ``figures(...)`` stacked, for fast training of a joint regressor (DeepPose)."""
    data = figures(n=n, size=size, seed=seed, background=background, occlusion=occlusion, scale=scale)
    samples = [data[i] for i in range(n)]
    return FigureSet(*(torch.stack([s[key] for s in samples]) for key in ("image", "joints", "visible")))
