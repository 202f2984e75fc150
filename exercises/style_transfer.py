# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/style_transfer.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Style transfer and texture synthesis*.

Grade them with ``make grade`` (or ``pytest tests/grading -k style_transfer --impl=exercises``).
"""

import torch  # noqa: F401  (alternative answers use it)


def gram_matrix(features):
    """Gatys et al.'s Gram matrices, normalised by the positions: (N, C, H, W) -> (N, C, C).

    For each image, reshape its maps to F of shape (C, M) with M = H * W and
    return F @ F.T / M.

    Hint: features.flatten(2) is (N, C, M); torch.bmm with its transpose.
    """
    raise NotImplementedError('gram_matrix: not implemented yet. Hint: features.flatten(2) is (N, C, M); torch.bmm with its transpose.')


def style_loss(features, targets):
    """The style loss: the mean over layers of mean((gram_matrix(features[l]) - targets[l]) ** 2).

    ``features`` maps layer names to maps (N, C, H, W); ``targets`` maps
    the same names (it may hold fewer: use only its layers) to Gram matrices
    (1, C, C), compared with every image. Every layer of ``targets`` weighs
    1 / len(targets). Return a scalar tensor.

    Hint: loop over targets.items(); broadcasting does the rest.
    """
    raise NotImplementedError('style_loss: not implemented yet. Hint: loop over targets.items(); broadcasting does the rest.')
