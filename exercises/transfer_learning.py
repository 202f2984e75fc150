# Your exercises: replace each `raise NotImplementedError(...)` with your code.
# Grade them with `make grade`. (Generated from solutions/transfer_learning.py by
# tools/generate_exercises.py; maintainers edit solutions/, not this file.)
"""Exercises for the chapter *Transfer learning: reusing a trained network*.

Grade them with ``make grade`` (or ``pytest tests/grading -k transfer_learning --impl=exercises``).
"""

from torch import nn


def freeze_bottom(model, k):
    """Freeze the first k blocks of model, for fine-tuning the rest.

    The blocks are the model's top-level children that own parameters, in
    the order model.named_children() gives them (children without
    parameters, such as pooling layers, are not blocks). Freezing a block
    means: none of its parameters requires a gradient any more, and its
    batch-norm layers (instances of nn.BatchNorm2d or nn.BatchNorm1d) keep
    their running statistics while the model trains. For that, register on
    each of them a forward pre-hook that puts it in eval mode before every
    call. Leave the other blocks as they are. Return the list of the frozen
    blocks' names.

    Hint: any(True for _ in child.parameters()) tells whether a child owns
    parameters; module.register_forward_pre_hook(fn) calls fn(module, inputs)
    before each forward; fn must return None.
    """
    raise NotImplementedError('freeze_bottom: not implemented yet. Hint: any(True for _ in child.parameters()) tells whether a child owns parameters; module.register_forward_pre_hook(fn) calls fn(module, inputs) before each forward; fn must return None.')


def new_head(model, num_classes):
    """Replace the model's last nn.Linear layer by a fresh one with num_classes outputs.

    "Last" is the last nn.Linear in model.named_modules() order; it may sit
    inside a container (for example model.classifier[6]). The new layer has
    the old one's in_features, a bias if the old one had one, PyTorch's
    default initialisation, and lives on the old one's device. Change model
    in place and return the new layer.

    Hint: a name from named_modules() such as "classifier.6" splits into
    its parent's name and the attribute; model.get_submodule(parent) and
    setattr(parent_module, attribute, new_layer) (setattr works for an
    nn.Sequential's index too).
    """
    raise NotImplementedError('new_head: not implemented yet. Hint: a name from named_modules() such as "classifier.6" splits into its parent\'s name and the attribute; model.get_submodule(parent) and setattr(parent_module, attribute, new_layer) (setattr works for an nn.Sequential\'s index too).')
