"""Rendered rooms for monocular depth (Eigen, Puhrsch & Fergus, 2014) and camera relocalisation (Kendall et al., 2015).

A small vectorised ray caster, offline. A room is an axis-aligned box of
``ROOM_SIZE`` = 8 m wide (x) x 3 m high (y) x 6 m deep (z), its corner at the
origin, y up. Floor, ceiling and walls are tiled with the embedded photos
(one tile per ``TEXTURE_SCALE`` = 2 m, mip-mapped against aliasing); a few
textured boxes stand on the floor and coloured spheres lie on the floor or on
the boxes, all fixed by the room's seed. One point light under the ceiling
gives Lambertian shading with shadows, plus ``AMBIENT`` light.

Camera (OpenGL convention): a pinhole at ``position`` (3,) with orientation
``quaternion`` (4,) = (w, x, y, z), the camera-to-world rotation. The camera
looks along its -z axis, x to the right, y up; image columns grow with x, rows
grow with -y (downwards). ``fov`` is the horizontal field of view in degrees:
pixel (row i, column j) sees the camera-frame direction ``((j + 0.5 - W/2) / f,
-(i + 0.5 - H/2) / f, -1)`` with ``f = (W/2) / tan(fov/2)`` pixels. The
identity quaternion is a level camera looking along world -z.

``depth`` is z-depth in metres, the distance along the optical axis (as NYU
Depth v2 stores it), not the length of the ray. One ray per pixel, no
anti-aliasing at object edges.

Where the cameras stand (random views or closed loops) is
:mod:`cnncourse.data.camera_paths`. Every sample ``i`` of a dataset with seed
``s`` depends on ``(s, i)`` only.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, TensorDataset

from cnncourse.data.camera_paths import CLEARANCE, PATHS, Poses, random_poses, trajectory  # noqa: F401
from cnncourse.data.images import SAMPLE_IMAGES, square_image
from cnncourse.layers._args import pair
from cnncourse.rotations import check_unit, look_at, matrix_unchecked, quaternion_to_matrix  # noqa: F401

ROOM_SIZE = (8.0, 3.0, 6.0)  # metres: width x, height y, depth z
TEXTURE_SCALE = 2.0          # metres per texture tile
TEXTURE_PIXELS = 128         # texels per tile side at the finest mip level
MIP_LEVELS = 6               # 128, 64, ..., 4 texels per tile
AMBIENT = 0.3                # shade of a surface the light does not reach
_BATCH = 16                  # cameras rendered together by room_tensors


@functools.lru_cache(maxsize=1)
def _photo_tiles():
    """Every embedded photo as a (3, TEXTURE_PIXELS, TEXTURE_PIXELS) tile, stacked: (12, 3, S, S)."""
    return torch.stack([square_image(name, TEXTURE_PIXELS) for name in SAMPLE_IMAGES])


def _furnish(rng, size):
    """Random furniture: 2-3 boxes against the walls, 1-2 spheres on the floor or on a box, none overlapping."""
    width, _, depth = size
    boxes, spheres, footprints = [], [], []

    def free(x0, z0, x1, z1):
        return all(x1 + 0.3 < a0 or a1 + 0.3 < x0 or z1 + 0.3 < b0 or b1 + 0.3 < z0 for a0, b0, a1, b1 in footprints)

    for _ in range(int(rng.integers(2, 4))):
        for _ in range(50):
            w, d, h = rng.uniform(0.5, 1.4, size=3)
            x, z = rng.uniform(0.15, width - 0.15 - w), rng.uniform(0.15, depth - 0.15 - d)
            if min(x, z, width - x - w, depth - z - d) < 0.6 and free(x, z, x + w, z + d):  # near a wall
                boxes.append(((x, 0.0, z), (x + w, h, z + d)))
                footprints.append((x, z, x + w, z + d))
                break
    for _ in range(int(rng.integers(1, 3))):
        r = rng.uniform(0.2, 0.4)
        under = [b for b in boxes if min(b[1][0] - b[0][0], b[1][2] - b[0][2]) > 2 * r
                 and not any(abs(s[0][1] - b[1][1] - s[1]) < 1e-9 for s in spheres)]
        if under and rng.uniform() < 0.5:  # on top of a free box
            (x0, _, z0), (x1, h, z1) = under[int(rng.integers(len(under)))]
            spheres.append((((x0 + x1) / 2, h + r, (z0 + z1) / 2), r))
            continue
        for _ in range(50):
            x, z = rng.uniform(r + 0.1, width - r - 0.1), rng.uniform(r + 0.1, depth - r - 0.1)
            if free(x - r, z - r, x + r, z + r):
                spheres.append(((x, r, z), r))
                footprints.append((x - r, z - r, x + r, z + r))
                break
    return boxes, spheres


class Room:
    """A furnished room: the box [0, size] (x, y, z) in metres, y up; see the module docstring.

    ``boxes``: ((x0, y0, z0), (x1, y1, z1)) corners, ``spheres``: ((x, y, z), radius). With
    both None the furniture is random, fixed by ``seed``, which also picks the textures and colours.
    """

    def __init__(self, seed=0, size=ROOM_SIZE, boxes=None, spheres=None):
        rng = np.random.default_rng(seed)
        if boxes is None and spheres is None:
            boxes, spheres = _furnish(rng, size)
        boxes, spheres = list(boxes or []), list(spheres or [])
        self.seed, self.size = seed, torch.tensor(size, dtype=torch.float32)
        self.lo = torch.tensor([b[0] for b in boxes], dtype=torch.float32).reshape(-1, 3)  # (K, 3)
        self.hi = torch.tensor([b[1] for b in boxes], dtype=torch.float32).reshape(-1, 3)
        self.centres = torch.tensor([s[0] for s in spheres], dtype=torch.float32).reshape(-1, 3)  # (M, 3)
        self.radii = torch.tensor([s[1] for s in spheres], dtype=torch.float32)  # (M,)
        if not ((self.lo < self.hi).all() and (self.radii > 0).all()):
            raise ValueError(f"Room: boxes need lo < hi and spheres a positive radius; got {boxes} and {spheres}")
        self.light = self.size * torch.tensor([0.5, 0.75, 0.5])
        k, m = len(boxes), len(spheres)
        # per hit index (0: room, 1..K: boxes, K+1..: spheres), for sphere normals
        self._hit_centres = torch.cat([torch.zeros(1 + k, 3), self.centres]).T
        self._hit_radii = torch.cat([torch.ones(1 + k), self.radii])
        # coordinates first, for the (3, B, P) rays of _trace
        self._lo, self._hi, self._centres = (v.T[:, :, None, None] for v in (self.lo, self.hi, self.centres))
        self._radii2 = self.radii[:, None, None] ** 2
        self._size, self._light = self.size[:, None, None], self.light[:, None, None]
        self._axes = torch.arange(3)[:, None, None]
        # materials: 6 room surfaces (2 * axis + side), then boxes, then spheres; one tile each
        photos = _photo_tiles()
        order = torch.from_numpy(rng.permutation(len(photos)))
        tints = torch.from_numpy(np.concatenate([rng.uniform(0.75, 1.0, (6, 3)), rng.uniform(0.35, 1.0, (k, 3)),
                                                 rng.uniform(0.05, 1.0, (m, 3))])).float()
        tiles = torch.cat([photos[order[:6]], photos[order[6 + torch.arange(k) % (len(photos) - 6)]],
                           torch.ones(m, *photos.shape[1:])]) * tints[:, :, None, None]
        levels = [tiles]
        for _ in range(MIP_LEVELS - 1):
            levels.append(F.avg_pool2d(levels[-1], 2))
        self._atlas = torch.cat([level.transpose(0, 1).reshape(3, -1) for level in levels], 1)  # (3, texels)
        self._offsets = torch.cumsum(torch.tensor([0] + [level[:, 0].numel() for level in levels[:-1]]), 0)

    def clearance(self, points):
        """Distance (...,) from points (..., 3) to the nearest wall or object; <= 0 outside the room or in an object."""
        p = torch.as_tensor(points, dtype=torch.float32)
        walls = torch.minimum(p, self.size - p).amin(-1, keepdim=True)
        boxes = torch.maximum(self.lo - p[..., None, :], p[..., None, :] - self.hi).clamp_min(0).norm(dim=-1)
        spheres = (p[..., None, :] - self.centres).norm(dim=-1) - self.radii
        return torch.cat([walls, boxes, spheres], -1).amin(-1)

    def _objects(self, o, d, inv):
        """Entry distances (K + M, B, P) of the rays o + t d (t > 0) into each box (slab method) and sphere,
        inf where missed, and the axis (K, B, P) of the face each ray enters a box through.

        Coordinates come first: o (3, B, 1 or P), d and inv = 1 / d (3, B, P), so the pixels are innermost.
        """
        o, inv = o[:, None], inv[:, None]
        t1, t2 = (self._lo - o) * inv, (self._hi - o) * inv  # (3, K, B, P)
        t_in, axis = torch.minimum(t1, t2).max(0)
        boxes = torch.where((t_in <= torch.maximum(t1, t2).amin(0)) & (t_in > 0), t_in, math.inf)
        oc = o - self._centres  # (3, M, B, 1 or P)
        a, b = (d * d).sum(0), (oc * d[:, None]).sum(0)
        disc = b * b - a * ((oc * oc).sum(0) - self._radii2)
        t = (-b - disc.clamp_min(0).sqrt()) / a
        return torch.cat([boxes, torch.where((disc >= 0) & (t > 0), t, math.inf)]), axis

    def _trace(self, o, d, f):
        """Colour (3, B, P) and ray parameter t (B, P) of the rays o (3, B, 1) + t d (3, B, P); f in pixels."""
        inv = 1 / torch.where(d == 0, 1e-20, d)
        t_walls, wall_axis = ((torch.where(d > 0, self._size, 0.0) - o) * inv).min(0)  # ray-plane, exit side
        t_objects, box_axis = self._objects(o, d, inv)
        t, hit = torch.cat([t_walls[None], t_objects]).min(0)  # nearest hit wins
        p = o + t * d
        axis = torch.cat([wall_axis[None], box_axis, box_axis.new_zeros(len(self.radii), *t.shape)])
        axis = axis.gather(0, hit[None])
        toward = d.gather(0, axis) > 0  # (1, B, P)
        flat = (axis == self._axes) * torch.where(toward, -1.0, 1.0)  # (3, B, P)
        round_ = (p - _lookup(self._hit_centres, hit)) / _lookup(self._hit_radii, hit)
        normal = torch.where(hit > len(self.lo), round_, flat)
        material = torch.where(hit == 0, 2 * axis[0] + toward[0], hit + 5)
        # texture lookup, mip level from the texels one pixel covers
        px, py, pz = p / TEXTURE_SCALE  # texture axes: (x, z) on the floor and ceiling, else (horizontal, down)
        u, v = torch.where(axis[0] == 0, pz, px), torch.where(axis[0] == 1, pz, -py)
        slant = ((normal * d).sum(0).abs() / (d * d).sum(0).sqrt()).clamp_min(0.05).sqrt()
        level = (t / (f * slant) * (TEXTURE_PIXELS / TEXTURE_SCALE)).log2().add(0.5).floor()
        level = level.clamp(0, MIP_LEVELS - 1).long()
        side = TEXTURE_PIXELS >> level
        row, column = (torch.minimum(((c - c.floor()) * side).long(), side - 1) for c in (v, u))
        colour = _lookup(self._atlas, _lookup(self._offsets, level) + (material * side + row) * side + column)
        # Lambertian shading, shadows from a ray towards the light
        to_light = self._light - p
        distance = (to_light * to_light).sum(0).sqrt()
        blockers, _ = self._objects(p + 1e-3 * normal, to_light, 1 / torch.where(to_light == 0, 1e-20, to_light))
        lit = (blockers >= 1).all(0)
        diffuse = (normal * to_light).sum(0).clamp_min(0) / distance * lit / (1 + (distance / 4) ** 2)
        return colour * (AMBIENT + (1 - AMBIENT) * 2 * diffuse), t


def _lookup(table, index):
    """``table[..., index]`` for a table (..., T) and any index shape (index_select is faster than indexing)."""
    return table.index_select(-1, index.flatten()).view(*table.shape[:-1], *index.shape)


def _check_fov(fn, fov):
    if isinstance(fov, bool) or not isinstance(fov, (int, float)) or not 0 < fov < 180:
        raise ValueError(f"{fn}: fov must be a horizontal field of view in degrees in (0, 180); got {fov!r}")


@functools.lru_cache(maxsize=8)
def _pixel_grid(h, w, fov):
    """The pixel centres' camera-frame x and y (P,) at z = -1, P = H * W row-major, and the focal length f."""
    f = w / 2 / math.tan(math.radians(fov) / 2)
    x = ((torch.arange(w) + 0.5 - w / 2) / f).repeat(h)
    y = (-(torch.arange(h) + 0.5 - h / 2) / f).repeat_interleave(w)
    return x, y, f


