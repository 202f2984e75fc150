"""Rotations as unit quaternions (w, x, y, z): checks, conversions, a camera's look-at, angles.

Shared by the rendered rooms (:mod:`cnncourse.data.rooms`), whose cameras
carry a camera-to-world quaternion, and PoseNet (:mod:`cnncourse.relocalization`),
which regresses one. q and -q are the same rotation; :func:`matrix_to_quaternion`
picks w >= 0, :func:`angle_between` ignores the sign.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

UNIT_TOLERANCE = 1e-3  # how far from 1 a quaternion's norm may be and still count as a rotation


def check_unit(fn: str, name: str, q, tolerance: float = UNIT_TOLERANCE) -> torch.Tensor:
    """``q`` as a float tensor (..., 4) of unit quaternions, renormalised.

    An error names the first zero quaternion, or the first whose norm is more
    than ``tolerance`` from 1.
    """
    q = torch.as_tensor(q)
    q = q if q.is_floating_point() else q.float()
    if q.dim() == 0 or q.shape[-1] != 4:
        raise ValueError(f"{fn}: {name} must have shape (..., 4), (w, x, y, z); got {tuple(q.shape)}")
    norm = q.norm(dim=-1, keepdim=True)
    rows = norm.reshape(-1)
    if (rows == 0).any():
        raise ValueError(f"{fn}: {name} must be unit quaternions (w, x, y, z); row {int((rows == 0).nonzero()[0])} "
                         f"is zero")
    off = (rows - 1).abs() > tolerance
    if off.any():
        row = int(off.nonzero()[0])
        raise ValueError(f"{fn}: {name} must be unit quaternions (w, x, y, z), norm within {tolerance} of 1; "
                         f"row {row} has norm {rows[row].item():.6g}")
    return q / norm


def normalize(fn: str, name: str, q: torch.Tensor) -> torch.Tensor:
    """``q / ||q||`` for quaternions (..., 4) of any non-zero length (a network's raw output)."""
    norm = q.norm(dim=-1, keepdim=True)
    if (norm == 0).any():
        raise ValueError(f"{fn}: {name} has a zero quaternion (row {int((norm.reshape(-1) == 0).nonzero()[0])}), "
                         f"which is no rotation")
    return q / norm


def quaternion_to_matrix(q):
    """Rotation matrices (..., 3, 3) from unit quaternions (..., 4) in (w, x, y, z) order."""
    return matrix_unchecked(check_unit("quaternion_to_matrix", "q", q))


def matrix_unchecked(q):
    """quaternion_to_matrix without the checks: R = (w^2 - v.v) I + 2 v v^T + 2 w [v]_x, v = (x, y, z)."""
    w, v = q[..., :1, None], q[..., 1:]
    x, y, z = v.unbind(-1)
    zero = torch.zeros_like(x)
    cross = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).unflatten(-1, (3, 3))  # [v]_x
    eye = torch.eye(3, dtype=q.dtype)
    return (w * w - (v * v).sum(-1)[..., None, None]) * eye + 2 * (v[..., :, None] * v[..., None, :] + w * cross)


def matrix_to_quaternion(R):
    """Unit quaternions (..., 4), (w, x, y, z) with w >= 0, from rotation matrices (..., 3, 3).

    Of the four algebraically equal formulas (one per component) it takes the
    one with the largest divisor, which is stable for every rotation.
    """
    R = torch.as_tensor(R)
    R = R if R.is_floating_point() else R.float()
    if R.dim() < 2 or R.shape[-2:] != (3, 3):
        raise ValueError(f"matrix_to_quaternion: R must have shape (..., 3, 3); got {tuple(R.shape)}")
    eye = torch.eye(3, dtype=R.dtype)
    if not torch.allclose(R @ R.transpose(-1, -2), eye, atol=1e-4) or (torch.linalg.det(R) < 0).any():
        raise ValueError("matrix_to_quaternion: R must be rotation matrices (orthonormal, determinant +1)")
    m = R.flatten(-2)
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = m.unbind(-1)
    candidates = torch.stack([  # row k: 4 * q_k * q, from the trace and from each diagonal entry
        torch.stack([1 + m00 + m11 + m22, m21 - m12, m02 - m20, m10 - m01], -1),
        torch.stack([m21 - m12, 1 + m00 - m11 - m22, m01 + m10, m02 + m20], -1),
        torch.stack([m02 - m20, m01 + m10, 1 - m00 + m11 - m22, m12 + m21], -1),
        torch.stack([m10 - m01, m02 + m20, m12 + m21, 1 - m00 - m11 + m22], -1),
    ], -2)
    best = candidates.diagonal(dim1=-2, dim2=-1).argmax(-1)
    q = candidates.gather(-2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    q = q / q.norm(dim=-1, keepdim=True)
    return torch.where(q[..., :1] < 0, -q, q)


def look_at(position, target, up=(0.0, 1.0, 0.0)):
    """The quaternion (..., 4) of a camera at ``position`` (..., 3) whose optical axis (-z) points at ``target``.

    The camera's x axis is horizontal with respect to ``up`` (no roll).
    """
    position, target, up = (torch.as_tensor(v, dtype=torch.float64) for v in (position, target, up))
    forward = target - position
    if (forward.norm(dim=-1) == 0).any():
        raise ValueError("look_at: target must differ from position")
    right = torch.linalg.cross(forward, up.expand_as(forward))
    if (right.norm(dim=-1) < 1e-9 * forward.norm(dim=-1)).any():
        raise ValueError(f"look_at: up must not be parallel to target - position; got up {up.tolist()}")
    forward, right = F.normalize(forward, dim=-1), F.normalize(right, dim=-1)
    R = torch.stack([right, torch.linalg.cross(right, forward), -forward], -1)  # columns: camera x, y, z
    return matrix_to_quaternion(R).float()


def angle_between(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """Angle in degrees (...,) of the rotation from q2 to q1: ``2 acos(|<q1, q2>|)``, in [0, 180].

    Both are normalised first; the absolute value makes q and -q (the same rotation) agree.
    """
    dot = (normalize("angle_between", "q1", q1) * normalize("angle_between", "q2", q2)).sum(-1).abs().clamp(max=1)
    return torch.rad2deg(2 * torch.acos(dot))
