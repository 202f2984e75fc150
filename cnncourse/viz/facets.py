"""Multi-faceted feature visualisation (Nguyen, Yosinski and Clune, 2016).

A unit may respond to several different kinds of input (a "grocery store"
unit to shelves of fruit and to shop fronts): one ascent from noise finds
one of them, or a blend. Nguyen et al. cluster the images that excite the
unit most and start one ascent from each cluster's centre. Here: score
every image with the objective, keep the ``top`` highest, cluster their
features at ``feature_layer`` with k-means (scikit-learn; Nguyen et al.
cluster a t-SNE embedding of them), and start a regularised gradient ascent
from the mean image of each cluster.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from cnncourse.runtime import device_of
from cnncourse.viz._common import check_image, check_positive, frozen, input_channels, layer
from cnncourse.viz.ascent import Objective, gradient_ascent, objective_values
from cnncourse.viz.retrieval import features

__all__ = ["Facets", "multifaceted"]


class Facets(NamedTuple):
    images: torch.Tensor      # (facets, C, H, W): one visualisation per cluster
    starts: torch.Tensor      # (facets, C, H, W): the clusters' mean images, where each ascent began
    members: list             # facets tensors of indices into the images given
    trajectory: torch.Tensor  # (steps, facets)


def multifaceted(model: nn.Module, objective: Objective, images: torch.Tensor, facets: int = 3, top: int = 100,
                 feature_layer: str | None = None, seed: int = 0, batch_size: int = 256, **ascent) -> Facets:
    """One visualisation per facet of ``objective``: cluster the ``top`` images (N, C, H, W) that excite it most.

    ``feature_layer`` defaults to the objective's layer; ``ascent`` goes to
    :func:`~cnncourse.viz.ascent.gradient_ascent` (steps, lr, regularizers...).
    """
    from sklearn.cluster import KMeans

    check_positive("multifaceted", facets=facets, top=top, batch_size=batch_size)
    images = check_image("multifaceted", "images", images, input_channels(model), ascent.get("value_range", (0, 1)))
    if top > len(images) or facets > top:
        raise ValueError(f"multifaceted: need facets <= top <= the number of images; got facets={facets}, "
                         f"top={top}, {len(images)} images")
    feature_layer = feature_layer or objective.layer
    if feature_layer is None:
        raise ValueError("multifaceted: feature_layer must name a layer when the objective is a class logit; got None")
    layer(model, feature_layer, "multifaceted")
    device = device_of(model)
    with torch.no_grad(), frozen(model):
        scores = torch.cat([objective_values(model, objective, images[i:i + batch_size].to(device)).cpu()
                            for i in range(0, len(images), batch_size)])
    chosen = scores.topk(top).indices
    codes = features(model, feature_layer, images[chosen], batch_size=batch_size).double().numpy()
    labels = torch.as_tensor(KMeans(n_clusters=facets, n_init=10, random_state=seed).fit_predict(codes))
    members = [chosen[labels == k] for k in range(facets)]
    starts = torch.stack([images[m].mean(dim=0) for m in members])
    result = gradient_ascent(model, objective, starts, seed=seed, **ascent)
    return Facets(result.image, starts, members, result.trajectory)
