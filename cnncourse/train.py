"""A small, honest training loop: ``fit``, ``evaluate``, a history, checkpoints.

Used by every chapter that trains a network, on CPU and CUDA alike::

    history = fit(model, train_loader, val_loader, epochs=5, lr=1e-3)
    history.plot()

and two shorthands the later chapters share: :func:`fit_cosine` (Adam, a
cosine schedule, a seeded shuffle) and :func:`predict` (outputs in batches,
back on the CPU).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

from cnncourse import distributed
from cnncourse.layers import use_kernels
from cnncourse.runtime import device as default_device
from cnncourse.runtime import device_of, evaluating


GAINS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu")  # what nn.init.calculate_gain knows


def he_init(model: nn.Module, nonlinearity: str = "relu") -> nn.Module:
    """Initialise every conv and linear weight of ``model`` as He et al. (2015) do, biases to zero.

    Weights ~ N(0, gain² / fan_in) with the gain of ``nonlinearity`` ("relu":
    sqrt(2), "tanh": 5/3, ...; see ``nn.init.calculate_gain``). Returns ``model``.
    """
    if nonlinearity not in GAINS:
        raise ValueError(f"he_init: nonlinearity must be one of {GAINS}; got {nonlinearity!r}")
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity=nonlinearity)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


@dataclass
class History:
    """One row per epoch: train/val loss and accuracy and the epoch's seconds."""

    rows: list[dict] = field(default_factory=list)

    def __getitem__(self, key: str) -> list[float]:
        return [row[key] for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def last(self) -> dict:
        return self.rows[-1]

    def plot(self, title: str | None = None):
        """Loss and accuracy curves, train vs validation; returns the figure."""
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
        epochs = self["epoch"]
        for ax, metric in zip(axes, ("loss", "acc")):
            for split, style in (("train", "-o"), ("val", "--s")):
                values = [row.get(f"{split}_{metric}") for row in self.rows]
                if any(v is not None for v in values):
                    ax.plot(epochs, values, style, label=split, markersize=3)
            ax.set_xlabel("epoch")
            ax.set_ylabel("accuracy" if metric == "acc" else "loss")
            ax.grid(alpha=0.3)
            ax.legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        return fig


def _batches(loader, desc, progress):
    """The loader, wrapped in a progress bar unless ``progress`` is off.

    ``progress=None`` means on, unless ``TQDM_DISABLE`` is set (the book build
    sets it: a static page cannot show live widgets). tqdm's notebook bars do
    not read that variable themselves, so we do.
    """
    if progress is None:
        progress = os.environ.get("TQDM_DISABLE", "").lower() in ("", "0", "false")
    return tqdm(loader, desc=desc, leave=False, disable=not progress)


def _to(obj, device):
    """A tensor, or a tuple/list/dict of them (a model's several targets), moved to ``device``."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to(v, device) for v in obj)
    return obj


def _correct(output, y) -> tuple[int, int]:
    """(right, counted) labels: argmax over dim 1 against integer targets of one dimension fewer.

    Class labels (N,) count N, per-pixel labels (N, H, W) count every pixel; for any other
    output or target (boxes, joints, depth) nothing is counted and the accuracy is NaN.
    """
    if (isinstance(output, torch.Tensor) and isinstance(y, torch.Tensor) and not y.is_floating_point()
            and output.dim() == y.dim() + 1 and output.shape[2:] == y.shape[1:]):
        return (output.argmax(dim=1) == y).sum().item(), y.numel()
    return 0, 0


@torch.no_grad()
def evaluate(model: nn.Module, loader, loss_fn=F.cross_entropy, device=None) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``loader`` (eval mode, no gradients).

    ``loss_fn(output, y, reduction="sum")`` must sum over the batch. The accuracy
    counts every label (pixels, for segmentation); it is NaN where the targets are
    not labels (see :func:`fit`).
    """
    device = device or next(model.parameters()).device
    total_loss, correct, counted, count = 0.0, 0, 0, 0
    with evaluating(model):
        for x, y in loader:
            x, y = x.to(device), _to(y, device)
            output = model(x)
            total_loss += loss_fn(output, y, reduction="sum").item()
            right, n = _correct(output, y)
            correct, counted, count = correct + right, counted + n, count + len(x)
    if count == 0:
        raise ValueError("evaluate: the loader yielded no examples")
    return total_loss / count, correct / counted if counted else float("nan")


def fit(
    model: nn.Module,
    train_loader,
    val_loader=None,
    *,
    epochs: int = 5,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler=None,
    augment=None,
    loss_fn=F.cross_entropy,
    device=None,
    progress: bool | None = None,
    checkpoint: str | Path | None = None,
) -> History:
    """Train ``model`` for ``epochs`` epochs; return the per-epoch :class:`History`.

    ``optimizer`` defaults to Adam with learning rate ``lr``. ``scheduler`` is
    stepped once per epoch (``ReduceLROnPlateau`` gets the validation loss).
    ``augment`` transforms each training batch of inputs (on the device),
    e.g. ``data.compose(data.random_crop, data.random_hflip)``.
    With ``checkpoint``, the model, optimizer and history are saved after
    every epoch (see :func:`load_checkpoint`).

    Beyond classification, the same loop trains any model whose loss is
    ``loss_fn(model(x), y)``: per-pixel labels (N, H, W) for segmentation
    (the accuracy is then over pixels), or targets that are a tuple or dict
    of tensors (a class and a box), moved to the device together; where the
    targets are not labels, the accuracy columns are NaN.

    Inside ``torch.distributed`` (a script launched by ``torchrun``) the same
    call trains data-parallel: the loader's batch is the global batch, split
    over the processes, the model runs in ``DistributedDataParallel``, the
    history's training numbers are over all processes, and only rank 0
    shows progress and writes the checkpoint (:mod:`cnncourse.distributed`).
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int; got {epochs!r}")
    device = torch.device(device) if device is not None else default_device()
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history = History()
    trained = model
    if distributed.is_distributed():
        train_loader = distributed.shard_loader(train_loader, distributed.rank(), distributed.world_size())
        if not isinstance(model, nn.parallel.DistributedDataParallel):
            trained = distributed.data_parallel(model, device)
        progress = progress if distributed.is_main() else False
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        if isinstance(getattr(train_loader, "sampler", None), DistributedSampler):
            train_loader.sampler.set_epoch(epoch)
        model.train()
        total_loss, correct, counted, count = 0.0, 0, 0, 0
        for x, y in _batches(train_loader, f"epoch {epoch}/{epochs}", progress):
            x, y = x.to(device), _to(y, device)
            if augment is not None:
                x = augment(x)
            optimizer.zero_grad(set_to_none=True)
            logits = trained(x)
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(x)
            right, n = _correct(logits, y)
            correct, counted, count = correct + right, counted + n, count + len(x)
        total_loss, correct, counted, count = distributed.sum_across(total_loss, correct, counted, count)
        row = {"epoch": epoch, "train_loss": total_loss / count,
               "train_acc": correct / counted if counted else float("nan")}
        if val_loader is not None:
            row["val_loss"], row["val_acc"] = evaluate(model, val_loader, loss_fn, device)
        row["lr"] = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(row.get("val_loss", row["train_loss"]))
            else:
                scheduler.step()
        row["seconds"] = time.perf_counter() - start
        history.rows.append(row)
        if checkpoint is not None and distributed.is_main():
            save_checkpoint(checkpoint, model, optimizer, history)
    return history


def fit_cosine(model: nn.Module, dataset, loss_fn=F.cross_entropy, *, epochs: int, lr: float,
               batch_size: int = 32, parameters=None, seed: int = 0, augment=None,
               progress: bool | None = None) -> History:
    """:func:`fit` with Adam and a cosine schedule, on PyTorch's kernels, reproducibly.

    The recipe the Beyond-classification chapters share: ``dataset`` yields
    (input, target) pairs, shuffled by a generator seeded with ``seed``
    (the model's own initialisation is the caller's); ``parameters`` (default:
    all of the model's) are the ones Adam updates, so a stage of a network can
    be trained while the rest stays fixed; ``augment`` is :func:`fit`'s.
    ``layers.use_kernels("torch")``
    runs the course's layers on PyTorch's kernels, which the tests check give
    the same results, faster.
    """
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(model.parameters() if parameters is None else parameters, lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    with use_kernels("torch"):
        return fit(model, loader, epochs=epochs, optimizer=optimizer, scheduler=schedule, loss_fn=loss_fn,
                   augment=augment, progress=progress)


@torch.no_grad()
def predict(model: nn.Module, inputs: torch.Tensor, batch_size: int = 500, postprocess=None):
    """The model's outputs for ``inputs`` (N, ...), ``batch_size`` at a time, on the CPU.

    The model runs in evaluation mode (its mode is restored after), on its
    own device and on PyTorch's kernels. A model returning a tuple (class
    scores and boxes) gives a tuple of concatenated tensors. ``postprocess``
    maps each batch's output before it leaves the device (``argmax`` for
    segmentation labels).
    """
    if not isinstance(inputs, torch.Tensor) or inputs.dim() < 1 or len(inputs) == 0:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise ValueError(f"predict: inputs must be a non-empty (N, ...) tensor; got {shape}")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"predict: batch_size must be a positive int; got {batch_size!r}")
    device = device_of(model)
    outputs = []
    with evaluating(model), use_kernels("torch"):
        for x in inputs.split(batch_size):
            out = model(x.to(device))
            out = postprocess(out) if postprocess is not None else out
            outputs.append(tuple(o.cpu() for o in out) if isinstance(out, tuple) else out.cpu())
    if isinstance(outputs[0], tuple):
        return tuple(torch.cat(part) for part in zip(*outputs))
    return torch.cat(outputs)


def save_checkpoint(path, model: nn.Module, optimizer=None, history: History | None = None) -> Path:
    """Save the model (and optionally optimizer and history) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "history": history.rows if history is not None else None,
        },
        path,
    )
    return path


def load_checkpoint(path, model: nn.Module, optimizer=None, map_location="cpu") -> History:
    """Restore what :func:`save_checkpoint` wrote; return the saved history."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint at {path}")
    state = torch.load(path, map_location=map_location, weights_only=True)
    model.load_state_dict(state["model"])
    if optimizer is not None:
        if state["optimizer"] is None:
            raise ValueError(f"load_checkpoint: {path} holds no optimizer state")
        optimizer.load_state_dict(state["optimizer"])
    return History(list(state["history"] or []))
