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
    ### BEGIN SOLUTION
    names = [name for name, child in model.named_children() if any(True for _ in child.parameters())]
    frozen = names[:k]
    for name in frozen:
        block = getattr(model, name)
        for p in block.parameters():
            p.requires_grad_(False)
        for module in block.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                module.register_forward_pre_hook(lambda m, inputs: m.train(False) and None)
    return frozen
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, attribute = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, attribute)
    head = nn.Linear(old.in_features, num_classes, bias=old.bias is not None).to(old.weight.device)
    setattr(parent, attribute, head)
    return head
    ### END SOLUTION