def render(room, position, quaternion, size=64, fov=60):
    """Image (3, H, W) float32 in [0, 1] and z-depth (H, W) float32 in metres of ``room`` seen by a camera.

    ``position`` (3,) in metres, ``quaternion`` (4,) = (w, x, y, z) camera-to-world, the camera looking
    along its -z axis (module docstring); ``size`` an int or (H, W); ``fov`` horizontal, in degrees.
    Batched: position (B, 3) and quaternion (B, 4) give images (B, 3, H, W) and depths (B, H, W).
    """
    h, w = pair("render", "size", size)
    _check_fov("render", fov)
    q = check_unit("render", "quaternion", quaternion).float()
    position = torch.as_tensor(position, dtype=torch.float32)
    if position.dim() not in (1, 2) or position.shape[-1] != 3 or position.shape[:-1] != q.shape[:-1]:
        raise ValueError(f"render: position must have shape (3,) or (B, 3), and quaternion (4,) or (B, 4) with "
                         f"the same B; got {tuple(position.shape)} and {tuple(q.shape)}")
    outside = room.clearance(position) <= 0
    if outside.any():
        bounds = " x ".join(f"0..{s:g}" for s in room.size.tolist())
        raise ValueError(f"render: position must be inside the room ({bounds} m) and outside its objects; "
                         f"got {position.reshape(-1, 3)[outside.reshape(-1)].tolist()}")
    R = matrix_unchecked(q).reshape(-1, 3, 3).transpose(0, 1)  # (3, B, 3): world axis, camera, camera axis
    x, y, f = _pixel_grid(h, w, fov)
    d = x * R[..., :1] + y * R[..., 1:2] - R[..., 2:]  # (3, B, P), camera-z component -1
    colour, t = room._trace(position.reshape(-1, 3).T[..., None], d, f)  # t is the z-depth as d has z = -1
    image = colour.clamp(0, 1).transpose(0, 1).reshape(-1, 3, h, w)
    depth = t.reshape(-1, h, w)
    return (image[0], depth[0]) if position.dim() == 1 else (image, depth)


