"""What every visualization method shares: checked inputs, the model's device, eval mode, hooks."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from cnncourse.runtime import device_of, evaluating

__all__ = ["capture", "check_image", "check_positive", "evaluating", "frozen", "input_channels", "layer", "layer_outputs", "prepared",
           "score", "targets"]


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


def check_image(function: str, name: str, image, channels: int | None = None,
                value_range: tuple[float, float] | None = (0.0, 1.0)) -> torch.Tensor:
    """``image`` as a batch (N, C, H, W): a (C, H, W) image gains a batch axis; channels and range are checked."""
    if not isinstance(image, torch.Tensor) or image.dim() not in (3, 4):
        got = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"{function}: {name} must be an image (C, H, W) or a batch (N, C, H, W); got {got}")
    image = image if image.dim() == 4 else image[None]
    if channels is not None and image.shape[1] != channels:
        raise ValueError(f"{function}: {name} must have {channels} channels (the model's input); "
                         f"got {image.shape[1]} (shape {tuple(image.shape)})")
    if value_range is not None and image.numel():
        low, high = float(image.min()), float(image.max())
        if low < value_range[0] - 1e-6 or high > value_range[1] + 1e-6:
            raise ValueError(f"{function}: {name} must have values in [{value_range[0]}, {value_range[1]}]; "
                             f"got values in [{low:.3g}, {high:.3g}]")
    return image


def check_positive(function: str, **values) -> None:
    """Each keyword must be a positive number (``steps=0`` -> an error naming ``steps``)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{function}: {name} must be a positive number; got {value!r}")


def input_channels(model: nn.Module) -> int | None:
    """The channel count of the model's first convolution, if it has one."""
    for module in model.modules():
        if isinstance(module, nn.modules.conv._ConvNd):
            return module.in_channels
    return None


class _Stop(Exception):
    """Raised by a hook once every requested layer has run: the rest of the network is not needed."""


def layer_outputs(model: nn.Module, x: torch.Tensor, names, function: str = "viz") -> dict[str, torch.Tensor]:
    """The outputs of the layers ``names`` for ``x``, differentiable, on the model's device.

    The forward pass stops as soon as the last of them has run (the layers
    above it are not computed). The outputs are copies, so an in-place ReLU
    that follows a layer cannot overwrite what is returned.
    """
    names = [names] if isinstance(names, str) else list(names)
    modules = {name: layer(model, name, function) for name in names}
    store, handles = {}, []

    def hook(name):
        def record(module, inputs, output):
            store.setdefault(name, output.clone())
            if len(store) == len(names):
                raise _Stop
        return record

    for name, module in modules.items():
        handles.append(module.register_forward_hook(hook(name)))
    try:
        model(x)
    except _Stop:
        pass
    finally:
        for handle in handles:
            handle.remove()
    missing = [name for name in names if name not in store]
    if missing:
        raise ValueError(f"{function}: the layers {missing} did not run in the model's forward pass")
    return {name: store[name] for name in names}


@contextlib.contextmanager
def frozen(model: nn.Module):
    """Eval mode and no parameter gradients for the block; both come back afterwards, even on an error."""
    flags = [p.requires_grad for p in model.parameters()]
    try:
        with evaluating(model):
            for p in model.parameters():
                p.requires_grad_(False)
            yield model
    finally:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)
