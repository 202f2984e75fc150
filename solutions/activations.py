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
    ### BEGIN SOLUTION
    modules = dict(model.named_modules())
    outputs, handles = {}, []
    for name in names:
        def hook(module, inputs, output, name=name):
            outputs[name] = output.detach().clone()  # a later in-place op may overwrite it
        handles.append(modules[name].register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return outputs
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    def features(images):
        maps = feature_maps(model, images, [layer_name])[layer_name]
        return maps.flatten(1).float()

    (x_train, y_train), (x_test, y_test) = train, test
    f_train, f_test = features(x_train), features(x_test)
    mean, std = f_train.mean(0), f_train.std(0).clamp(min=1e-6)
    f_train, f_test = (f_train - mean) / std, (f_test - mean) / std
    probe = nn.Linear(f_train.shape[1], int(y_train.max()) + 1)
    optimizer = torch.optim.Adam(probe.parameters(), lr=1e-2)
    for _ in range(epochs):
        optimizer.zero_grad()
        nn.functional.cross_entropy(probe(f_train), y_train).backward()
        optimizer.step()
    with torch.no_grad():
        return (probe(f_test).argmax(1) == y_test).float().mean().item()
    ### END SOLUTION
