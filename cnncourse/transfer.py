"""Transfer learning: reuse a trained network's layers for a new task.

A network trained on one task (the source) is reused on another (the
target) in three ways, from the cheapest to the most flexible:

* **off-the-shelf features** (Donahue et al., ICML 2014, "DeCAF"; Razavian
  et al., CVPRW 2014, "CNN Features off-the-shelf"): run the images through
  the frozen network, average a layer's maps over the positions
  (``viz.features(model, layer, images, pool=1)``: (N, C)), and train a
  linear classifier on them (``viz.fit_probe``);
* **fine-tuning with the bottom k layers frozen** (Yosinski et al., NeurIPS
  2014, "How transferable are features in deep neural networks?";
  Girshick et al., CVPR 2014): :func:`freeze` the first ``k`` blocks,
  :func:`replace_head` for the target's classes, and train the rest
  (:func:`fine_tune`);
* **training from scratch**, the same network at its random initialisation.

The hand-crafted baseline is the traditional pipeline of the lecture notes,
histograms of oriented gradients (Dalal & Triggs, CVPR 2005) and a linear
classifier: :func:`hog_features`, from scikit-image.

A *block* is one of the model's top-level children that owns parameters, in
the order they were registered: ``c1 .. c5, fc`` for the zoo's AlexNet,
``conv1, bn1, layer1 .. layer4, fc`` for a ResNet (:func:`blocks`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from cnncourse.train import fit_cosine

_HOOKS = "_cnncourse_frozen_hooks"


def blocks(model: nn.Module) -> list[str]:
    """The names of ``model``'s top-level children that own parameters, in order."""
    return [name for name, child in model.named_children() if any(True for _ in child.parameters())]


def freeze(model: nn.Module, k: int) -> list[str]:
    """Freeze the first ``k`` of :func:`blocks`; return their names.

    A frozen block keeps its parameters (``requires_grad=False``) and its
    normalisation statistics: its batch-norm layers run in eval mode even
    while the model trains, so training leaves every frozen tensor
    bit-identical. Freezing again first undoes the previous :func:`freeze`.
    """
    names = blocks(model)
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= len(names):
        raise ValueError(f"freeze: k must be an int in 0..{len(names)} (the model's blocks: {', '.join(names)}); "
                         f"got {k!r}")
    unfreeze(model)
    hooks = []
    for name in names[:k]:
        block = getattr(model, name)
        block.requires_grad_(False)
        for module in block.modules():
            if isinstance(module, nn.modules.batchnorm._NormBase):
                hooks.append(module.register_forward_pre_hook(_evaluate))
    setattr(model, _HOOKS, hooks)
    return names[:k]


def _evaluate(module, inputs):
    module.train(False)  # use and keep the running statistics


def unfreeze(model: nn.Module) -> None:
    """Undo :func:`freeze`: every parameter trainable, batch norm following ``model.train()`` again."""
    for hook in getattr(model, _HOOKS, ()):
        hook.remove()
    setattr(model, _HOOKS, [])
    model.requires_grad_(True)


def trainable(model: nn.Module) -> list[nn.Parameter]:
    """The parameters that still require gradients (what the optimiser should get)."""
    return [p for p in model.parameters() if p.requires_grad]


