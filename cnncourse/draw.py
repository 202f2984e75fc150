"""Drawing on images in pixel coordinates: the pictures of the Beyond-classification chapters.

Boxes are ``(x1, y1, x2, y2)`` in pixels with pixel (i, j) covering
``[j, j + 1) x [i, i + 1)`` (:mod:`cnncourse.boxes`), and joints are
``(x, y)`` in the same frame, so :func:`show_image` draws an image with
that extent and everything else is drawn on top without conversion.
"""

from __future__ import annotations

import torch


def show_image(ax, image: torch.Tensor, faded: bool = False) -> None:
    """Draw ``image`` (3, H, W) in [0, 1] on ``ax`` in pixel coordinates, without axes.

    ``faded``: grey and low contrast, a background to draw on.
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"show_image: image must be a (3, H, W) tensor; got {shape}")
    picture = image.detach().cpu().permute(1, 2, 0)
    if faded:
        picture = 0.3 + 0.4 * picture.mean(-1, keepdim=True).expand_as(picture)
    ax.imshow(picture.clamp(0, 1).numpy(), extent=(0, image.shape[-1], image.shape[-2], 0))
    ax.axis("off")


def draw_box(ax, box: torch.Tensor, linewidth: float = 1.5, **style) -> None:
    """Outline one box (4,) ``(x1, y1, x2, y2)`` in pixels on ``ax``; ``style`` goes to the Rectangle."""
    import matplotlib.pyplot as plt

    if not isinstance(box, torch.Tensor) or box.shape != (4,):
        shape = tuple(box.shape) if isinstance(box, torch.Tensor) else type(box).__name__
        raise ValueError(f"draw_box: box must be a (4,) tensor (x1, y1, x2, y2); got {shape}")
    x1, y1, x2, y2 = box.tolist()
    ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, linewidth=linewidth, **style))


def draw_detections(ax, image: torch.Tensor, result: dict, names, threshold: float = 0.5) -> int:
    """``image`` with the boxes of one detection ``result`` (torchmetrics' format) and their labels.

    ``result`` holds ``boxes`` (K, 4) and ``labels`` (K,), and ``scores``
    (K,) for predictions: then only those at ``threshold`` or above are
    drawn, each with its score. ``names[label]`` labels a box. With
    ``masks`` ((K, H, W) or torchvision's (K, 1, H, W), probabilities or
    bools), each drawn object's pixels above 0.5 are tinted in a colour of
    its own; with ``keypoints`` (K, P, 2 or 3) its points are marked. Returns
    how many boxes were drawn.
    """
    for key in ("boxes", "labels"):
        if key not in result:
            raise ValueError(f"draw_detections: result must hold {key!r} (and 'scores' for predictions); "
                             f"got keys {sorted(result)}")
    import matplotlib

    show_image(ax, image)
    scores = result.get("scores")
    masks = result.get("masks")
    if masks is not None:
        masks = masks.detach().cpu().float().reshape(len(masks), *image.shape[-2:])
    drawn = 0
    for k, (box, label) in enumerate(zip(result["boxes"], result["labels"])):
        if scores is not None and scores[k] < threshold:
            continue
        draw_box(ax, box.detach().cpu(), color="white")
        colour = matplotlib.colormaps["tab10"](drawn % 10)
        if masks is not None:
            tint = torch.zeros(*image.shape[-2:], 4)
            tint[masks[k] > 0.5] = torch.tensor([*colour[:3], 0.5], dtype=tint.dtype)
            ax.imshow(tint.numpy(), extent=(0, image.shape[-1], image.shape[-2], 0))
        if "keypoints" in result:
            points = result["keypoints"][k].detach().cpu()
            ax.plot(points[:, 0].numpy(), points[:, 1].numpy(), "o", color=colour, markeredgecolor="white", markersize=3.5)
        text = names[int(label)] + ("" if scores is None else f" {float(scores[k]):.2f}")
        ax.text(float(box[0]), float(box[1]), text, color="yellow", fontsize=7, va="bottom")
        drawn += 1
    return drawn