class Rooms(Dataset):
    """``n`` rendered views of the room ``Room(room_seed)``: camera poses from ``random_poses`` or along
    a ``trajectory`` (``path``). Each sample is a dict: ``image`` (3, H, W) float32 in [0, 1], ``depth``
    (H, W) z-depth in metres, ``position`` (3,), ``quaternion`` (4,) = (w, x, y, z) camera-to-world.
    """

    def __init__(self, n=1000, size=64, seed=0, room_seed=0, fov=60, path="random"):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"rooms: n must be a positive int; got {n!r}")
        pair("rooms", "size", size)
        _check_fov("rooms", fov)
        if path not in PATHS:
            raise ValueError(f"rooms: path must be one of {tuple(PATHS)}; got {path!r}")
        self.n, self.size, self.seed, self.fov, self.path = n, size, seed, fov, path
        self.room = Room(room_seed)
        self.poses = PATHS[path](self.room, n, seed)

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        if not -self.n <= index < self.n:
            raise IndexError(f"rooms: index {index} out of range for {self.n} views")
        position, quaternion = self.poses.positions[index], self.poses.quaternions[index]
        image, depth = render(self.room, position, quaternion, self.size, self.fov)
        return {"image": image, "depth": depth, "position": position, "quaternion": quaternion}


