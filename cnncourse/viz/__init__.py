"""Looking inside trained networks: activations, filters, retrieval, attribution, probing.

Every function takes a model, a batch ``(N, C, H, W)`` and, where there is
one, a ``target`` (an int, or one class per image). It works in eval mode,
moves the batch to the model's device, returns its result on the CPU, and
leaves the model exactly as it found it (hooks removed, mode restored).
Layers are named as in ``model.named_modules()``.

* :mod:`~cnncourse.viz.activations`: ``activations``, ``show_feature_maps``,
  ``show_filters``;
* :mod:`~cnncourse.viz.retrieval`: ``top_patches``, ``features``,
  ``nearest_neighbours``, ``precision_at_k``, ``tsne``;
* :mod:`~cnncourse.viz.probe`: ``linear_probe``, ``linear_probes``, ``fit_probe``;
* :mod:`~cnncourse.viz.gradients`: ``gradient``, ``saliency``,
  ``guided_backprop``, ``deconvnet``;
* :mod:`~cnncourse.viz.cam`: ``grad_cam``, ``cam``;
* :mod:`~cnncourse.viz.occlusion`: ``occlusion``, ``occlusion_map``;
* :mod:`~cnncourse.viz.sanity`: ``randomized``, ``rank_correlation``.

Images made by gradient (the methods take layer names and leave the model as they found it):

* :mod:`~cnncourse.viz.ascent`: ``gradient_ascent`` with objectives (``ClassLogit``,
  ``Unit``, ``Channel``, ``LayerNorm``) and regularisers (``L2Decay``, ``GaussianBlur``,
  ``ClipNorm``, ``ClipContribution``, ``Jitter``, ``LinfBall``);
* :mod:`~cnncourse.viz.facets`: ``multifaceted``;
* :mod:`~cnncourse.viz.dream`: ``deep_dream``, ``octave_loop``, ``octave_sizes``;
* :mod:`~cnncourse.viz.style`: ``gram_matrix``, ``content_loss``, ``style_loss``,
  ``total_variation``, ``style_transfer``, ``synthesize_texture``, ``random_features``;
* :mod:`~cnncourse.viz.spectrum`: ``high_frequency_share``, ``radial_spectrum``,
  ``spectrum_distance``;
* :mod:`~cnncourse.viz.fast_style`: ``TransformNet``, ``photo_crops``, ``train_fast_style``.
"""

from cnncourse.viz.activations import activations, show_feature_maps, show_filters
from cnncourse.viz.ascent import (Channel, ClassLogit, ClipContribution, ClipNorm, GaussianBlur, Jitter, L2Decay,
                                  LayerNorm, LinfBall, Unit, gradient_ascent)
from cnncourse.viz.cam import cam, grad_cam
from cnncourse.viz.dream import deep_dream, octave_loop, octave_sizes
from cnncourse.viz.facets import multifaceted
from cnncourse.viz.fast_style import TransformNet, photo_crops, train_fast_style
from cnncourse.viz.gradients import deconvnet, gradient, guided_backprop, saliency
from cnncourse.viz.occlusion import occlusion, occlusion_map
from cnncourse.viz.probe import fit_probe, linear_probe, linear_probes
from cnncourse.viz.retrieval import Patch, features, nearest_neighbours, precision_at_k, top_patches, tsne
from cnncourse.viz.sanity import randomized, rank_correlation
from cnncourse.viz.spectrum import high_frequency_share, radial_spectrum, spectrum_distance
from cnncourse.viz.style import (StyleResult, content_loss, gram_matrix, random_features, style_loss,
                                 style_transfer, synthesize_texture, total_variation)

__all__ = [
    "Channel", "ClassLogit", "ClipContribution", "ClipNorm", "GaussianBlur", "Jitter", "L2Decay", "LayerNorm",
    "LinfBall", "Unit", "deep_dream", "gradient_ascent", "high_frequency_share", "octave_loop", "multifaceted", "octave_sizes",
    "StyleResult", "TransformNet", "content_loss", "gram_matrix", "photo_crops", "style_loss", "style_transfer",
    "synthesize_texture", "train_fast_style", "radial_spectrum", "spectrum_distance", "random_features",
    "total_variation",
    "Patch", "activations", "cam", "deconvnet", "features", "grad_cam", "gradient", "guided_backprop",
    "fit_probe", "linear_probe", "linear_probes", "nearest_neighbours", "occlusion", "occlusion_map", "precision_at_k", "randomized",
    "rank_correlation", "saliency", "show_feature_maps", "show_filters", "top_patches", "tsne",
]
