"""Exercises for the chapter *GoogLeNet and Inception*.

Grade them with ``make grade`` (or ``pytest tests/grading -k googlenet --impl=exercises``).
"""

import torch.nn.functional as F


def inception_params(in_channels, c1, c3r, c3, c5r, c5, pool_proj):
    """Parameters (weights and biases) of a paper-style Inception module.

    Branches: a 1x1 convolution to c1 maps; a 1x1 to c3r maps then a 3x3 to
    c3; a 1x1 to c5r then a 5x5 to c5; a 3x3 max pool then a 1x1 to
    pool_proj. Every convolution has a bias; pooling has no parameters.

    Hint: a k x k convolution from a to b channels has k*k*a*b + b parameters.
    """
    ### BEGIN SOLUTION
    def conv(k, a, b):
        return k * k * a * b + b

    return (conv(1, in_channels, c1) + conv(1, in_channels, c3r) + conv(3, c3r, c3)
            + conv(1, in_channels, c5r) + conv(5, c5r, c5) + conv(1, in_channels, pool_proj))
    ### END SOLUTION


def googlenet_loss(outputs, target, aux_weight=0.3):
    """GoogLeNet's training loss from its outputs.

    outputs is a tensor of logits (N, classes) in evaluation mode, or the
    tuple (main, aux2, aux1) of three such tensors in training mode. Return
    cross_entropy(main) + aux_weight * (cross_entropy(aux2) + cross_entropy(aux1)),
    or just cross_entropy(main) for a single tensor.

    Hint: isinstance(outputs, tuple) tells the two cases apart; F.cross_entropy(logits, target).
    """
    ### BEGIN SOLUTION
    if not isinstance(outputs, tuple):
        return F.cross_entropy(outputs, target)
    main, *aux = outputs
    return F.cross_entropy(main, target) + aux_weight * sum(F.cross_entropy(a, target) for a in aux)
    ### END SOLUTION