def rooms(n=1000, size=64, seed=0, room_seed=0, fov=60, path="random") -> Rooms:
    """A :class:`Rooms` dataset of ``n`` deterministic views."""
    return Rooms(n=n, size=size, seed=seed, room_seed=room_seed, fov=fov, path=path)


class RoomSet(NamedTuple):
    """Rendered views as tensors: images (N, 3, H, W), depths (N, H, W), positions (N, 3), quaternions (N, 4)."""

    images: torch.Tensor
    depths: torch.Tensor
    positions: torch.Tensor
    quaternions: torch.Tensor

    def dataset(self, target="depth") -> TensorDataset:
        """(image, depth) pairs for depth estimation, or (image, position, quaternion) for ``target="pose"``."""
        if target not in ("depth", "pose"):
            raise ValueError(f"RoomSet.dataset: target must be 'depth' or 'pose'; got {target!r}")
        if target == "depth":
            return TensorDataset(self.images, self.depths)
        return TensorDataset(self.images, self.positions, self.quaternions)


def room_tensors(n=1000, size=64, seed=0, room_seed=0, fov=60, path="random") -> RoomSet:
    """The views of ``rooms(...)`` as stacked tensors, rendered ``_BATCH`` cameras at a time."""
    views = Rooms(n=n, size=size, seed=seed, room_seed=room_seed, fov=fov, path=path)
    positions, quaternions = views.poses
    rendered = [render(views.room, positions[i:i + _BATCH], quaternions[i:i + _BATCH], size, fov)
                for i in range(0, n, _BATCH)]
    return RoomSet(torch.cat([r[0] for r in rendered]), torch.cat([r[1] for r in rendered]), positions, quaternions)
