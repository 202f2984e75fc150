"""Collobert and Weston's window network: one look-up table shared by several tagging tasks.

Collobert and Weston (2008), "A Unified Architecture for Natural Language
Processing: Deep Neural Networks with Multitask Learning", learn
part-of-speech tagging, chunking, named entities, semantic roles, a
language model and semantically related words together; the tasks share the
first layer, the *look-up table* of word vectors, so words seen by one task
arrive with useful vectors in another. Their 2008 network tags a word with
a convolution over the whole sentence and a max over time; the follow-up,
Collobert et al. (2011), "Natural Language Processing (Almost) from
Scratch", adds the simpler *window approach* built here: the vectors of a
window of words around the word to tag are concatenated and passed through
a linear layer, a HardTanh and a linear layer with one score per tag.
Sliding the window along the sentence is a 1D convolution of width
``window`` over the word vectors, which is how :class:`WindowNetwork`
computes it (:func:`window_features` spells out the concatenation, for
comparison). The borders are padded with zero vectors here; the 2011 paper
pads with a learned PADDING word.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers import Conv1d
from cnncourse.layers.kernels import use_kernels
from cnncourse.sequences.textcnn import check_ids


def window_features(vectors: torch.Tensor, window: int) -> torch.Tensor:
    """Each position's window of word vectors, concatenated: (N, L, D) -> (N, L, window * D), zeros past the ends."""
    half = window // 2
    padded = F.pad(vectors, (0, 0, half, window - 1 - half))
    return padded.unfold(1, window, 1).transpose(2, 3).flatten(2)  # (N, L, window, D) -> (N, L, window * D)


class WindowNetwork(nn.Module):
    """Shared look-up table; per task a window layer (a width-``window`` conv1d), HardTanh and tag scores.

    ``tasks`` maps a task's name to its number of tags. ``forward(tokens,
    task)``: tokens (N, L) -> tag scores (N, tags, L), the layout
    ``F.cross_entropy`` takes with (N, L) targets. With ``shared="all"`` the
    window layer is shared too and only the last layer is per task.
    """

    def __init__(self, vocab_size: int, tasks: Mapping[str, int], embed_dim: int = 50, window: int = 5,
                 hidden: int = 100, shared: str = "lookup", padding_idx: int = 0):
        super().__init__()
        if window < 1 or window % 2 == 0:
            raise ValueError(f"WindowNetwork: window must be a positive odd int (a word and its neighbours); got {window}")
        if shared not in ("lookup", "all"):
            raise ValueError(f"WindowNetwork: shared must be 'lookup' or 'all'; got {shared!r}")
        if not tasks:
            raise ValueError("WindowNetwork: tasks must name at least one task and its number of tags")
        self.window, self.shared = window, shared
        self.lookup = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)

        def window_layer():
            return nn.Sequential(Conv1d(embed_dim, hidden, window, padding=window // 2), nn.Hardtanh())

        common = window_layer() if shared == "all" else None
        self.heads = nn.ModuleDict({
            name: nn.Sequential(common or window_layer(), Conv1d(hidden, tags, 1)) for name, tags in tasks.items()})

    @property
    def tasks(self) -> list[str]:
        return list(self.heads)

    def forward(self, tokens: torch.Tensor, task: str) -> torch.Tensor:
        if task not in self.heads:
            raise KeyError(f"WindowNetwork: task must be one of {self.tasks}; got {task!r}")
        check_ids("WindowNetwork", tokens, self.lookup.num_embeddings)
        return self.heads[task](self.lookup(tokens).transpose(1, 2))


def train_tasks(model: WindowNetwork, datasets: Mapping[str, torch.utils.data.Dataset], *, steps: int,
                lr: float = 1e-3, batch_size: int = 16, seed: int = 0) -> dict[str, list[float]]:
    """Multi-task training: the tasks take turns, each step one Adam step on a random batch of the next task.

    ``datasets`` maps task names to (tokens, tags) datasets; tags are -100
    on padding. Returns each task's losses. The 2008 paper does the same
    with plain stochastic gradient descent, one random example at a time.
    """
    unknown = set(datasets) - set(model.tasks)
    if unknown:
        raise KeyError(f"train_tasks: datasets name tasks the model lacks: {sorted(unknown)}; it has {model.tasks}")
    order = sorted(datasets)
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    loaders = {t: torch.utils.data.DataLoader(d, batch_size, shuffle=True, generator=generator)
               for t, d in datasets.items()}
    streams = {t: iter(loader) for t, loader in loaders.items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = {t: [] for t in datasets}
    model.train()
    with use_kernels("torch"):
        for step in range(steps):
            task = order[step % len(order)]
            try:
                tokens, tags = next(streams[task])
            except StopIteration:
                streams[task] = iter(loaders[task])
                tokens, tags = next(streams[task])
            loss = F.cross_entropy(model(tokens.to(device), task), tags.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses[task].append(loss.item())
    return losses


@torch.no_grad()
def tag_accuracy(model: WindowNetwork, tokens: torch.Tensor, tags: torch.Tensor, task: str,
                 words: torch.Tensor | None = None) -> float:
    """The fraction of real tokens tagged right; with ``words`` (a bool (N, L) mask), only over those."""
    model.eval()
    predicted = model(tokens.to(next(model.parameters()).device), task).argmax(1).cpu()
    keep = tags != -100
    if words is not None:
        keep &= words
    return float((predicted[keep] == tags[keep]).float().mean())
