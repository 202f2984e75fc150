"""PoseNet (Kendall et al., 2015): the regressor, eq. (2), and the errors the paper reports."""

import math

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from steps import train_steps
from torch import nn

from cnncourse.layers import Conv2d
from cnncourse.relocalization import PoseNet, median_errors, orientation_error, position_error, posenet_loss

IDENTITY = torch.tensor([[1.0, 0, 0, 0]])
Z90 = torch.tensor([[math.cos(math.pi / 4), 0, 0, math.sin(math.pi / 4)]])  # (w, x, y, z): 90 degrees about z


def random_quaternions(n, seed):
    """Unit (w, x, y, z) from scipy's uniform random rotations (scipy stores (x, y, z, w))."""
    xyzw = Rotation.random(n, random_state=seed).as_quat()
    return torch.tensor(xyzw[:, [3, 0, 1, 2]], dtype=torch.float64)


def test_loss_by_hand():
    pred_x = torch.tensor([[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]])
    x = torch.zeros(2, 3)
    pred_q = torch.tensor([[0.0, 0.0, 0.0, 2.0], [3.0, 0.0, 0.0, 0.0]])  # normalised: (0, 0, 0, 1) and the identity
    q = torch.cat([IDENTITY, IDENTITY])
    expected = ((3 + 10 * math.sqrt(2)) + (0 + 0)) / 2
    assert posenet_loss(pred_x, pred_q, x, q, beta=10).item() == pytest.approx(expected)


def test_loss_ignores_the_length_of_the_predicted_quaternion():
    torch.manual_seed(0)
    pred_x, x, pred_q = torch.randn(5, 3), torch.randn(5, 3), torch.randn(5, 4, requires_grad=True)
    q = random_quaternions(5, 0).float()
    loss = posenet_loss(pred_x, pred_q, x, q, beta=250)
    for c in (0.01, 7.0):
        torch.testing.assert_close(posenet_loss(pred_x, c * pred_q, x, q, beta=250), loss)
    (grad,) = torch.autograd.grad(loss, pred_q)
    torch.testing.assert_close((grad * pred_q).sum(1), torch.zeros(5), atol=1e-4, rtol=0)  # no pull along q itself


@pytest.mark.parametrize("q, words", [
    (torch.zeros(1, 4), ["posenet_loss", "unit quaternions", "row 0 is zero"]),
    (torch.tensor([[1.01, 0, 0, 0]]), ["norm within 0.001 of 1", "1.01"]),
    (torch.tensor([[1.0, 0, 0]]), ["q must be (N, 4)"]),
])
def test_loss_rejects_targets_that_are_not_unit_quaternions(q, words):
    with pytest.raises(ValueError) as info:
        posenet_loss(torch.zeros(1, 3), torch.ones(1, 4), torch.zeros(1, 3), q, beta=1)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    near = torch.tensor([[1.0 + 5e-4, 0, 0, 0]])  # within the tolerance
    assert posenet_loss(torch.zeros(1, 3), torch.ones(1, 4), torch.zeros(1, 3), near, beta=1).isfinite()


def test_orientation_error_of_q_and_minus_q_is_zero_and_of_90_degrees_about_z_is_90():
    q = random_quaternions(6, 1)
    torch.testing.assert_close(orientation_error(-q, q), torch.zeros(6, dtype=torch.float64), atol=1e-5, rtol=0)
    assert orientation_error(Z90, IDENTITY).item() == pytest.approx(90, abs=1e-4)
    assert orientation_error(-3 * Z90, IDENTITY).item() == pytest.approx(90, abs=1e-4)  # any length, either sign


def test_orientation_error_matches_scipy():
    a, b = random_quaternions(20, 2), random_quaternions(20, 3)
    rotation = lambda q: Rotation.from_quat(q.numpy()[:, [1, 2, 3, 0]])  # noqa: E731
    reference = np.degrees((rotation(a).inv() * rotation(b)).magnitude())
    np.testing.assert_allclose(orientation_error(a, b).numpy(), reference, atol=1e-6)


def test_position_error_and_medians():
    pred_x = torch.tensor([[3.0, 4, 0], [0, 0, 1], [0, 0, 0], [2, 0, 0]])
    x = torch.zeros(4, 3)
    assert position_error(pred_x, x).tolist() == [5, 1, 0, 2]
    pred_q = torch.cat([Z90, IDENTITY, IDENTITY, Z90])
    q = IDENTITY.expand(4, 4)
    assert median_errors(pred_x, pred_q, x, q) == pytest.approx((1.5, 45.0))  # numpy.median's convention


def test_posenet_outputs_and_a_backbone_of_your_own():
    x, q = PoseNet(widths=(8, 16)).eval()(torch.randn(3, 3, 32, 40))
    assert x.shape == (3, 3) and q.shape == (3, 4)
    torch.testing.assert_close(q.norm(dim=1), torch.ones(3))
    backbone = nn.Sequential(Conv2d(1, 6, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1))  # (N, 6, 1, 1): flattened
    x, q = PoseNet(in_channels=1, backbone=backbone, feature_dim=6)(torch.randn(2, 1, 20, 20))
    assert x.shape == (2, 3) and q.shape == (2, 4)
    with pytest.raises(ValueError, match="backbone gives 6 features per image .* feature_dim is 5"):
        PoseNet(in_channels=1, backbone=backbone, feature_dim=5)(torch.randn(2, 1, 20, 20))
    with pytest.raises(ValueError, match="feature_dim must be the backbone's output size"):
        PoseNet(backbone=backbone)


def test_loss_decreases_on_a_repeated_batch():
    torch.manual_seed(0)
    images, x = torch.randn(8, 3, 32, 32), torch.randn(8, 3)
    q = random_quaternions(8, 4).float()
    q = q * q[:, :1].sign()  # one hemisphere (w >= 0), as the paper keeps its training labels
    model = PoseNet(widths=(8, 16))
    losses = train_steps(model, lambda m: posenet_loss(*m(images), x, q, beta=2.0))
    assert losses[-1] < 0.8 * losses[0], losses
