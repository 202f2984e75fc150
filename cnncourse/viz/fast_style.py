"""Fast style transfer: a network trained to stylise in one forward pass (Johnson, Alahi & Fei-Fei, 2016).

Gatys et al.'s style transfer (:mod:`cnncourse.viz.style`) optimises the
pixels of every new image. Johnson et al. train a feed-forward
:class:`TransformNet` once per style instead, on the same *perceptual*
losses: the content loss between its output and its input, and the style
loss between its output and the style image, both in the feature space of a
fixed loss network (:func:`train_fast_style`). Stylising is then a single
forward pass. :func:`photo_crops` cuts training images from the photographs
that ship with the course.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.data import sample_image
from cnncourse.layers import Conv2d
from cnncourse.runtime import device_of
from cnncourse.train import _batches
from cnncourse.viz._common import check_image, check_positive, frozen, input_channels, layer_outputs
from cnncourse.viz.style import STYLE_LAYERS, _grams, _layers, content_loss, style_loss

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "china", "flower")

# Johnson et al.'s layout, one row per convolution outside the residual blocks (which sit after the third):
# (kernel, stride, upsampling before it, output width as an index into ``widths``, or None for the image)
LAYOUT = ((9, 1, 1, 0), (3, 2, 1, 1), (3, 2, 1, 2), (3, 1, 2, 1), (3, 1, 2, 0), (9, 1, 1, None))


def _conv(in_channels: int, out_channels: int, kernel: int, stride: int = 1, upsample: int = 1) -> nn.Sequential:
    """(Nearest upsampling,) reflection padding and a convolution: the borders see mirrored pixels, not zeros."""
    up = [nn.Upsample(scale_factor=upsample, mode="nearest")] if upsample > 1 else []
    return nn.Sequential(*up, nn.ReflectionPad2d(kernel // 2), Conv2d(in_channels, out_channels, kernel, stride))


class Residual(nn.Module):
    """Two 3x3 convolutions with instance norm, a ReLU between them, added to the input: (N, C, H, W) -> same."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(_conv(channels, channels, 3), nn.InstanceNorm2d(channels, affine=True), nn.ReLU(),
                                  _conv(channels, channels, 3), nn.InstanceNorm2d(channels, affine=True))

    def forward(self, x):
        return x + self.body(x)


def _check_size(function: str, name: str, x: torch.Tensor) -> torch.Tensor:
    """``x`` (N, C, H, W), if H and W suit a TransformNet: multiples of 4 (two halvings), at least 8 (padding)."""
    h, w = x.shape[2:]
    if h % 4 or w % 4 or min(h, w) < 8:
        raise ValueError(f"{function}: {name} must have a height and width that are multiples of 4 and at least 8; "
                         f"got {h}x{w}")
    return x


class TransformNet(nn.Module):
    """Johnson et al.'s (2016) image transformation network, scaled down: (N, C, H, W) -> (N, C, H, W).

    A 9x9 convolution, two 3x3 stride-2 convolutions (H / 4), ``residual_blocks``
    residual blocks, two upsampling stages back to H, and a 9x9 convolution to
    the image's channels (``LAYOUT``; widths ``widths`` instead of 32-64-128).
    Every convolution but the last is followed by instance norm (Ulyanov et
    al., 2016; Johnson et al. used batch norm in the paper) and a ReLU; all pad
    by reflection. Upsampling is nearest x2 then a 3x3 convolution, the
    "resize-convolution" of Odena et al. (2016), which avoids the checkerboard
    artefacts of Johnson et al.'s fractionally strided (transposed)
    convolutions. A sigmoid, ``(1 + tanh(z / 2)) / 2`` (Johnson et al.:
    a scaled tanh), puts the output in [0, 1]. H and W must be multiples of 4, at
    least 8.
    """

    def __init__(self, widths: Sequence[int] = (16, 32, 64), residual_blocks: int = 3, in_channels: int = 3):
        super().__init__()
        if len(widths) != 3 or not all(isinstance(w, int) and w > 0 for w in widths):
            raise ValueError(f"TransformNet: widths must be 3 positive ints; got {tuple(widths)}")
        if not isinstance(residual_blocks, int) or residual_blocks < 0:
            raise ValueError(f"TransformNet: residual_blocks must be a non-negative int; got {residual_blocks!r}")
        check_positive("TransformNet", in_channels=in_channels)
        self.in_channels = in_channels
        layers, channels = [], in_channels
        for i, (kernel, stride, upsample, width) in enumerate(LAYOUT):
            if i == 3:
                layers += [Residual(channels) for _ in range(residual_blocks)]
            out = in_channels if width is None else widths[width]
            layers.append(_conv(channels, out, kernel, stride, upsample))
            layers += [nn.InstanceNorm2d(out, affine=True), nn.ReLU()] if width is not None else [nn.Sigmoid()]
            channels = out
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        x = _check_size("TransformNet", "input", check_image("TransformNet", "input", x, self.in_channels, None))
        return self.layers(x)  # (N, C, H, W) -> (N, C, H, W), in [0, 1]


