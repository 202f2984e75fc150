import math

import pytest
import torch
from scipy.spatial.transform import Rotation

from cnncourse.data.rooms import (
    CLEARANCE, ROOM_SIZE, Room, look_at, quaternion_to_matrix, render, room_tensors, rooms, trajectory,
)

IDENTITY = torch.tensor([1.0, 0.0, 0.0, 0.0])


def wxyz(rotation):
    """scipy's (x, y, z, w) quaternions as (w, x, y, z), float64."""
    return torch.from_numpy(rotation.as_quat()[..., [3, 0, 1, 2]])


def project(position, quaternion, point, size, fov):
    """Pixel (column u, row v) and z-depth of a world point, by the pinhole model of the module docstring."""
    camera = quaternion_to_matrix(quaternion.double()).T @ (torch.tensor(point).double() - position.double())
    f = size / 2 / math.tan(math.radians(fov) / 2)
    return size / 2 + f * camera[0] / -camera[2], size / 2 - f * camera[1] / -camera[2], -camera[2]


def test_look_at_points_the_optical_axis_at_the_target():
    positions = torch.tensor([[4.0, 1.5, 3.0], [1.0, 2.0, 5.0], [7.0, 1.0, 1.0]])
    targets = torch.tensor([[0.0, 1.0, 0.0], [6.0, 0.5, 1.0], [7.5, 2.5, 4.0]])
    R = quaternion_to_matrix(look_at(positions, targets).double())
    direction = torch.nn.functional.normalize(targets - positions, dim=-1).double()
    torch.testing.assert_close(-R[..., 2], direction, atol=1e-6, rtol=0)  # the camera looks along -z
    assert R[..., 1, 0].abs().max() < 1e-6 and (R[..., 1, 1] > 0).all()  # x horizontal, y up: no roll
    # and the image: the target lands on the centre pixel
    room = Room(0, boxes=[], spheres=[])
    u, v, _ = project(positions[0], look_at(positions[0], targets[0]), targets[0].tolist(), 64, 60)
    assert abs(u - 32) < 1e-4 and abs(v - 32) < 1e-4
    _, depth = render(room, positions[0], look_at(positions[0], [4.0, 1.5, 0.0]))
    assert abs(depth[31:33, 31:33].mean() - 3.0) < 1e-4


def test_fronto_parallel_wall_has_constant_depth():
    room = Room(0, boxes=[], spheres=[])
    _, depth = render(room, torch.tensor([4.0, 1.5, 2.0]), IDENTITY)  # identity: looking along -z at the z = 0 wall
    torch.testing.assert_close(depth, torch.full((64, 64), 2.0))
    position = torch.tensor([1.5, 1.5, 3.0])
    image, depth = render(room, position, look_at(position, [0.0, 1.5, 3.0]), size=(48, 64))  # the x = 0 wall
    assert image.shape == (3, 48, 64) and depth.shape == (48, 64)
    torch.testing.assert_close(depth, torch.full((48, 64), 1.5))
    # turned towards the z = 0 wall, the right side of the image sees the far corner: deeper
    _, depth = render(room, position, look_at(position, [0.0, 1.5, 2.0]))
    assert depth[:, -1].mean() > depth[:, 0].mean() + 1.0


def test_sphere_appears_where_the_pinhole_projection_predicts():
    centre, r = (4.6, 1.8, 1.5), 0.3
    room = Room(0, boxes=[], spheres=[(centre, r)])
    empty = Room(0, boxes=[], spheres=[])
    position = torch.tensor([4.0, 1.5, 4.0])
    q = wxyz(Rotation.from_euler("YXZ", [0, -5, 8], degrees=True)).float()
    _, depth = render(room, position, q)
    _, background = render(empty, position, q)
    u, v, z = project(position, q, centre, 64, 60)
    mask = depth < background - 1e-3
    rows, columns = mask.nonzero(as_tuple=True)
    assert abs(columns.double().mean() + 0.5 - u) < 0.6 and abs(rows.double().mean() + 0.5 - v) < 0.6
    assert mask[int(v), int(u)] and z - r - 0.01 <= depth[int(v), int(u)] <= z - r + 0.05
    radius_pixels = r * 32 / math.tan(math.radians(30)) / z  # about, for a small off-axis angle
    assert abs(math.sqrt(mask.sum() / math.pi) - radius_pixels) < 1.0


def test_shadows_only_darken_and_exist():
    box = ((3.5, 0.0, 2.5), (4.5, 1.0, 3.5))  # right under the light
    shadowed, empty = Room(0, boxes=[box], spheres=[]), Room(0, boxes=[], spheres=[])
    position = torch.tensor([7.0, 2.5, 5.0])
    q = look_at(position, [3.0, 0.0, 1.0])
    image, depth = render(shadowed, position, q, size=96, fov=80)
    plain, background = render(empty, position, q, size=96, fov=80)
    same = (depth - background).abs() < 1e-4  # surfaces seen in both renders
    ratio = image.mean(0)[same] / plain.mean(0)[same].clamp_min(1e-3)
    assert ratio.max() < 1 + 1e-5
    assert (ratio < 0.8).sum() > 50, "the box casts no visible shadow"