def replace_head(model: nn.Module, num_classes: int) -> nn.Linear:
    """Replace the model's last ``nn.Linear`` by a fresh one with ``num_classes`` outputs; return it.

    The new layer has PyTorch's default initialisation, lives on the old
    one's device, and is trainable even where the old one was frozen.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"replace_head: num_classes must be a positive int; got {num_classes!r}")
    linears = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not linears:
        raise ValueError(f"replace_head: {type(model).__name__} has no nn.Linear layer to replace")
    parent_name, _, child = linears[-1].rpartition(".")
    parent = model.get_submodule(parent_name)
    old = getattr(parent, child)
    head = nn.Linear(old.in_features, num_classes, bias=old.bias is not None).to(old.weight.device)
    setattr(parent, child, head)
    return head


def hog_features(images: torch.Tensor, orientations: int = 9, pixels_per_cell: int = 5,
                 cells_per_block: int = 2) -> torch.Tensor:
    """Histograms of oriented gradients (scikit-image's ``hog``, L2-Hys blocks): (N, C, H, W) -> (N, D).

    Colour images are averaged to grey first.
    """
    from skimage.feature import hog

    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"hog_features: images must be a batch (N, C, H, W); got {got}")
    grey = images.detach().float().mean(1).cpu().numpy()
    rows = [hog(image, orientations=orientations, pixels_per_cell=(pixels_per_cell,) * 2,
                cells_per_block=(cells_per_block,) * 2) for image in grey]
    return torch.from_numpy(np.stack(rows)).float()


def fine_tune(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, k: int, num_classes: int, *,
              steps: int = 150, batch_size: int = 16, lr: float = 1e-3, body_lr: float | None = None,
              augment=None, seed: int = 0, progress: bool | None = False) -> nn.Module:
    """Freeze the first ``k`` blocks, replace the head, train the rest on (images, labels); return the model.

    About ``steps`` steps of Adam on a cosine schedule, whatever the number
    of examples, so a curve over the training-set size compares networks
    trained for the same time. The new head is initialised from ``seed`` and
    trained at ``lr``; the transferred blocks left trainable at ``body_lr``
    (default ``lr``). Adam moves every weight by about its learning rate per
    step, whatever the weight's size, so weights much smaller than at
    initialisation (after weight decay, say) need a rate scaled down with
    them, or the first steps overwrite what they learned.
    """
    if len(images) != len(labels):
        raise ValueError(f"fine_tune: images and labels must have the same length; got {len(images)} and "
                         f"{len(labels)}")
    freeze(model, k)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head = replace_head(model, num_classes)
    head_ids = {id(p) for p in head.parameters()}
    groups = [{"params": list(head.parameters()), "lr": lr},
              {"params": [p for p in trainable(model) if id(p) not in head_ids],
               "lr": lr if body_lr is None else body_lr}]
    batch_size = min(batch_size, len(images))
    epochs = max(1, round(steps * batch_size / len(images)))
    fit_cosine(model, TensorDataset(images, labels), epochs=epochs, lr=lr, batch_size=batch_size,
               parameters=[g for g in groups if g["params"]], seed=seed, augment=augment, progress=progress)
    return model.eval()


def stratified_split(labels: torch.Tensor, per_class: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of ``per_class`` random examples of every class, and of all the others: (chosen, rest)."""
    labels = torch.as_tensor(labels)
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for c in labels.unique():
        where = (labels == c).nonzero()[:, 0]
        if per_class > len(where):
            raise ValueError(f"stratified_split: per_class must be at most {len(where)} (the examples of class "
                             f"{int(c)}); got {per_class}")
        chosen.append(where[torch.randperm(len(where), generator=generator)[:per_class]])
    chosen = torch.cat(chosen).sort().values
    rest = torch.ones(len(labels), dtype=torch.bool)
    rest[chosen] = False
    return chosen, rest.nonzero()[:, 0]


def learning_curve(methods: dict[str, Callable], labels: torch.Tensor, pool: torch.Tensor, test: torch.Tensor,
                   sizes: Sequence[int], seeds: Sequence[int]) -> dict[str, dict[int, list[float]]]:
    """Test accuracy of every method for every training-set size and seed: method -> size -> [accuracy].

    For each seed and size ``n``, ``n`` examples of every class are drawn
    from ``pool`` (indices into ``labels``) and each method is called as
    ``method(train_indices, test_indices, seed)``, returning an accuracy.
    The test indices are the same throughout.
    """
    labels = torch.as_tensor(labels)
    pool = torch.as_tensor(pool)
    results = {name: {n: [] for n in sizes} for name in methods}
    for seed in seeds:
        for n in sizes:
            chosen, _ = stratified_split(labels[pool], n, seed)
            for name, method in methods.items():
                results[name][n].append(float(method(pool[chosen], test, seed)))
    return results


def summary(accuracies: dict[str, dict[int, list[float]]]) -> dict[str, dict[int, tuple[float, float, float]]]:
    """Method -> size -> (mean, min, max) over the seeds."""
    return {method: {n: (float(np.mean(v)), float(np.min(v)), float(np.max(v))) for n, v in sizes.items()}
            for method, sizes in accuracies.items()}

