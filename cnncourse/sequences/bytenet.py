"""ByteNet: residual blocks of dilated causal 1D convolutions, a decoder stacked on an encoder.

Kalchbrenner et al. (2016), "Neural Machine Translation in Linear Time".
A *causal* (the paper: *masked*) convolution lets the output at step ``t``
see inputs ``<= t`` only: the input is padded on the left by
``dilation * (kernel_size - 1)`` zeros and on the right by none. Stacking
such convolutions with dilations 1, 2, 4, 8, 16 doubles the receptive field
with every layer, so five layers of width 3 see 63 steps, and the paper
repeats the stack to see further. The decoder is a language model over the
target; for translation it is stacked on an encoder (the same blocks,
not causal) whose output is cut or zero-padded to the target's length and
concatenated with the target's embeddings (the paper's *dynamic
unfolding*: the source's representation spans ``a * |s| + b`` steps, and
decoder steps beyond it read zeros). Every step's output is computed
in parallel while training, and the cost grows linearly with the length.

Shapes: token ids (N, L) -> logits (N, V, L), the layout ``F.cross_entropy``
takes with (N, L) targets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.layers import Conv1d, conv1d
from cnncourse.layers.kernels import torch_kernels, use_kernels
from cnncourse.sequences.textcnn import check_ids


def causal_conv1d(input, weight, bias=None, dilation: int = 1):
    """Causal 1D convolution: output step t sees input steps t - dilation * (K - 1) .. t.

    ``input`` (N, C_in, L), ``weight`` (C_out, C_in, K) -> (N, C_out, L).
    """
    if not isinstance(dilation, int) or dilation < 1:
        raise ValueError(f"causal_conv1d: dilation must be a positive int; got {dilation!r}")
    if not isinstance(weight, torch.Tensor) or weight.dim() != 3:
        raise ValueError("causal_conv1d: weight must be a 3-D tensor (C_out, C_in, K)")
    return conv1d(F.pad(input, (dilation * (weight.shape[-1] - 1), 0)), weight, bias, dilation=dilation)


class CausalConv1d(Conv1d):
    """A conv1d padded on the left only; ``padding`` reports the left padding, so receptive fields come out right."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1):
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.padding = (dilation * (kernel_size - 1),)

    def forward(self, input):
        x = F.pad(input, (self.padding[0], 0))
        if torch_kernels():
            return F.conv1d(x, self.weight, self.bias, dilation=self.dilation)
        return conv1d(x, self.weight, self.bias, dilation=self.dilation)


class ChannelNorm(nn.LayerNorm):
    """Layer normalisation over the channels of each step of (N, C, L), so no step sees another."""

    def forward(self, input):
        return super().forward(input.transpose(1, 2)).transpose(1, 2)


