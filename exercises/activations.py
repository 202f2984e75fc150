# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/activations.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Activations and filters*.

Grade them with ``make grade`` (or ``pytest tests/grading -k activations --impl=exercises``).
"""

import torch
from torch import nn


def feature_maps(model, x, names):
    """The outputs of the layers ``names`` (as in ``model.named_modules()``) for the batch ``x``.

    Returns a dict {name: output tensor}. Run the model in eval mode with no
    gradient, and leave it as you found it: its training flag restored and
    no hook left behind.

    Hint: modules = dict(model.named_modules()); register_forward_hook on
    each named module (the hook receives (module, inputs, output)) that
    stores a *copy* of the output (an in-place ReLU after the layer would
    overwrite it); remove the handles in a ``finally``.
    """
    raise NotImplementedError('feature_maps: not implemented yet. Hint: modules = dict(model.named_modules()); register_forward_hook on each named module (the hook receives (module, inputs, output)) that stores a *copy* of the output (an in-place ReLU after the layer would overwrite it); remove the handles in a ``finally``.')


def linear_probe(model, layer_name, train, test, epochs=200):
    """Test accuracy of a linear classifier trained on the frozen features of ``layer_name``.

    ``train`` and ``test`` are (images, labels) pairs. Take the layer's
    output for each image (flattened to one vector per image; standardise
    each feature with the training set's mean and standard deviation), train
    one ``nn.Linear`` on the training features with cross-entropy, and
    return its accuracy on the test features as a float. The network itself
    must not change.

    Hint: your ``feature_maps`` gives the layer's output with no gradient,
    in eval mode; train the probe full-batch with Adam (lr 1e-2) for
    ``epochs`` steps.
    """
    raise NotImplementedError("linear_probe: not implemented yet. Hint: your ``feature_maps`` gives the layer's output with no gradient, in eval mode; train the probe full-batch with Adam (lr 1e-2) for ``epochs`` steps.")
