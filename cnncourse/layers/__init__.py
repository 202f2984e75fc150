"""Layers implemented from scratch, named and called like ``torch.nn.functional``."""

from cnncourse.layers.conv import Conv1d, Conv2d, conv1d, conv2d, conv2d_loops

__all__ = ["Conv1d", "Conv2d", "conv1d", "conv2d", "conv2d_loops"]
