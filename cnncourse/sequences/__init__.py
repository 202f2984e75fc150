"""Convolutions over sequences: sentences, tags and characters.

* :mod:`~cnncourse.sequences.textcnn`: Kim's sentence classifier, 1D
  convolutions of several widths and 1-max pooling over time;
* :mod:`~cnncourse.sequences.window`: Collobert and Weston's window network,
  one look-up table shared by several tagging tasks;
* :mod:`~cnncourse.sequences.bytenet`: ByteNet's residual blocks of dilated
  causal convolutions, a character-level language model and the
  encoder-decoder, with a GRU baseline.

The data (Python's own documentation, and generated sentences) is in
:mod:`cnncourse.data.text`.
"""

from cnncourse.sequences.bytenet import (
    ByteNet, ByteNetLM, CausalConv1d, ChannelNorm, RecurrentLM, ResidualBlock, bits_per_character, causal_conv1d,
    generate, random_windows, stack, train_lm, unfolded_length,
)
from cnncourse.sequences.textcnn import TextCNN, check_ids, lengths_of, max_over_time, top_ngrams
from cnncourse.sequences.window import WindowNetwork, tag_accuracy, train_tasks, window_features

__all__ = [
    "ByteNet", "ByteNetLM", "CausalConv1d", "ChannelNorm", "RecurrentLM", "ResidualBlock", "bits_per_character",
    "causal_conv1d", "generate", "random_windows", "stack", "train_lm", "unfolded_length",
    "TextCNN", "check_ids", "lengths_of", "max_over_time", "top_ngrams",
    "WindowNetwork", "tag_accuracy", "train_tasks", "window_features",
]