def photo_crops(n: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    """``n`` random square crops of the course's colour photographs: (n, 3, size, size) in [0, 1].

    Each photo (``PHOTOS``) is first shrunk (antialiased) so that its shorter
    side is ``2 * size``: a crop spans half of that side, enough of the scene
    to recognise it. Photo and position are drawn with ``seed``.
    """
    check_positive("photo_crops", n=n, size=size)
    generator = torch.Generator().manual_seed(seed)
    photos = []
    for name in PHOTOS:
        photo = sample_image(name)[None]
        scale = 2 * size / min(photo.shape[2:])
        shape = (round(photo.shape[2] * scale), round(photo.shape[3] * scale))
        photos.append(F.interpolate(photo, size=shape, mode="bilinear", antialias=True, align_corners=False)[0])
    crops = []
    for i in torch.randint(len(photos), (n,), generator=generator).tolist():
        photo = photos[i]
        top = int(torch.randint(photo.shape[1] - size + 1, (1,), generator=generator))
        left = int(torch.randint(photo.shape[2] - size + 1, (1,), generator=generator))
        crops.append(photo[:, top:top + size, left:left + size])
    return torch.stack(crops).clamp_(0.0, 1.0)


def train_fast_style(loss_model: nn.Module, style: torch.Tensor, images: torch.Tensor, steps: int,
                     batch_size: int = 4, content_layer: str = "c2", style_layers: Sequence[str] = STYLE_LAYERS,
                     content_weight: float = 1.0, style_weight: float = 10.0, lr: float = 1e-3, seed: int = 0,
                     progress: bool | None = None, net: TransformNet | None = None
                     ) -> tuple[TransformNet, dict[str, torch.Tensor]]:
    """Train a :class:`TransformNet` for one style (Johnson et al., 2016): returns (net, history).

    ``style``: one image (C, H', W'); ``images``: the training set (N, C, H, W),
    H and W multiples of 4, both in [0, 1]. Each step draws ``batch_size``
    images at random (with replacement) and takes one Adam step on the net's
    weights for ``content_weight * content + style_weight * style``: the
    :func:`~cnncourse.viz.style.content_loss` between the loss network's
    ``content_layer`` maps of the output and of the input, and the
    :func:`~cnncourse.viz.style.style_loss` (equal layer weights) to the
    style's Gram matrices, computed once. The loss network is frozen
    throughout. The defaults follow Johnson et al. (content at a low layer,
    their relu2_2; style at every layer) and suit ``zoo.load("alexnet_shapes")``
    on 64x64 :func:`photo_crops`: a few hundred steps give stylised,
    recognisable scenes. ``net`` continues training a given net (default: a new
    TransformNet initialised with ``seed``). ``progress`` shows a bar, as in
    :func:`cnncourse.train.fit` (None: on unless ``TQDM_DISABLE`` is set).
    Returns the net in eval mode on the loss network's device, and the
    unweighted "content", "style" and the weighted "total" loss per step
    (CPU tensors (steps,)). Seeded and deterministic on the CPU.
    """
    function = "train_fast_style"
    check_positive(function, steps=steps, batch_size=batch_size, content_weight=content_weight,
                   style_weight=style_weight, lr=lr)
    for name, value in (("steps", steps), ("batch_size", batch_size)):
        if not isinstance(value, int):
            raise ValueError(f"{function}: {name} must be a positive int; got {value!r}")
    style_layers = _layers(function, "style_layers", style_layers)
    device = device_of(loss_model)
    images = check_image(function, "images", images, input_channels(loss_model))
    _check_size(function, "images", images)
    style = check_image(function, "style", style, images.shape[1]).to(device)
    if style.shape[0] != 1:
        raise ValueError(f"{function}: style must be one image; got a batch of {style.shape[0]}")
    if net is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = TransformNet(in_channels=images.shape[1])
    net = net.to(device).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    names = list(dict.fromkeys((content_layer, *style_layers)))
    history = []
    grams = _grams(function, loss_model, style, style_layers)
    with frozen(loss_model):
        for _ in _batches(range(steps), "fast style", progress):
            x = images[torch.randint(len(images), (batch_size,), generator=generator)].to(device)
            with torch.no_grad():
                target = layer_outputs(loss_model, x, content_layer, function)[content_layer]
            maps = layer_outputs(loss_model, net(x), names, function)
            c = content_loss(maps[content_layer], target)
            s = style_loss(maps, grams)
            total = content_weight * c + style_weight * s
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            history.append(torch.stack([c, s, total]).detach())
    losses = torch.stack(history).cpu()
    return net.eval(), {"content": losses[:, 0], "style": losses[:, 1], "total": losses[:, 2]}
