"""What makes a unit fire, and which images a layer finds alike.

* :func:`top_patches`: the image patches that most activate one channel of a
  layer, each cut to the unit's receptive field (Zeiler & Fergus, 2014);
* :func:`features`, :func:`nearest_neighbours`, :func:`precision_at_k`:
  retrieval in a layer's feature space, measured by how many neighbours share
  the query's label;
* :func:`tsne`: a 2-D map of the features (scikit-learn's t-SNE, not
  rewritten: teaching it is not the point here).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.analysis import receptive_fields
from cnncourse.viz._common import check_input, layer
from cnncourse.viz.activations import activations


class Patch(NamedTuple):
    image: int          # index in the batch
    position: tuple     # (row, column) of the unit in the layer's map
    value: float        # its activation
    rows: tuple         # (first, last + 1) input rows it sees, clipped to the image
    columns: tuple
    pixels: torch.Tensor  # (C, rows, columns), on the CPU


def top_patches(model: nn.Module, layer_name: str, channel: int | Sequence[int], images: torch.Tensor,
                k: int = 9) -> list[Patch] | dict[int, list[Patch]]:
    """The ``k`` most activating units of ``channel`` in ``layer_name``, one per image, strongest first.

    Given several channels, returns {channel: patches} from one forward pass.
    """
    check_input("top_patches", images)
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"top_patches: k must be a positive int; got {k!r}")
    maps = activations(model, images, layer_name)[layer_name]
    if maps.dim() != 4:
        raise ValueError(f"top_patches: {layer_name!r} has no spatial maps (output {tuple(maps.shape)})")
    channels = [channel] if isinstance(channel, int) else list(channel)
    for c in channels:
        if not isinstance(c, int) or not 0 <= c < maps.shape[1]:
            raise ValueError(f"top_patches: channel must be in 0..{maps.shape[1] - 1}; got {c!r}")
    field = receptive_fields(model, tuple(images.shape[1:]))[layer_name]
    result = {c: _strongest(maps[:, c], field, images, k) for c in channels}
    return result[channel] if isinstance(channel, int) else result


def _strongest(maps, field, images, k) -> list[Patch]:
    """The k images whose strongest unit in ``maps`` (N, h, w) is strongest, cut to that unit's field."""
    values, where = maps.flatten(1).max(dim=1)  # each image's strongest unit
    width = maps.shape[-1]
    patches = []
    for n in values.argsort(descending=True)[:k].tolist():
        row, column = divmod(int(where[n]), width)
        (r0, r1), (c0, c1) = field.seen_by((row, column), tuple(images.shape[-2:]))
        patches.append(Patch(n, (row, column), float(values[n]), (r0, r1), (c0, c1),
                             images[n, :, r0:r1, c0:c1].detach().cpu()))
    return patches


def features(model: nn.Module, layer_name: str | Sequence[str], images: torch.Tensor, pool: int | None = None,
             batch_size: int = 256) -> torch.Tensor | dict[str, torch.Tensor]:
    """One feature vector per image from ``layer_name``: (N, D), optionally average-pooled to pool x pool first.

    Given several layer names, returns {name: (N, D)} from one forward pass per batch.
    """
    names = [layer_name] if isinstance(layer_name, str) else list(layer_name)
    for name in names:
        layer(model, name, "features")
    chunks = {name: [] for name in names}
    for start in range(0, len(images), batch_size):
        outputs = activations(model, images[start:start + batch_size], names)
        for name, out in outputs.items():
            if pool is not None and out.dim() == 4:
                out = F.adaptive_avg_pool2d(out, pool)
            chunks[name].append(out.flatten(1))
    result = {name: torch.cat(parts) for name, parts in chunks.items()}
    return result[layer_name] if isinstance(layer_name, str) else result


def nearest_neighbours(queries: torch.Tensor, gallery: torch.Tensor, k: int = 5,
                       exclude_self: bool = False) -> torch.Tensor:
    """The ``k`` gallery rows most similar (cosine) to each query: (Nq, k) indices.

    With ``exclude_self`` the queries are the gallery itself, and each row's
    own index is never returned.
    """
    if queries.dim() != 2 or gallery.dim() != 2 or queries.shape[1] != gallery.shape[1]:
        raise ValueError(f"nearest_neighbours: queries (Nq, D) and gallery (Ng, D) must share D; got "
                         f"{tuple(queries.shape)} and {tuple(gallery.shape)}")
    similarity = F.normalize(queries.float(), dim=1) @ F.normalize(gallery.float(), dim=1).T
    if exclude_self:
        similarity.fill_diagonal_(-float("inf"))
    return similarity.topk(k, dim=1).indices


def precision_at_k(neighbours: torch.Tensor, query_labels: torch.Tensor, gallery_labels: torch.Tensor) -> float:
    """The share of retrieved neighbours whose label is the query's."""
    return (gallery_labels[neighbours] == query_labels[:, None]).float().mean().item()


def tsne(features: torch.Tensor, seed: int = 0, perplexity: float = 30.0) -> torch.Tensor:
    """scikit-learn's t-SNE of the features: (N, 2)."""
    from sklearn.manifold import TSNE

    embedding = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return torch.from_numpy(embedding.fit_transform(features.cpu().numpy()))