def test_deterministic_per_seed_and_index_and_tensors_agree():
    views = rooms(n=6, size=32, seed=3)
    again = rooms(n=6, size=32, seed=3)
    for key in ("image", "depth", "position", "quaternion"):
        assert torch.equal(views[4][key], again[4][key])
    stacked = room_tensors(n=6, size=32, seed=3)
    torch.testing.assert_close(stacked.images[4], views[4]["image"])
    torch.testing.assert_close(stacked.depths[4], views[4]["depth"])
    assert not torch.equal(views[4]["image"], rooms(n=6, size=32, seed=4)[4]["image"])
    assert not torch.equal(views[4]["image"], rooms(n=6, size=32, seed=3, room_seed=1)[4]["image"])
    image, depth = stacked.dataset("depth")[0]
    assert image.shape == (3, 32, 32) and depth.shape == (32, 32)
    image, position, quaternion = stacked.dataset("pose")[0]
    assert position.shape == (3,) and quaternion.shape == (4,)


def test_views_have_valid_depth_poses_and_images():
    views = room_tensors(n=24, size=32, seed=0, room_seed=2)
    diagonal = math.hypot(*ROOM_SIZE)
    assert views.images.dtype == torch.float32 and views.depths.dtype == torch.float32
    assert views.images.min() >= 0 and views.images.max() <= 1 and views.images.std() > 0.1
    assert (views.depths > 0).all() and (views.depths <= diagonal).all()
    room = Room(2)
    assert (room.clearance(views.positions) >= CLEARANCE - 1e-6).all()
    torch.testing.assert_close(views.quaternions.norm(dim=-1), torch.ones(24))
    assert (views.quaternions[:, 0] >= 0).all()
    up = quaternion_to_matrix(views.quaternions)[:, 1, 1]  # world-y component of the camera's up axis
    assert (up > math.cos(math.radians(30))).all(), "pitch and roll should stay small"


def test_trajectories_are_smooth_closed_and_distinct():
    room = Room(0)
    train, test = trajectory(room, 200, seed=0), trajectory(room, 100, seed=1)
    for path in (train, test):
        steps = (path.positions.roll(-1, 0) - path.positions).norm(dim=-1)  # the loop closes
        assert steps.max() < 0.3 and steps.min() > 0.01
        turns = 2 * torch.acos((path.quaternions * path.quaternions.roll(-1, 0)).sum(-1).abs().clamp(max=1))
        assert turns.max() < math.radians(12)
        assert (room.clearance(path.positions) > 0.2).all()
    nearest = torch.cdist(test.positions, train.positions).min(1).values
    assert nearest.mean() > 0.2, "train and test paths coincide"
    forward = -quaternion_to_matrix(train.quaternions)[:, :, 2]  # the camera looks along the path
    heading = torch.nn.functional.normalize(train.positions.roll(-1, 0) - train.positions.roll(1, 0), dim=-1)
    assert (forward * heading).sum(-1).min() > math.cos(math.radians(20))
    sample = rooms(n=10, size=16, seed=1, path="trajectory")[3]
    torch.testing.assert_close(sample["position"], trajectory(room, 10, seed=1).positions[3])


@pytest.mark.parametrize("call, words", [
    (lambda room: render(room, [4, 1.5, 3], [0, 0, 0, 0]), "render: quaternion .*zero"),
    (lambda room: render(room, [4, 1.5, 3], [2, 0, 0, 0]), "render: quaternion must be unit quaternions.*norm 2"),
    (lambda room: render(room, [4, 1.5, 3], IDENTITY, size=0), "render: size must be positive"),
    (lambda room: render(room, [4, 1.5, 3], IDENTITY, fov=180), r"render: fov .*\(0, 180\).*got 180"),
    (lambda room: render(room, [4, 1.5, 3], IDENTITY, fov=0), "render: fov"),
    (lambda room: render(room, [9, 1.5, 3], IDENTITY), r"render: position must be inside the room .*got \[\[9.0"),
    (lambda room: render(room, [4, 0.2, 3], IDENTITY), "render: position must be .*outside its objects"),
    (lambda room: render(room, [[4, 1.5, 3]], IDENTITY), "render: position must have shape"),
    (lambda room: rooms(n=0), "rooms: n must"),
    (lambda room: rooms(path="spiral"), "rooms: path must"),
])
def test_bad_arguments_name_the_argument(call, words):
    room = Room(0, boxes=[((3.5, 0.0, 2.5), (4.5, 0.5, 3.5))], spheres=[])
    with pytest.raises(ValueError, match=words):
        call(room)
