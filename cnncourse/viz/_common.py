"""What every visualization method shares: checked inputs, the model's device, eval mode, hooks."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from cnncourse.runtime import device_of, evaluating

__all__ = ["capture", "check_input", "evaluating", "layer", "prepared", "score", "targets"]


def check_input(function: str, input) -> torch.Tensor:
    if not isinstance(input, torch.Tensor) or input.dim() != 4:
        got = tuple(input.shape) if isinstance(input, torch.Tensor) else type(input).__name__
        raise ValueError(f"{function}: input must be a batch (N, C, H, W); got {got}")
    return input


def layer(model: nn.Module, name: str, function: str = "viz") -> nn.Module:
    """The submodule called ``name`` (as in ``model.named_modules()``), or an error listing the names."""
    modules = dict(model.named_modules())
    if name not in modules or not name:
        names = ", ".join(n for n in modules if n)
        raise ValueError(f"{function}: the model has no layer {name!r}; its layers are: {names}")
    return modules[name]


def targets(function: str, target, batch: int, num_classes: int, device) -> torch.Tensor:
    """``target`` (an int, or one class per image) as a (N,) long tensor, checked against the classes."""
    t = torch.as_tensor(target, dtype=torch.long).flatten().cpu()
    if t.numel() == 1:
        t = t.expand(batch)
    if t.numel() != batch:
        raise ValueError(f"{function}: target must be an int or one class per image ({batch}); got {t.numel()} values")
    if (t < 0).any() or (t >= num_classes).any():
        raise ValueError(f"{function}: target must be in 0..{num_classes - 1} (the model's classes); "
                         f"got {t.tolist() if batch <= 10 else target}")
    return t.to(device)


def prepared(function: str, model: nn.Module, input: torch.Tensor, requires_grad: bool = False) -> torch.Tensor:
    """A copy of ``input`` on the model's device (a new leaf that needs its gradient, if asked)."""
    x = check_input(function, input).detach().to(device_of(model))
    return x.requires_grad_(requires_grad)


def score(function: str, model: nn.Module, x: torch.Tensor, target) -> torch.Tensor:
    """The target class's logit for every image: (N,)."""
    logits = model(x)
    t = targets(function, target, x.shape[0], logits.shape[1], logits.device)
    return logits.gather(1, t[:, None])[:, 0]


@contextlib.contextmanager
def capture(module: nn.Module):
    """Record ``module``'s output (its first call) in the yielded dict under "output"."""
    store = {}

    def hook(mod, inputs, output):
        store.setdefault("output", output)

    handle = module.register_forward_hook(hook)
    try:
        yield store
    finally:
        handle.remove()
