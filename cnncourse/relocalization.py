"""Camera relocalisation: PoseNet (Kendall, Grimes & Cipolla, 2015) regresses where a photo was taken from.

From one image of a known scene the network predicts the camera's 6-DOF pose
``p = [x, q]``: the position x (3,) in the scene's frame (metres) and the
orientation as a quaternion q (4,). Conventions here: quaternions are
``(w, x, y, z)`` (scalar first), unit length, and rotate camera coordinates
into world coordinates (camera-to-world), like x.

PoseNet is GoogLeNet with its classifiers replaced by a fully connected layer
of 2048 and a regressor of the 7 numbers. q is regressed freely and normalised
afterwards; the loss (eq. 2) weighs position against orientation with beta,
which the paper sets per scene (120 to 750 indoors, 250 to 2000 outdoors) so
that the two errors are of similar size. The paper reports median errors.

q and -q are the same rotation; the loss does not know that (the paper keeps
the training quaternions in one hemisphere, e.g. w >= 0), the errors do.
"""

from __future__ import annotations

import torch
from torch import nn

from cnncourse.layers import global_avg_pool2d
from cnncourse.backbone import WIDTHS, check_images, conv_backbone
from cnncourse.rotations import angle_between, check_unit, normalize



class GlobalPool(nn.Module):
    """(N, C, H, W) -> (N, C): global average pooling, flattened (GoogLeNet's last pool)."""

    def forward(self, x):
        return global_avg_pool2d(x).flatten(1)


class PoseNet(nn.Module):
    """A backbone and a pose regressor: (N, C_in, H, W) -> (x (N, 3), q (N, 4) unit).

    ``backbone`` is any module mapping images to feature vectors (N,
    ``feature_dim``), e.g. a pretrained network without its classifier; by
    default :func:`~cnncourse.backbone.conv_backbone` of ``widths`` and
    global average pooling. The head is a fully connected layer of ``hidden``
    units (2048 in the paper) with ReLU, then a linear layer to the 7 pose
    numbers; q is returned divided by its norm, as the paper does at test time.
    """

    def __init__(self, in_channels=3, widths=WIDTHS, backbone=None, feature_dim=None, hidden=256):
        super().__init__()
        self.in_channels = in_channels
        if backbone is None:
            backbone, feature_dim = nn.Sequential(conv_backbone(in_channels, widths), GlobalPool()), widths[-1]
        elif not isinstance(backbone, nn.Module):
            raise TypeError(f"PoseNet: backbone must be an nn.Module giving (N, D) features; "
                            f"got {type(backbone).__name__}")
        if not isinstance(feature_dim, int) or isinstance(feature_dim, bool) or feature_dim < 1:
            raise ValueError(f"PoseNet: feature_dim must be the backbone's output size D, a positive int (needed with "
                             f"a backbone of your own); got {feature_dim!r}")
        self.backbone, self.feature_dim = backbone, feature_dim
        self.head = nn.Sequential(nn.Linear(feature_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 7))

    def forward(self, images):
        check_images("PoseNet", images, self.in_channels)
        features = self.backbone(images).flatten(1)
        if features.shape[1] != self.feature_dim:
            raise ValueError(f"PoseNet: the backbone gives {features.shape[1]} features per image "
                             f"(shape {tuple(features.shape)}); feature_dim is {self.feature_dim}")
        pose = self.head(features)
        return pose[:, :3], normalize("PoseNet", "q", pose[:, 3:])


def _check_poses(fn, **tensors):
    """Each tensor is (N, 3) (names ending in x) or (N, 4) (ending in q), all with one N."""
    n = None
    for name, value in tensors.items():
        size = 3 if name.endswith("x") else 4
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{fn}: {name} must be a torch.Tensor (N, {size}); got {type(value).__name__}")
        n = len(value) if n is None and value.dim() else n
        if value.dim() != 2 or value.shape != (n, size):
            raise ValueError(f"{fn}: {name} must be (N, {size}) with one N for all; got shape {tuple(value.shape)}")


def posenet_loss(pred_x, pred_q, x, q, beta):
    """PoseNet's loss, eq. (2) of Kendall et al. (2015), averaged over the batch.

    ``||x - pred_x||_2 + beta ||q - pred_q / ||pred_q|| ||_2`` per image, with
    Euclidean norms (not squared). ``pred_x``, ``x`` (N, 3); ``pred_q``, ``q``
    (N, 4). The target q must be unit (within 1e-3); pred_q may have any
    non-zero length: the loss does not change when it is scaled by c > 0.
    """
    fn = "posenet_loss"
    _check_poses(fn, pred_x=pred_x, pred_q=pred_q, x=x, q=q)
    check_unit(fn, "q", q)
    if not beta >= 0:
        raise ValueError(f"{fn}: beta must be a non-negative weight; got {beta!r}")
    position = (x - pred_x).norm(dim=-1)
    orientation = (q - normalize(fn, "pred_q", pred_q)).norm(dim=-1)
    return (position + beta * orientation).mean()


def position_error(pred_x, x):
    """Euclidean distance per image (N,) between predicted and true positions (N, 3), in the scene's units (metres)."""
    _check_poses("position_error", pred_x=pred_x, x=x)
    return (pred_x - x).norm(dim=-1)


def orientation_error(pred_q, q):
    """Angle in degrees (N,) of the rotation between two orientations (N, 4): ``2 acos(|<q1, q2>|)``.

    Both are normalised first; the absolute value makes q and -q (the same
    rotation) agree, so the result is in [0, 180].
    """
    _check_poses("orientation_error", pred_q=pred_q, q=q)
    return angle_between(pred_q, q)


def median_errors(pred_x, pred_q, x, q):
    """The paper's summary: (median position error, median orientation error in degrees) as floats.

    For an even count the median is the mean of the two middle values, as ``numpy.median``.
    """
    return position_error(pred_x, x).quantile(0.5).item(), orientation_error(pred_q, q).quantile(0.5).item()
