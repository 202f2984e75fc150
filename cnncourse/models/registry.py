"""Every architecture of the course by name: ``list_models()``, ``get(name, **kwargs)``.

Each factory accepts ``num_classes`` and ``in_channels``. Names shared with
torchvision (``resnet50``, ``vgg16_bn``, ...) build modules whose state_dict
has torchvision's keys and shapes; :func:`load_pretrained` loads its weights.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn


@dataclass(frozen=True)
class Entry:
    factory: Callable[..., nn.Module]
    torchvision: str | None
    doc: str
    input_size: int  # the side of the square images it was designed for


_REGISTRY: dict[str, Entry] = {}


def register(name: str, factory: Callable[..., nn.Module], torchvision: str | None = None, doc: str = "",
             input_size: int = 224) -> None:
    if name in _REGISTRY:
        raise ValueError(f"register: a model named {name!r} exists already")
    _REGISTRY[name] = Entry(factory, torchvision, doc, input_size)


def list_models(torchvision_only: bool = False) -> list[str]:
    """The names ``get`` accepts (those with a torchvision twin only, if asked)."""
    return sorted(n for n, e in _REGISTRY.items() if e.torchvision or not torchvision_only)


def get(name: str, **kwargs) -> nn.Module:
    """Build the model called ``name``; ``kwargs`` go to its factory (num_classes, in_channels, ...).

    An input too small for the network's pooling and strides is refused with
    the smallest size that works (found only when a forward pass fails).
    """
    model = get_entry(name).factory(**kwargs)
    model.forward = functools.partial(_forward_with_size_check, model.forward, name, kwargs)
    return model


def _forward_with_size_check(forward, name, kwargs, *args, **more):
    try:
        return forward(*args, **more)
    except (ValueError, RuntimeError) as error:
        x = args[0] if args else None
        if isinstance(x, torch.Tensor) and x.dim() == 4:
            try:
                minimum = min_input_size(name, **kwargs)
            except ValueError:
                raise error from None
            if min(x.shape[-2:]) < minimum:
                raise ValueError(
                    f"{name}: input of {x.shape[-2]}x{x.shape[-1]} is too small; "
                    f"this network needs at least {minimum}x{minimum}"
                ) from error
        raise


def min_input_size(name: str, max_side: int = 1024, **kwargs) -> int:
    """The smallest side (pixels) of a square input that the model ``name`` accepts.

    Found by bisection on the meta device: shapes are propagated, nothing is computed.
    """
    with torch.device("meta"):
        model = get_entry(name).factory(**kwargs).eval()
    channels = kwargs.get("in_channels", 3)

    def accepts(side):
        try:
            with torch.no_grad():
                model(torch.empty(1, channels, side, side, device="meta"))
            return True
        except (ValueError, RuntimeError):
            return False

    if not accepts(max_side):
        raise ValueError(f"min_input_size: {name} accepts no square input up to {max_side}x{max_side}")
    low, high = 0, max_side  # low fails (or is 0), high works
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if accepts(mid) else (mid, high)
    return high


def get_entry(name: str) -> Entry:
    """The registry entry of ``name``: its factory, torchvision twin and one-line description."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _REGISTRY[name]


def check_state_dict(model: nn.Module, state_dict: dict) -> None:
    """Raise an error naming every missing, unexpected and mis-shaped key."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    shapes = [f"{k}: model {tuple(own[k].shape)}, file {tuple(state_dict[k].shape)}"
              for k in own.keys() & state_dict.keys() if own[k].shape != state_dict[k].shape]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys: {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}")
        if unexpected:
            parts.append(f"unexpected keys: {', '.join(unexpected[:10])}{' ...' if len(unexpected) > 10 else ''}")
        if shapes:
            parts.append(f"mis-shaped: {'; '.join(shapes[:10])}")
        raise ValueError(f"state_dict does not fit {type(model).__name__}: " + " | ".join(parts))


def _hub_file(weights) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def pretrained_file(name: str) -> Path | None:
    """torchvision's published weights for ``name`` in torch's hub cache, if they are on this machine (no download)."""
    entry = get_entry(name)
    if entry.torchvision is None:
        raise ValueError(f"pretrained_file: {name!r} has no torchvision twin, so no published weights")
    import torchvision

    cache = _hub_file(torchvision.models.get_model_weights(entry.torchvision).DEFAULT)
    return cache if cache.is_file() else None


def load_pretrained(model: nn.Module, name: str, path: str | Path | None = None) -> nn.Module:
    """Load torchvision's published ImageNet weights for ``name`` into ``model``.

    From ``path`` if given (a file saved by torchvision or ``torch.save(state_dict)``),
    else from torch's hub cache, downloading there when a network is available.
    Offline with no file, the error says where to put one.
    """
    entry = get_entry(name)
    if entry.torchvision is None:
        raise ValueError(f"load_pretrained: {name!r} has no torchvision twin, so no published weights")
    import torchvision

    weights = torchvision.models.get_model_weights(entry.torchvision).DEFAULT
    if path is None:
        path = pretrained_file(name)
        if path is None:
            cache = _hub_file(weights)
            try:
                state_dict = weights.get_state_dict(progress=False)
            except Exception as error:  # no network, a proxy, a refused download
                raise FileNotFoundError(
                    f"load_pretrained: no weights for {name!r} and the download from torchvision failed "
                    f"({type(error).__name__}: {error}). Download {weights.url} on a machine with internet "
                    f"access and put it at {cache}, or pass path=..."
                ) from error
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"load_pretrained: no file at {path} (expected torchvision's {Path(weights.url).name})")
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    check_state_dict(model, state_dict)
    model.load_state_dict(state_dict, strict=True)
    return model
