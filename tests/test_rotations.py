"""Quaternions and rotation matrices, checked against scipy: the conventions the rooms and PoseNet share."""

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from cnncourse.rotations import angle_between, look_at, matrix_to_quaternion, quaternion_to_matrix


def wxyz(rotation):
    """scipy's (x, y, z, w) quaternions as (w, x, y, z), float64."""
    return torch.from_numpy(rotation.as_quat()[..., [3, 0, 1, 2]])


def test_quaternion_matrix_agree_with_scipy_and_round_trip():
    rotations = Rotation.random(50, random_state=0)
    q = wxyz(rotations)
    torch.testing.assert_close(quaternion_to_matrix(q), torch.from_numpy(rotations.as_matrix()))
    canonical = torch.where(q[:, :1] < 0, -q, q)
    torch.testing.assert_close(matrix_to_quaternion(torch.from_numpy(rotations.as_matrix())), canonical)
    # half turns (w = 0) and the identity exercise every branch of matrix_to_quaternion
    special = Rotation.from_rotvec(np.pi * np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0] / np.sqrt(2)]))
    R = torch.from_numpy(np.concatenate([special.as_matrix(), np.eye(3)[None]]))
    torch.testing.assert_close(quaternion_to_matrix(matrix_to_quaternion(R)), R)
    assert (matrix_to_quaternion(R)[:, 0] >= 0).all()


def test_angle_between_is_scipys_relative_rotation_angle_and_ignores_the_sign():
    a, b = Rotation.random(40, random_state=1), Rotation.random(40, random_state=2)
    expected = torch.from_numpy(np.degrees((a.inv() * b).magnitude()))
    qa, qb = wxyz(a), wxyz(b)
    torch.testing.assert_close(angle_between(qa, qb).double(), expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(angle_between(qa, -qb).double(), expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("call, words", [
    (lambda: quaternion_to_matrix(torch.zeros(4)), "quaternion_to_matrix: q .*zero"),
    (lambda: matrix_to_quaternion(2 * torch.eye(3)), "matrix_to_quaternion: R must be rotation"),
    (lambda: look_at([4, 1.5, 3], [4, 0, 3]), "look_at: up must not be parallel"),
])
def test_bad_arguments_name_the_argument(call, words):
    with pytest.raises(ValueError, match=words):
        call()