class ResidualBlock(nn.Module):
    """ByteNet's block: norm, ReLU, 1x1 (2d -> d), norm, ReLU, dilated k-wide conv, norm, ReLU, 1x1 (d -> 2d), + x.

    The paper's block with ReLUs (its Figure 3, left, used for translation);
    its language model uses blocks with multiplicative units instead.
    """

    def __init__(self, channels: int, kernel_size: int = 3, dilation: int = 1, causal: bool = True):
        super().__init__()
        if channels % 2:
            raise ValueError(f"ResidualBlock: channels must be even (2d outside, d inside); got {channels}")
        inner = channels // 2
        if causal:
            conv = CausalConv1d(inner, inner, kernel_size, dilation)
        else:
            conv = Conv1d(inner, inner, kernel_size, dilation=dilation, padding=dilation * (kernel_size - 1) // 2)
        self.body = nn.Sequential(ChannelNorm(channels), nn.ReLU(), Conv1d(channels, inner, 1),
                                  ChannelNorm(inner), nn.ReLU(), conv,
                                  ChannelNorm(inner), nn.ReLU(), Conv1d(inner, channels, 1))

    def forward(self, x):
        return x + self.body(x)


def stack(channels: int, dilations: Sequence[int], repeats: int = 1, kernel_size: int = 3,
          causal: bool = True) -> nn.Sequential:
    """Residual blocks with ``dilations`` (e.g. 1, 2, 4, 8, 16), the whole set ``repeats`` times."""
    return nn.Sequential(*(ResidualBlock(channels, kernel_size, d, causal)
                           for _ in range(repeats) for d in dilations))


class ByteNetLM(nn.Module):
    """ByteNet's decoder alone: a character-level language model, (N, L) -> next-token logits (N, V, L)."""

    def __init__(self, vocab_size: int, channels: int = 128, dilations: Sequence[int] = (1, 2, 4, 8, 16),
                 repeats: int = 1, kernel_size: int = 3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, channels)
        self.blocks = stack(channels, dilations, repeats, kernel_size, causal=True)
        self.out = nn.Sequential(ChannelNorm(channels), nn.ReLU(), Conv1d(channels, vocab_size, 1))

    def forward(self, tokens):
        check_ids("ByteNetLM", tokens, self.embedding.num_embeddings)
        return self.out(self.blocks(self.embedding(tokens).transpose(1, 2)))


def unfolded_length(source_length: int, a: float = 1.2, b: int = 0) -> int:
    """The paper's bound on the target's length, ``a * |s| + b``, over which the decoder unfolds."""
    return math.floor(a * source_length + b)


class ByteNet(nn.Module):
    """Encoder (dilated, not causal) under a causal decoder: (source (N, S), target (N, T)) -> logits (N, V_t, T).

    ``target`` holds the tokens the decoder has already produced (the
    targets shifted right, as in training with teacher forcing). The
    encoder's output is cut or zero-padded to T steps and concatenated with
    the target's embeddings; a 1x1 convolution brings the two back to
    ``channels``.
    """

    def __init__(self, source_vocab: int, target_vocab: int, channels: int = 128,
                 dilations: Sequence[int] = (1, 2, 4, 8, 16), repeats: int = 1, kernel_size: int = 3,
                 encoder_kernel_size: int = 3):
        super().__init__()
        self.source_embedding = nn.Embedding(source_vocab, channels)
        self.encoder = stack(channels, dilations, repeats, encoder_kernel_size, causal=False)
        self.target_embedding = nn.Embedding(target_vocab, channels)
        self.join = Conv1d(2 * channels, channels, 1)
        self.decoder = stack(channels, dilations, repeats, kernel_size, causal=True)
        self.out = nn.Sequential(ChannelNorm(channels), nn.ReLU(), Conv1d(channels, target_vocab, 1))

    def forward(self, source, target):
        check_ids("ByteNet source", source, self.source_embedding.num_embeddings)
        check_ids("ByteNet target", target, self.target_embedding.num_embeddings)
        encoded = self.encoder(self.source_embedding(source).transpose(1, 2))  # (N, C, S)
        steps = target.shape[1]
        encoded = F.pad(encoded, (0, max(0, steps - encoded.shape[-1])))[..., :steps]  # unfold to T steps
        joined = torch.cat([encoded, self.target_embedding(target).transpose(1, 2)], 1)
        return self.out(self.decoder(self.join(joined)))


class RecurrentLM(nn.Module):
    """The recurrent baseline: embedding, ``torch.nn.GRU``, a linear readout; (N, L) -> logits (N, V, L)."""

    def __init__(self, vocab_size: int, hidden: int = 128, layers: int = 1):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, hidden)
        self.gru = nn.GRU(hidden, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, tokens):
        check_ids("RecurrentLM", tokens, self.embedding.num_embeddings)
        return self.out(self.gru(self.embedding(tokens))[0]).transpose(1, 2)


def random_windows(ids: torch.Tensor, length: int, batch_size: int, generator: torch.Generator) -> torch.Tensor:
    """``batch_size`` random windows of ``length + 1`` consecutive ids of a 1-D id tensor: (B, length + 1)."""
    if ids.dim() != 1 or len(ids) <= length:
        raise ValueError(f"random_windows: ids must be 1-D and longer than length={length}; got shape {tuple(ids.shape)}")
    starts = torch.randint(0, len(ids) - length, (batch_size,), generator=generator)
    return ids[starts[:, None] + torch.arange(length + 1)]


def train_lm(model: nn.Module, ids: torch.Tensor, *, steps: int, length: int = 128, batch_size: int = 32,
             lr: float = 2e-3, seed: int = 0) -> list[float]:
    """Next-token training on random windows of ``ids`` with Adam and a cosine schedule; the loss per step (nats)."""
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    losses = []
    model.train()
    with use_kernels("torch"):
        for _ in range(steps):
            window = random_windows(ids, length, batch_size, generator).to(device)
            loss = F.cross_entropy(model(window[:, :-1]), window[:, 1:])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
    return losses


@torch.no_grad()
def bits_per_character(model: nn.Module, ids: torch.Tensor, length: int = 256, batch_size: int = 16) -> float:
    """Mean -log2 p(next id) over consecutive windows of ``length + 1`` ids (each window starts afresh)."""
    model.eval()
    device = next(model.parameters()).device
    count = (len(ids) - 1) // length
    windows = torch.stack([ids[i * length: i * length + length + 1] for i in range(count)])
    total = 0.0
    with use_kernels("torch"):
        for batch in windows.split(batch_size):
            batch = batch.to(device)
            total += F.cross_entropy(model(batch[:, :-1]), batch[:, 1:], reduction="sum").item()
    return total / (count * length) / math.log(2)


@torch.no_grad()
def generate(model: nn.Module, prompt: torch.Tensor, steps: int, temperature: float = 0.7,
             seed: int = 0) -> torch.Tensor:
    """Sample ``steps`` ids after a 1-D ``prompt``, one at a time (each step re-reads the whole text)."""
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator(device="cpu").manual_seed(seed)
    ids = prompt.clone()
    with use_kernels("torch"):
        for _ in range(steps):
            logits = model(ids[None].to(device))[0, :, -1].cpu()
            ids = torch.cat([ids, torch.multinomial(F.softmax(logits / temperature, 0), 1, generator=generator)])
    return ids
