"""Kim's sentence classifier: 1D convolutions of several widths over word vectors, 1-max pooling.

Kim (2014), "Convolutional Neural Networks for Sentence Classification":
each word is looked up in an embedding table (Collobert and Weston's
*look-up table*), a filter of width ``w`` slides over the sentence as a 1D
convolution and fires on the ``w``-grams it was trained to detect, and
*1-max pooling over time* keeps each filter's strongest response wherever it
occurred. Filters of several widths run side by side (the paper: widths 3, 4
and 5, 100 filters each, dropout 0.5 on the pooled features).

Padding never changes the result: a window that reaches past a sentence's
last real token is left out of the max (:func:`max_over_time`), so a
sentence scores the same alone or in a batch padded to any length.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers import Conv1d


def check_ids(fn: str, tokens, vocab_size: int) -> None:
    """``tokens`` is an (N, L) integer tensor of ids in [0, vocab_size)."""
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.is_floating_point():
        got = f"shape {tuple(tokens.shape)}, {tokens.dtype}" if isinstance(tokens, torch.Tensor) else type(tokens).__name__
        raise ValueError(f"{fn}: tokens must be an (N, L) tensor of integer ids; got {got}")
    if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= vocab_size):
        bad = tokens[(tokens < 0) | (tokens >= vocab_size)]
        raise ValueError(f"{fn}: token ids must lie in [0, {vocab_size}) (the vocabulary); got {int(bad[0])}")


def lengths_of(tokens: torch.Tensor, padding_idx: int = 0) -> torch.Tensor:
    """Real tokens per right-padded sequence: (N, L) -> (N,)."""
    return (tokens != padding_idx).sum(1)


def max_over_time(maps: torch.Tensor, lengths: torch.Tensor, width: int, return_indices: bool = False):
    """1-max pooling of (N, F, L - width + 1) filter responses over the windows inside each sequence.

    Window ``t`` covers tokens ``t .. t + width - 1``; it counts for a
    sequence of ``lengths[n]`` tokens when ``t + width <= lengths[n]``.
    Returns (N, F), and the window of each maximum with ``return_indices``.
    """
    windows = torch.arange(maps.shape[-1], device=maps.device)
    inside = windows[None, :] + width <= lengths.to(maps.device)[:, None]  # (N, T)
    pooled, where = maps.masked_fill(~inside[:, None, :], float("-inf")).max(-1)
    return (pooled, where) if return_indices else pooled


class TextCNN(nn.Module):
    """Kim's CNN: look-up table -> conv1d of each width -> ReLU -> 1-max pooling -> dropout -> linear.

    ``tokens`` (N, L) right-padded with ``padding_idx`` -> logits
    (N, num_classes). Every sequence needs at least ``max(widths)`` real
    tokens. ``embedding`` can start from pre-trained vectors and be frozen
    (Kim's "static" variant) with ``requires_grad_(False)``.
    """

    def __init__(self, vocab_size: int, num_classes: int, embed_dim: int = 50, widths: Sequence[int] = (3, 4, 5),
                 filters: int = 100, dropout: float = 0.5, padding_idx: int = 0):
        super().__init__()
        widths = tuple(widths)
        if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"TextCNN: widths must be positive ints; got {widths!r}")
        self.widths, self.padding_idx = widths, padding_idx
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.convs = nn.ModuleList(Conv1d(embed_dim, filters, w) for w in widths)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(filters * len(widths), num_classes)

    def responses(self, tokens: torch.Tensor) -> list[torch.Tensor]:
        """Each width's ReLU'd filter responses, [(N, F, L - w + 1)]; checks the ids and lengths."""
        check_ids("TextCNN", tokens, self.embedding.num_embeddings)
        lengths = lengths_of(tokens, self.padding_idx)
        shortest, widest = int(lengths.min()), max(self.widths)
        if shortest < widest or tokens.shape[1] < widest:
            raise ValueError(f"TextCNN: every sequence needs at least {widest} tokens (the widest filter); "
                             f"got one of {min(shortest, tokens.shape[1])}")
        x = self.embedding(tokens).transpose(1, 2)  # (N, D, L)
        return [F.relu(conv(x)) for conv in self.convs]

    def features(self, tokens: torch.Tensor, return_indices: bool = False):
        """The pooled features (N, F * len(widths)), width by width; with the winning windows (N, F * len(widths))."""
        lengths = lengths_of(tokens, self.padding_idx)
        pooled = [max_over_time(r, lengths, w, True) for r, w in zip(self.responses(tokens), self.widths)]
        values, where = torch.cat([p[0] for p in pooled], 1), torch.cat([p[1] for p in pooled], 1)
        return (values, where) if return_indices else values

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.features(tokens)))


@torch.no_grad()
def top_ngrams(model: TextCNN, tokens: torch.Tensor, vocab, k: int = 1, batch_size: int = 512) -> list[list[tuple]]:
    """For every filter (width by width), the ``k`` n-grams of ``tokens`` that excite it most.

    Returns one list per filter of (activation, "the n gram") pairs, strongest first.
    """
    model.eval()
    device = next(model.parameters()).device
    values, where = zip(*(model.features(tokens[i:i + batch_size].to(device), True)
                          for i in range(0, len(tokens), batch_size)))
    values, where = torch.cat(values).cpu(), torch.cat(where).cpu()
    filters = model.convs[0].out_channels
    result = []
    for f in range(values.shape[1]):
        width = model.widths[f // filters]
        best = values[:, f].argsort(descending=True)
        seen, grams = set(), []
        for n in best.tolist():
            start = int(where[n, f])
            gram = " ".join(vocab.decode(tokens[n, start:start + width].tolist()))
            if gram not in seen:
                seen.add(gram)
                grams.append((float(values[n, f]), gram))
            if len(grams) == k:
                break
        result.append(grams)
    return result
