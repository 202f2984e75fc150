"""What the zoo trains: each network's architecture, data and training, as data.

``settings`` holds every number that changes the weights; a value given as
``{"quick": a, "full": b}`` depends on the profile. They go into the cache
key (:func:`cnncourse.zoo.key`), so editing one retrains the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader

from cnncourse import data, models
from cnncourse.train import evaluate, fit


@dataclass(frozen=True)
class Recipe:
    doc: str
    build: Callable[[], nn.Module]
    train: Callable[[nn.Module, dict, bool | None], dict] | None  # None: the architecture, untrained
    config: dict = field(default_factory=dict)
    seed: int = 0

    def settings(self, profile: str) -> dict:
        """The settings in force for ``profile``."""
        def pick(value):
            return value[profile] if isinstance(value, dict) and set(value) == {"quick", "full"} else value

        return {name: pick(value) for name, value in self.config.items()}


def _optimizer(model, settings):
    """Adam; with ``weight_decay``, AdamW's decoupled decay on the convolutions' filters only.

    Batch norm after a convolution makes its output independent of the
    filters' scale, so decaying them does not constrain what the network
    computes: it only forgets, step by step, the part of the random start
    that the gradient does not sustain, which leaves first-layer filters
    that can be read (Krizhevsky et al. trained AlexNet with weight decay).
    """
    decay = settings.get("weight_decay", 0.0)
    filters = [p for p in model.parameters() if p.dim() == 4]
    others = [p for p in model.parameters() if p.dim() != 4]
    return torch.optim.AdamW([{"params": filters, "weight_decay": decay},
                              {"params": others, "weight_decay": 0.0}], lr=settings["lr"])


def train_adam(model, train_set, settings, progress, augment=None) -> None:
    """``settings["epochs"]`` epochs of :func:`_optimizer`, batches of ``batch_size``.

    The learning rate follows a cosine schedule, or stays constant where
    ``settings["schedule"]`` is ``"constant"``.
    """
    optimizer = _optimizer(model, settings)
    constant = settings.get("schedule", "cosine") == "constant"
    schedule = None if constant else torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings["epochs"])
    fit(model, DataLoader(train_set, batch_size=settings["batch_size"], shuffle=True),
        epochs=settings["epochs"], optimizer=optimizer, scheduler=schedule, augment=augment, progress=progress)


def _fit(model, train_set, test_set, settings, progress, augment=None) -> dict:
    train_adam(model, train_set, settings, progress, augment)
    loss, accuracy = evaluate(model, DataLoader(test_set, batch_size=500))
    return {"test_accuracy": round(accuracy, 4), "test_loss": round(loss, 4)}


def _train_lenet(model, settings, progress):
    split = data.digits(size=32)
    return _fit(model, split.train, split.test, settings, progress,
                augment=lambda x: data.random_crop(x, padding=settings["shift"]))


def shapes_data(settings) -> tuple:
    """The train and test sets of the shapes networks (test scenes from another seed)."""
    scenes = dict(background="photos", radius=settings["radius"])
    train = data.single_objects(settings["train_scenes"], seed=settings["data_seed"], **scenes)
    test = data.single_objects(settings["test_scenes"], seed=settings["data_seed"] + 1, **scenes)
    return train, test


def _train_shapes(model, settings, progress):
    train, test = shapes_data(settings)
    return _fit(model, train.dataset(), test.dataset(), settings, progress, augment=data.random_hflip)


SHAPES = {"train_scenes": {"quick": 3000, "full": 20000}, "test_scenes": 500, "data_seed": 100,
          "epochs": {"quick": 6, "full": 20}, "lr": 3e-3, "weight_decay": 5.0, "batch_size": 64, "radius": (0.2, 0.35),
          "widths": models.alexnet.AlexNetMini.WIDTHS}

RECIPES: dict[str, Recipe] = {
    "lenet5": Recipe(
        "LeNet-5 as published (up to F6) on the 32x32 digits: Adam, cosine schedule, 2-pixel shifts",
        lambda: models.get("lenet5"), _train_lenet,
        {"epochs": {"quick": 8, "full": 30}, "lr": 2e-3, "batch_size": 32, "shift": 2}),
    "alexnet_shapes": Recipe(
        "AlexNet's five convolutions c1..c5 (models.alexnet_mini) classifying the one shape in 64x64 "
        "scenes on crops of the embedded photographs (circle, square, triangle)",
        lambda: models.get("alexnet_mini", num_classes=3, widths=SHAPES["widths"]), _train_shapes, SHAPES),
    "alexnet_shapes_untrained": Recipe(
        "the same network at its seeded initialisation, never trained (for comparisons)",
        lambda: models.get("alexnet_mini", num_classes=3, widths=SHAPES["widths"]), None,
        {"widths": SHAPES["widths"]}),
}
