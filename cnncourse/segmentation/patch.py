"""The sliding-window baseline of semantic segmentation, and why fully convolutional networks replaced it.

Early deep methods trained a classifier on patches centred on pixels
(Ciresan et al., 2012; Farabet et al., 2013; Pinheiro & Collobert, 2014); the
plainest way to label an image with one, as Ciresan et al. did, is to crop a
``patch`` x ``patch`` window centred on every pixel and run the classifier on
each crop. Neighbouring windows overlap almost entirely, so the convolutions
recompute the same features once per window. :class:`PatchClassifier` is such
a classifier, :func:`sliding_window` applies it pixel by pixel, and
:meth:`PatchClassifier.fully_convolutional` turns it into a network that
reads the whole (padded) image once, its Linear classifier a 1x1 convolution
(:func:`cnncourse.layers.convolutionalize`): the same scores, with every
shared feature computed once.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers import BatchNorm2d, Conv2d, convolutionalize
from cnncourse.runtime import evaluating
from cnncourse.segmentation._common import check_classes, check_input

PADDING = ("zeros", "reflect")


def default_widths(patch: int) -> list[int]:
    """Widths of the (patch - 1) / 2 convolutions: 16, 16, 32, 32, 64, 64, 64, ..."""
    return [min(64, 16 * 2 ** (i // 2)) for i in range((patch - 1) // 2)]


def _check_padding(fn: str, padding) -> None:
    if padding not in PADDING:
        raise ValueError(f"{fn}: padding must be one of {PADDING}; got {padding!r}")


def _pad(fn: str, image, patch: int, padding: str):
    """``image`` padded by patch // 2 on every side with zeros or its reflection."""
    _check_padding(fn, padding)
    r = patch // 2
    if padding == "reflect" and min(image.shape[-2:]) <= r:
        raise ValueError(f"{fn}: padding='reflect' needs height and width > {r} (patch // 2); "
                         f"got {image.shape[-2]}x{image.shape[-1]}")
    return F.pad(image, (r, r, r, r), mode="constant" if padding == "zeros" else "reflect")


class PatchClassifier(nn.Sequential):
    """Classifies the centre pixel of a patch: (N, C, patch, patch) -> (N, num_classes).

    Unpadded 3x3 convolutions with stride 1 each shrink the map by 2, so
    (patch - 1) / 2 of them see exactly the patch and leave a 1x1 map; a
    Linear layer scores it. ``widths`` lists the convolutions' widths (one
    per convolution, ``default_widths(patch)`` if None). ``batch_norm=True`` puts batch
    normalisation after each convolution (in eval mode a per-channel affine map, so the
    window-by-window and dense forms still agree).
    """

    def __init__(self, num_classes, in_channels=3, patch=15, widths=None, batch_norm=False):
        check_classes("PatchClassifier", num_classes, in_channels)
        if not isinstance(patch, int) or patch < 3 or patch % 2 == 0:
            raise ValueError(f"PatchClassifier: patch must be an odd int >= 3; got {patch!r}")
        widths = default_widths(patch) if widths is None else list(widths)
        if len(widths) != (patch - 1) // 2:
            raise ValueError(
                f"PatchClassifier: a {patch}x{patch} patch needs {(patch - 1) // 2} unpadded 3x3 convolutions, "
                f"one width each; got {len(widths)} widths {widths}"
            )
        layers, channels = [], in_channels
        for width in widths:
            layers += [Conv2d(channels, width, 3, bias=not batch_norm), *([BatchNorm2d(width)] if batch_norm else []),
                       nn.ReLU(inplace=True)]
            channels = width
        super().__init__(*layers, nn.Flatten(), nn.Linear(channels, num_classes))
        self.patch, self.in_channels, self.widths, self.batch_norm = patch, in_channels, widths, batch_norm

    def forward(self, input):
        check_input("PatchClassifier", input, self.in_channels)
        if tuple(input.shape[-2:]) != (self.patch, self.patch):
            raise ValueError(f"PatchClassifier: input must be {self.patch}x{self.patch} patches (patch); "
                             f"got {input.shape[-2]}x{input.shape[-1]} (use sliding_window on whole images)")
        return super().forward(input)

    def fully_convolutional(self, padding="zeros") -> DensePatchClassifier:
        """The same classifier run densely over whole images.

        The convolutions (and batch norms) are shared with this classifier; the Linear layer
        becomes a 1x1 convolution with a copy of its weights (:func:`cnncourse.layers.convolutionalize`).
        """
        with evaluating(self):  # convolutionalize runs the network once: leave batch norm's statistics alone
            net = convolutionalize(self, (self.in_channels, self.patch, self.patch))
        return DensePatchClassifier(net, self.patch, padding)


