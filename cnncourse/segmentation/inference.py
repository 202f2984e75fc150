"""Running a trained segmenter on images, and looking at what it predicts.

:func:`predict` turns a network's per-pixel class scores into labels, in
batches, on the model's device, and brings them back to the CPU;
:func:`show_predictions` sets the labels of several networks under the
images and their ground truth, one row per network, as the segmentation
chapters compare them.
"""

from __future__ import annotations

import torch

from cnncourse import train

CMAP, VMAX = "tab10", 9  # one fixed colour per class, the same in every figure


def predict(model, images: torch.Tensor, batch_size: int = 200) -> torch.Tensor:
    """Labels (N, H, W) int64 on the CPU of a segmenter's scores (N, C, H, W) for ``images`` (N, C_in, H, W).

    :func:`cnncourse.train.predict` (evaluation mode, the model's device,
    PyTorch's kernels, ``batch_size`` images at a time), argmax over the classes.
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"predict: images must be a (N, C, H, W) tensor; got {shape}")
    return train.predict(model, images, batch_size, postprocess=lambda scores: scores.argmax(1))


def show_predictions(images: torch.Tensor, truth: torch.Tensor, predictions: dict, fontsize=None):
    """A grid: the images (N, 3, H, W), their true labels (N, H, W), then one row per entry of ``predictions``.

    ``predictions`` maps a row's name to labels (N, H, W); classes share
    one colour map across rows. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    rows = {"image": None, "truth": truth, **predictions}
    for name, labels in rows.items():
        if labels is not None and tuple(labels.shape) != (len(images), *images.shape[-2:]):
            raise ValueError(f"show_predictions: the labels of {name!r} must be (N, H, W) = "
                             f"{(len(images), *images.shape[-2:])}, like the images; got {tuple(labels.shape)}")
    fig, axes = plt.subplots(len(rows), len(images), figsize=(8, 1.7 * len(rows)), squeeze=False)
    for ax_row, (name, labels) in zip(axes, rows.items()):
        for k, ax in enumerate(ax_row):
            if labels is None:
                ax.imshow(images[k].detach().cpu().permute(1, 2, 0))
            else:
                ax.imshow(labels[k].cpu(), cmap=CMAP, vmin=0, vmax=VMAX, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        ax_row[0].set_ylabel(name, fontsize=fontsize)
    fig.tight_layout()
    return fig
