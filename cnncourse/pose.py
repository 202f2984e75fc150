"""Pose estimation: joints by direct regression or by heatmaps, and the PCK metric.

"Just like classification + localisation, with the box replaced by joint
positions" (the lecture). Two ways to predict K joints (x, y) in pixels:

* :class:`JointRegressor`, DeepPose (Toshev & Szegedy, 2014): a conv net whose
  fully connected head outputs 2K numbers, trained with :func:`joint_loss`;
* :class:`HeatmapNet`, heatmap regression (Tompson et al., 2014): a fully
  convolutional net that outputs one map per joint, trained towards
  :func:`gaussian_heatmaps` with :func:`heatmap_loss`, decoded with
  :func:`argmax_decode` or, differentiably, :func:`soft_argmax` (integral
  regression, Sun et al., 2018).

Coordinates are continuous pixel coordinates: pixel ``i`` spans [i, i + 1)
and has its centre at ``i + 0.5``. A heatmap of output stride ``s`` has
cells of s x s input pixels; cell ``j`` is centred at ``(j + 0.5) s``. Joints
are (N, K, 2) as (x, y); ``visible`` (N, K) is bool (or 0/1), and invisible
joints count in no loss or metric.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers import Conv2d, ConvBNAct, bilinear_transposed_conv
from cnncourse.layers._args import pair
from cnncourse.backbone import WIDTHS, check_images, conv_backbone, fc_head, image_size_pair


class JointRegressor(nn.Module):
    """DeepPose (Toshev & Szegedy, 2014): (N, C_in, H, W) -> joints (N, K, 2) in pixels.

    :func:`~cnncourse.backbone.conv_backbone`, flattened (the fully
    connected layers see *where* the features are), a hidden layer and a linear
    layer of 2K outputs ``u``. As DeepPose normalises joints by the box they
    are regressed in (here the whole image), the pixel position is
    ``(0.5 + u) * (W, H)``: zero output means the image centre. DeepPose
    used AlexNet and cascaded refinement stages; this is its first stage, small.
    """

    def __init__(self, num_joints, in_channels=3, widths=WIDTHS, image_size=64, hidden=256):
        super().__init__()
        _check_joint_count("JointRegressor", num_joints)
        self.in_channels, self.num_joints = in_channels, num_joints
        self.image_size = image_size_pair("JointRegressor", image_size, 2 ** len(widths))
        self.features = conv_backbone(in_channels, widths)
        cells = (self.image_size[0] >> len(widths)) * (self.image_size[1] >> len(widths))
        self.head = fc_head(widths[-1], cells, 2 * num_joints, hidden)

    def forward(self, x):
        check_images("JointRegressor", x, self.in_channels, self.image_size)
        u = self.head(self.features(x)).view(len(x), self.num_joints, 2)
        h, w = self.image_size
        return (0.5 + u) * u.new_tensor([w, h])


class HeatmapNet(nn.Module):
    """A fully convolutional heatmap network: (N, C_in, H, W) -> logits (N, K, H / stride, W / stride).

    The encoder is :func:`~cnncourse.backbone.conv_backbone` down to stride
    ``2^L`` (L = len(widths)); a transposed convolution initialised to bilinear
    upsampling brings its output back to ``stride``, where it is concatenated
    with the encoder's map of that stride (FCN's skip: "what" from deep layers,
    "where" from shallow ones), and a conv-BN-ReLU and a 1x1 convolution give one
    map per joint (at stride 2^L the encoder output feeds the head directly).
    ``stride`` is a power of two from 1 to 2^L; H and W must be
    multiples of 2^L. Tompson et al. (2014) likewise predict heatmaps at a
    fraction of the input resolution.
    """

    def __init__(self, num_joints, in_channels=3, widths=WIDTHS, stride=4):
        super().__init__()
        _check_joint_count("HeatmapNet", num_joints)
        levels = len(widths)
        if not isinstance(stride, int) or stride < 1 or stride & (stride - 1) or stride > 2**levels:
            raise ValueError(f"HeatmapNet: stride must be a power of two from 1 to 2^len(widths) = {2**levels}; "
                             f"got {stride!r}")
        self.in_channels, self.stride, self.total_stride = in_channels, stride, 2**levels
        self.skip_level = int(math.log2(stride))  # 0 is the input itself
        self.encoder = conv_backbone(in_channels, widths)
        factor = 2 ** (levels - self.skip_level)  # 1: the encoder's output is at the stride, no skip needed
        self.upsample = bilinear_transposed_conv(widths[-1], factor) if factor > 1 else None
        skip = (in_channels, *widths)[self.skip_level] if factor > 1 else 0
        width = (widths[0], *widths)[self.skip_level]
        self.head = nn.Sequential(ConvBNAct(widths[-1] + skip, width), Conv2d(width, num_joints, 1))

    def forward(self, x):
        check_images("HeatmapNet", x, self.in_channels, multiple=self.total_stride)
        maps = [x]
        for stage in self.encoder:
            maps.append(stage(maps[-1]))
        if self.upsample is None:
            return self.head(maps[-1])
        return self.head(torch.cat([self.upsample(maps[-1]), maps[self.skip_level]], dim=1))


def _check_joint_count(fn, num_joints):
    if not isinstance(num_joints, int) or isinstance(num_joints, bool) or num_joints < 1:
        raise ValueError(f"{fn}: num_joints must be a positive int; got {num_joints!r}")


def _check_joints(fn, visible, **joints):
    """Each of ``joints`` (N, K, 2), all of one shape, and visible (N, K); returns visible as bool."""
    for name, value in (*joints.items(), ("visible", visible)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{fn}: {name} must be a torch.Tensor; got {type(value).__name__}")
    shape = next(iter(joints.values())).shape
    for name, value in joints.items():
        if value.dim() != 3 or value.shape[-1] != 2 or value.shape != shape:
            raise ValueError(f"{fn}: {' and '.join(joints)} must be (N, K, 2) joints (x, y) of one shape; "
                             f"got {name} of shape {tuple(value.shape)}")
    if visible.shape != shape[:2]:
        raise ValueError(f"{fn}: visible must be (N, K) = {tuple(shape[:2])}; got {tuple(visible.shape)}")
    return visible.bool()


def _check_heatmaps(fn, heatmaps, stride):
    if not isinstance(heatmaps, torch.Tensor) or heatmaps.dim() != 4:
        got = tuple(heatmaps.shape) if isinstance(heatmaps, torch.Tensor) else type(heatmaps).__name__
        raise ValueError(f"{fn}: heatmaps must be a 4-D tensor (N, K, h, w); got {got}")
    if not isinstance(stride, (int, float)) or isinstance(stride, bool) or stride <= 0:
        raise ValueError(f"{fn}: stride must be a positive number (input pixels per heatmap cell); got {stride!r}")


def cell_centres(height, width, stride=1, device=None, dtype=torch.float32):
    """Centres of the cells of an h x w heatmap in input pixels: xs (w,) and ys (h,), ``(j + 0.5) * stride``."""
    xs = (torch.arange(width, device=device, dtype=dtype) + 0.5) * stride
    ys = (torch.arange(height, device=device, dtype=dtype) + 0.5) * stride
    return xs, ys


def gaussian_heatmaps(joints, visible, size, stride=1, sigma=2.0):
    """Target heatmaps (N, K, H / stride, W / stride): a Gaussian of peak 1 at each visible joint, zeros elsewhere.

    ``joints`` (N, K, 2) (x, y) in input pixels, ``visible`` (N, K); ``size``
    the input's (H, W) (or an int), multiples of ``stride``. Cell (r, c) holds
    ``exp(-((xc - x)^2 + (yc - y)^2) / (2 sigma^2))`` at its centre
    ``(xc, yc) = ((c + 0.5) stride, (r + 0.5) stride)``; ``sigma`` is in input
    pixels. Invisible joints get an all-zero map (Tompson et al., 2014).
    """
    fn = "gaussian_heatmaps"
    visible = _check_joints(fn, visible, joints=joints)
    joints = joints if joints.is_floating_point() else joints.float()
    h, w = pair(fn, "size", size)
    if not isinstance(stride, int) or isinstance(stride, bool) or stride < 1 or h % stride or w % stride:
        raise ValueError(f"{fn}: stride must be a positive int dividing size {(h, w)}; got {stride!r}")
    if not sigma > 0:
        raise ValueError(f"{fn}: sigma must be positive (in input pixels); got {sigma!r}")
    xs, ys = cell_centres(h // stride, w // stride, stride, joints.device, joints.dtype)
    dx2 = (xs - joints[..., 0, None]).pow(2)  # (N, K, w)
    dy2 = (ys - joints[..., 1, None]).pow(2)  # (N, K, h)
    maps = torch.exp(-(dy2[..., :, None] + dx2[..., None, :]) / (2 * sigma**2))
    return maps * visible[..., None, None]


def soft_argmax(heatmaps, stride=1, beta=1.0):
    """The expected cell centre under ``softmax(beta * heatmaps)`` over positions: (N, K, h, w) -> (N, K, 2) pixels.

    Differentiable, unlike the argmax, so a heatmap network can be trained
    on joint coordinates directly (integral regression, Sun et al., 2018). A
    sharp single peak gives that cell's centre; a flat map gives the image centre.
    """
    _check_heatmaps("soft_argmax", heatmaps, stride)
    n, k, h, w = heatmaps.shape
    p = F.softmax(beta * heatmaps.reshape(n, k, -1), dim=-1).view(n, k, h, w)
    xs, ys = cell_centres(h, w, stride, heatmaps.device, heatmaps.dtype)
    return torch.stack([(p.sum(2) * xs).sum(-1), (p.sum(3) * ys).sum(-1)], dim=-1)


def argmax_decode(heatmaps, stride=1):
    """The centre of each map's highest cell: (N, K, h, w) -> (N, K, 2) pixels (x, y); not differentiable."""
    _check_heatmaps("argmax_decode", heatmaps, stride)
    w = heatmaps.shape[-1]
    index = heatmaps.flatten(2).argmax(-1)
    cells = torch.stack([index % w, index // w], dim=-1).to(heatmaps.dtype)
    return (cells + 0.5) * stride


def heatmap_loss(logits, targets, visible):
    """Cross-entropy over positions between ``softmax(logits)`` and the normalised targets, mean over visible joints.

    ``logits``, ``targets`` (N, K, h, w) (targets e.g. from
    :func:`gaussian_heatmaps`), ``visible`` (N, K). Each joint's target is
    divided by its sum, a distribution over the h w cells. We choose this over
    Tompson et al.'s (2014) per-pixel MSE because the logits are then exactly
    what :func:`soft_argmax` and :func:`argmax_decode` read (a softmax over
    positions), and because MSE against mostly-zero maps is happy with an
    all-zero output early in training; Mask R-CNN's keypoint head (He et al.,
    2017) uses the same loss with one-hot targets. Its minimum is the entropy
    of the target, not zero. Joints whose target map is all zero (off the
    image) count as invisible.
    """
    fn = "heatmap_loss"
    if not isinstance(logits, torch.Tensor) or not isinstance(targets, torch.Tensor) or logits.dim() != 4:
        raise ValueError(f"{fn}: logits and targets must be 4-D tensors (N, K, h, w)")
    if targets.shape != logits.shape:
        raise ValueError(f"{fn}: targets must have the logits' shape {tuple(logits.shape)}; got {tuple(targets.shape)}")
    if not isinstance(visible, torch.Tensor) or visible.shape != logits.shape[:2]:
        got = tuple(visible.shape) if isinstance(visible, torch.Tensor) else type(visible).__name__
        raise ValueError(f"{fn}: visible must be (N, K) = {tuple(logits.shape[:2])}; got {got}")
    if (targets < 0).any():
        raise ValueError(f"{fn}: targets must be non-negative (heatmaps); got a minimum of {targets.min().item():.4g}")
    mass = targets.flatten(2).sum(-1)
    used = visible.bool() & (mass > 0)
    if not used.any():
        return logits.sum() * 0.0
    probabilities = targets.flatten(2)[used] / mass[used][:, None]
    return F.cross_entropy(logits.flatten(2)[used], probabilities)


def joint_loss(pred, target, visible, scale=1.0):
    """Squared Euclidean distance ``||(pred - target) / scale||^2``, averaged over the visible joints.

    ``pred``, ``target`` (N, K, 2), ``visible`` (N, K); ``scale`` a number or
    (N,) per image. DeepPose (Toshev & Szegedy, 2014) sums this over the
    joints of an image with coordinates normalised by the person's box: pass
    the box size as ``scale`` (this averages over joints instead of summing,
    a factor K). Zero (with a gradient path) when no joint is visible.
    """
    visible = _check_joints("joint_loss", visible, pred=pred, target=target)
    scale = torch.as_tensor(scale, dtype=pred.dtype, device=pred.device).reshape(-1, 1)
    squared = ((pred - target) / scale[..., None]).pow(2).sum(-1)  # (N, K)
    return squared[visible].mean() if visible.any() else pred.sum() * 0.0


def pck(pred, target, visible, threshold, reference):
    """Percentage of Correct Keypoints: a joint is correct within ``threshold * reference`` pixels.

    ``pred``, ``target`` (N, K, 2) pixels, ``visible`` (N, K); ``reference``
    a length per image, a number or (N,): the torso diameter (DeepPose's PDJ at
    0.2), the head segment (PCKh at 0.5), or the image size. Returns
    ``(per_joint, mean)``: per_joint (K,) is the fraction of each joint's
    visible instances that are correct (NaN for a joint never visible); mean is
    the fraction over all visible (image, joint) pairs. Invisible joints are
    ignored.
    """
    visible = _check_joints("pck", visible, pred=pred, target=target)
    reference = torch.as_tensor(reference, dtype=pred.dtype, device=pred.device).reshape(-1, 1)
    if (reference <= 0).any():
        raise ValueError(f"pck: reference must be positive lengths; got a minimum of {reference.min().item():.4g}")
    correct = ((pred - target).norm(dim=-1) <= threshold * reference) & visible  # (N, K)
    per_joint = correct.sum(0) / visible.sum(0)  # 0 / 0 = NaN for a joint never visible
    return per_joint, correct.sum() / visible.sum()
