"""Where the cameras of the rendered rooms stand: random views, or smooth closed loops.

:func:`random_poses` scatters cameras through a room for depth estimation
(Eigen et al., 2014, trained on views from many rooms); :func:`trajectory`
walks one along a loop, as the videos of Cambridge Landmarks do for PoseNet
(Kendall et al., 2015). Both take a :class:`cnncourse.data.rooms.Room` and
return :class:`Poses`: positions in metres and camera-to-world unit
quaternions (w, x, y, z), in the conventions of :mod:`cnncourse.data.rooms`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from cnncourse.rotations import matrix_to_quaternion

CLEARANCE = 0.5  # metres between a random camera and any wall or object


def _euler(yaw, pitch, roll):
    """Camera-to-world matrices (N, 3, 3) = R_y(yaw) R_x(pitch) R_z(roll), angles (N,) in radians."""
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    one, zero = np.ones_like(yaw), np.zeros_like(yaw)
    Ry = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(-1, 3, 3)
    Rx = np.stack([one, zero, zero, zero, cp, -sp, zero, sp, cp], -1).reshape(-1, 3, 3)
    Rz = np.stack([cr, -sr, zero, sr, cr, zero, zero, zero, one], -1).reshape(-1, 3, 3)
    return torch.from_numpy(Ry @ Rx @ Rz)



class Poses(NamedTuple):
    """Camera poses: positions (N, 3) in metres, quaternions (N, 4) = (w, x, y, z), camera-to-world."""

    positions: torch.Tensor
    quaternions: torch.Tensor


def _poses(positions, yaw, pitch, roll):
    """Poses from positions (N, 3) and angles (N,) in radians (numpy, float64)."""
    quaternions = matrix_to_quaternion(_euler(yaw, pitch, roll)).float()
    return Poses(torch.as_tensor(positions, dtype=torch.float32), quaternions)


def random_poses(room, n, seed=0):
    """``n`` cameras at least ``CLEARANCE`` from walls and objects, 1-2 m above the floor, any yaw,
    pitch ~ N(0, 10 deg) and roll ~ N(0, 5 deg) (clipped at 25 and 15 deg); pose i depends on (seed, i) only."""
    low, high = np.array([0.0, 1.0, 0.0]), np.array([room.size[0].item(), 2.0, room.size[2].item()])
    positions, angles = np.zeros((n, 3)), np.zeros((n, 3))
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        candidates = rng.uniform(low, high, size=(64, 3))
        free = (room.clearance(torch.from_numpy(candidates)) >= CLEARANCE).numpy()
        if not free.any():
            raise RuntimeError(f"random_poses: no free camera position in room {room.seed} after 64 tries")
        positions[i] = candidates[free.argmax()]
        pitch, roll = np.clip(rng.normal(0, np.radians([10, 5])), -np.radians([25, 15]), np.radians([25, 15]))
        angles[i] = rng.uniform(-np.pi, np.pi), pitch, roll
    return _poses(positions, *angles.T)


def trajectory(room, n=200, seed=0):
    """``n`` poses along a smooth closed loop through ``room``, a different loop per ``seed``.

    The loop is a wobbly ellipse around the room's middle (radial harmonics 2 and 3) at a gently
    varying height; the camera looks along the path, with slow yaw, pitch and roll swings of a few
    degrees. Train and test sequences are two seeds in the same room, as in Cambridge Landmarks
    (Kendall et al., 2015). Every position keeps ``CLEARANCE`` / 2 from walls and objects.
    """
    rng = np.random.default_rng(seed)
    theta = 2 * np.pi * np.arange(n) / n
    width, _, depth = room.size.tolist()
    for _ in range(100):
        centre = np.array([width / 2, 0, depth / 2]) + rng.uniform(-0.5, 0.5, 3) * [1, 0, 1]
        radii = rng.uniform([1.0, 1.0], [width / 2 - 1, depth / 2 - 1])
        wobble = 1 + sum(rng.uniform(-0.15, 0.15) * np.cos(k * theta + rng.uniform(0, 2 * np.pi)) for k in (2, 3))
        turn = rng.choice([-1, 1])  # clockwise or counter-clockwise
        height = rng.uniform(1.3, 1.7) + 0.15 * np.sin(2 * theta + rng.uniform(0, 2 * np.pi))
        positions = np.stack([centre[0] + radii[0] * wobble * np.cos(theta), height,
                              centre[2] + turn * radii[1] * wobble * np.sin(theta)], -1)
        if (room.clearance(torch.from_numpy(positions)) >= CLEARANCE / 2).all():
            break
    else:
        raise RuntimeError(f"trajectory: no free loop in room {room.seed} after 100 tries")
    heading = np.roll(positions, -1, 0) - np.roll(positions, 1, 0)  # central differences, closed loop
    yaw = np.arctan2(-heading[:, 0], -heading[:, 2])  # the camera looks along -z
    swing = [a * np.sin(k * theta + rng.uniform(0, 2 * np.pi)) for a, k in ((0.15, 3), (0.08, 2), (0.04, 5))]
    return _poses(positions, yaw + swing[0], swing[1], swing[2])


PATHS = {"random": random_poses, "trajectory": trajectory}