class DensePatchClassifier(nn.Module):
    """A :class:`PatchClassifier` made fully convolutional: (N, C, H, W) -> (N, num_classes, H, W).

    The image is padded once by patch // 2 (as :func:`sliding_window` pads it)
    and the convolutions run over all of it; output pixel (i, j) sees exactly
    the window of input pixel (i, j), so the scores equal the sliding window's.
    """

    def __init__(self, net: nn.Sequential, patch: int, padding: str = "zeros"):
        super().__init__()
        _check_padding("DensePatchClassifier", padding)
        self.net, self.patch, self.padding = net, patch, padding
        self.in_channels = net[0].in_channels
        self.widths = [m.out_channels for m in net if isinstance(m, nn.Conv2d)][:-1]
        self.batch_norm = any(isinstance(m, nn.BatchNorm2d) for m in net)

    def forward(self, input):
        check_input("DensePatchClassifier", input, self.in_channels)
        return self.net(_pad("DensePatchClassifier", input, self.patch, self.padding))

    def patch_classifier(self) -> PatchClassifier:
        """The per-window :class:`PatchClassifier` with this network's weights (a copy).

        The inverse of :meth:`PatchClassifier.fully_convolutional`: training the dense network on
        whole label maps trains the patch classifier on every window of every image at once
        (Long et al., 2015, Sections 3 and 3.4: the same total loss, with larger, correlated batches).
        """
        scorer = self.net[-1]
        model = PatchClassifier(scorer.out_channels, self.in_channels, self.patch, self.widths, self.batch_norm)
        targets = [m for m in model if not isinstance(m, nn.Flatten)]
        with torch.no_grad():
            for source, target in zip(self.net, targets):
                state = source.state_dict()
                if isinstance(target, nn.Linear):
                    state = {k: v.reshape(target.weight.shape) if k == "weight" else v for k, v in state.items()}
                target.load_state_dict(state)
        return model.to(scorer.weight.device).train(self.training)


def sliding_window(model, image, patch=None, batch_size=1024, padding="zeros"):
    """Label every pixel by classifying the patch centred on it: (N, C, H, W) -> (N, num_classes, H, W).

    ``model`` maps (B, C, patch, patch) crops to (B, num_classes) scores
    (``patch`` defaults to ``model.patch``). The image is padded by patch // 2
    on every side, with zeros (``padding="zeros"``) or the image's reflection
    across its border (``"reflect"``, like ``F.pad(mode='reflect')``), so
    border pixels get a full window. The N * H * W crops are classified
    ``batch_size`` at a time, each one independently: the baseline that
    recomputes the shared features of overlapping windows.
    """
    patch = getattr(model, "patch", None) if patch is None else patch
    if not isinstance(patch, int) or patch < 1 or patch % 2 == 0:
        raise ValueError(f"sliding_window: patch must be an odd positive int (or model.patch); got {patch!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"sliding_window: batch_size must be a positive int; got {batch_size!r}")
    if not isinstance(image, torch.Tensor) or image.dim() != 4:
        got = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"sliding_window: image must be a 4-D tensor (N, C, H, W); got {got}")
    n, c, h, w = image.shape
    crops = _pad("sliding_window", image, patch, padding).unfold(2, patch, 1).unfold(3, patch, 1)  # (N, C, H, W, p, p)
    crops = crops.permute(0, 2, 3, 1, 4, 5)  # (N, H, W, C, p, p), a view: crops are copied batch by batch
    scores = []
    for start in range(0, n * h * w, batch_size):
        pixel = torch.arange(start, min(start + batch_size, n * h * w), device=image.device)
        batch = crops[pixel // (h * w), pixel // w % h, pixel % w]  # (B, C, p, p)
        scores.append(model(batch))
    return torch.cat(scores).view(n, h, w, -1).permute(0, 3, 1, 2)


def sample_patches(images, labels, patch, n, seed=0, padding="zeros"):
    """``n`` random training patches and their centre pixels' labels, the sliding window's training set.

    images (N, C, H, W), labels (N, H, W) -> crops (n, C, patch, patch), labels (n,): pixels drawn
    uniformly (with replacement) over all images, padded as :func:`sliding_window` pads them.
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"sample_patches: images must be (N, C, H, W); got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    if labels.shape != images.shape[:1] + images.shape[2:]:
        raise ValueError(f"sample_patches: labels must be (N, H, W) = {tuple(images.shape[:1] + images.shape[2:])}; "
                         f"got {tuple(labels.shape)}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"sample_patches: n must be a positive int; got {n!r}")
    b, _, h, w = images.shape
    g = torch.Generator().manual_seed(seed)
    which, row, col = (torch.randint(0, m, (n,), generator=g) for m in (b, h, w))
    padded = _pad("sample_patches", images, patch, padding)
    offsets = torch.arange(patch)
    rows = (row[:, None] + offsets)[:, :, None]  # (n, p, 1) in padded coordinates
    cols = (col[:, None] + offsets)[:, None, :]  # (n, 1, p)
    crops = padded[which[:, None, None], :, rows, cols]  # (n, p, p, C)
    return crops.permute(0, 3, 1, 2).contiguous(), labels[which, row, col]
