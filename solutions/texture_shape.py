"""Exercises for the chapter *Texture or shape?*.

Grade them with ``make grade`` (or ``pytest tests/grading -k texture_shape --impl=exercises``).
"""

import torch


def shape_bias(predictions, shape_labels, texture_labels):
    """Geirhos et al.'s (2019) shape bias of a classifier's decisions on cue-conflict images: a float.

    ``predictions``, ``shape_labels`` and ``texture_labels`` are 1-D int64
    tensors of equal length: the predicted class, the class of the image's
    shape and the class of its texture. Only cue-conflict images count
    (shape label != texture label). Among them, a *shape decision* predicts
    the shape's class, a *texture decision* the texture's class; images
    predicted as any other class are left out. Return shape decisions /
    (shape decisions + texture decisions), or float("nan") when there is
    no shape or texture decision at all.

    Hint: conflict = shape_labels != texture_labels; count
    (conflict & (predictions == shape_labels)) and likewise for the texture
    with .sum().item(), then divide.
    """
    ### BEGIN SOLUTION
    conflict = shape_labels != texture_labels
    shape = (conflict & (predictions == shape_labels)).sum().item()
    texture = (conflict & (predictions == texture_labels)).sum().item()
    if shape + texture == 0:
        return float("nan")
    return shape / (shape + texture)
    ### END SOLUTION
