"""The course's own trained networks, offline: ``zoo.list()``, ``zoo.load(name)``.

The Visualization part explains networks that have learned something, and
the course's default path has no pretrained weights. The zoo trains small
networks on the embedded data instead, once: the first :func:`load` of a
name trains it (seeded, deterministic on the CPU, with a progress bar) and
caches the weights; later calls load them in well under a second.

* **Where:** ``$CNNCOURSE_CACHE``, else ``~/.cache/cnncourse`` (``make test``
  points it into ``_build/``, so a fresh clone trains each network once).
* **When it retrains:** the file name carries a key over everything that
  changes the weights: the recipe's settings, the profile, the device type,
  torch's version and the zoo's own format. Change any and the network is
  trained again; nothing stale is ever loaded.
* **Safety:** writes are atomic (a temporary file, then a rename), and each
  file's SHA-256 is stored beside it and checked on every load: a truncated
  or corrupt file is retrained with a warning, never used.

The recipes (architecture, data, training) are in
:mod:`cnncourse.zoo.recipes`; each loaded model carries ``model.zoo_info``:
its recorded test metrics, training time, settings and cache file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import torch

from cnncourse.layers import use_kernels
from cnncourse.runtime import device as default_device
from cnncourse.runtime import profile as current_profile
from cnncourse.runtime import seed_everything
from cnncourse.zoo.recipes import RECIPES, Recipe
from cnncourse.zoo.detectors import DETECTORS
from cnncourse.zoo.segmenters import SEGMENTERS

RECIPES.update(SEGMENTERS)  # one registry: the tests patch this dict
RECIPES.update(DETECTORS)

FORMAT = 1  # bump when the cache layout changes


def cache_dir() -> Path:
    """``$CNNCOURSE_CACHE``, else ``~/.cache/cnncourse``."""
    return Path(os.environ.get("CNNCOURSE_CACHE") or Path.home() / ".cache" / "cnncourse")


def _recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise KeyError(f"zoo: unknown network {name!r}; the zoo has {', '.join(sorted(RECIPES))}")
    return RECIPES[name]


def key(name: str, profile: str | None = None, device: str | None = None) -> str:
    """The cache key of ``name``: a digest of everything that changes its weights."""
    recipe = _recipe(name)
    profile = profile or current_profile().name
    device = device or default_device().type
    identity = {"name": name, "settings": recipe.settings(profile), "profile": profile,
                "device": device, "torch": torch.__version__.split("+")[0], "format": FORMAT}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def path(name: str, profile: str | None = None, device: str | None = None) -> Path:
    """The cache file of ``name`` (it may not exist yet)."""
    return cache_dir() / f"{name}-{key(name, profile, device)}.pt"


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _digest_file(target: Path) -> Path:
    return target.with_suffix(".sha256")


def _read_verified(target: Path) -> dict | None:
    """The saved record, or None (with a warning) if it is missing its checksum, truncated or corrupt."""
    digest_file = _digest_file(target)
    if not target.is_file() or not digest_file.is_file():
        return None
    data = target.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest_file.read_text().strip():
        warnings.warn(f"zoo: {target} does not match its checksum (truncated or corrupt); training again",
                      stacklevel=3)
        return None
    import io

    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _save(target: Path, record: dict) -> None:
    import io

    buffer = io.BytesIO()
    torch.save(record, buffer)
    data = buffer.getvalue()
    _write_atomically(target, data)
    _write_atomically(_digest_file(target), hashlib.sha256(data).hexdigest().encode())


def load(name: str, train: bool = True, device=None, progress: bool | None = None) -> torch.nn.Module:
    """The trained network ``name`` in eval mode, on ``device`` (default: :func:`cnncourse.device`).

    Loads it from the cache, or trains and caches it first (unless
    ``train=False``, which makes an empty cache an error). The returned
    model carries ``zoo_info``: test metrics, training seconds, settings and
    the cache file.
    """
    recipe = _recipe(name)
    profile = current_profile().name
    device = torch.device(device) if device is not None else default_device()
    target = path(name, profile, device.type)
    record = _read_verified(target)
    if record is None:
        if not train:
            raise FileNotFoundError(
                f"zoo: {name!r} is not trained for the {profile} profile on {device.type} "
                f"(no valid {target.name} in {cache_dir()}); call zoo.load({name!r}) to train it, "
                f"or set CNNCOURSE_CACHE to a folder that has it")
        record = _train(recipe, profile, device, progress)
        _save(target, record)
    model = recipe.build()
    model.load_state_dict(record["state_dict"])
    model.zoo_info = {**record["info"], "settings": recipe.settings(profile), "file": str(target)}
    return model.to(device).eval()


def _train(recipe: Recipe, profile: str, device, progress) -> dict:
    seed_everything(recipe.seed)
    model = recipe.build().to(device)
    start = time.perf_counter()
    with use_kernels("torch"):  # PyTorch's kernels for speed: the same results as the course's
        metrics = recipe.train(model, recipe.settings(profile), progress) if recipe.train else {}
    info = {**metrics, "train_seconds": round(time.perf_counter() - start, 1), "profile": profile}
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return {"state_dict": state, "info": info}


def settings(name: str, profile: str | None = None) -> dict:
    """The settings ``name`` is trained with in ``profile`` (default: the active one): data, sizes, epochs."""
    return _recipe(name).settings(profile or current_profile().name)


def list() -> list[str]:  # noqa: A001  (the zoo's public name, as in the issue and the chapters)
    """The names :func:`load` accepts, with what each is."""
    return sorted(RECIPES)


def describe() -> dict[str, str]:
    """Name -> one line on what the network is and what it was trained on."""
    return {name: RECIPES[name].doc for name in sorted(RECIPES)}
