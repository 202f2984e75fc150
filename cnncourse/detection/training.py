"""Training and running the detectors that follow torchvision's interface (losses in training, detections in eval).

:func:`train_detector` runs Adam with a cosine schedule over the scenes in
seeded random batches, summing the detector's losses;
:func:`detect` runs a trained detector over many images in batches and
returns the detections on the CPU, in torchmetrics' format. Both move each
batch and its targets to the model's device.
"""

from __future__ import annotations

import torch

from cnncourse.analysis import count_macs
from cnncourse.detection.scenes import DetectionSet
from cnncourse.layers import use_kernels
from cnncourse.runtime import device_of, evaluating
from cnncourse.timing import time_ms
from cnncourse.train import History, _batches


def _targets_to(targets, device):
    return [{k: v.to(device) for k, v in t.items() if k in ("boxes", "labels", "masks", "keypoints")}
            for t in targets]


def needs_proposals(model: torch.nn.Module) -> bool:
    """Whether ``model`` reads region proposals given with the images (R-CNN, SPP-net, Fast R-CNN)."""
    return hasattr(model, "cnn") or getattr(model, "rpn", False) is None


def _check_proposals(fn, proposals, n):
    if proposals is not None and len(proposals) != n:
        raise ValueError(f"{fn}: proposals must hold one (P, 4) tensor per image, {n}; got {len(proposals)}")


def train_detector(model: torch.nn.Module, scenes: DetectionSet, *, epochs: int, lr: float, batch_size: int = 16,
                   proposals=None, seed: int = 0, progress: bool | None = None) -> History:
    """Train ``model`` on ``scenes``: Adam at ``lr``, cosine schedule, ``epochs`` passes in seeded random order.

    ``proposals``: one (P, 4) tensor per scene, for detectors that take them
    (Fast R-CNN, SPP-net). The history records the mean summed loss per
    epoch (``train_loss``) and each loss's mean (``loss_<name>``). The
    course's layers run on PyTorch's kernels (``layers.use_kernels``), as in
    :func:`cnncourse.train.fit_cosine`.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"train_detector: epochs must be a positive int; got {epochs!r}")
    _check_proposals("train_detector", proposals, len(scenes))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * -(-len(scenes) // batch_size))
    generator = torch.Generator().manual_seed(seed)
    history, device = History(), device_of(model)
    model.train()
    with use_kernels("torch"):
        for epoch in range(epochs):
            order = torch.randperm(len(scenes), generator=generator)
            batches = [order[i:i + batch_size] for i in range(0, len(scenes), batch_size)]
            sums: dict[str, float] = {}
            for index in _batches(batches, f"epoch {epoch + 1}/{epochs}", progress):
                chosen = index.tolist()
                extra = {} if proposals is None else {"proposals": [proposals[i].to(device) for i in chosen]}
                targets = _targets_to([scenes.targets[i] for i in chosen], device)
                losses = model(scenes.images[index].to(device), targets, **extra)
                loss = sum(losses.values())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                for name, value in {"train_loss": loss, **losses}.items():
                    sums[name] = sums.get(name, 0.0) + value.item()
            history.rows.append({"epoch": epoch + 1, **{name: total / len(batches) for name, total in sums.items()}})
    model.eval()
    return history


def detect(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 64, proposals=None) -> list:
    """Detections of ``model`` on ``images`` (N, 3, H, W): one dict per image, on the CPU, in eval mode.

    The course's kernels stay in force (time them, or wrap in ``layers.use_kernels("torch")``).
    """
    _check_proposals("detect", proposals, len(images))
    device = device_of(model)
    results = []
    with evaluating(model), torch.no_grad():
        for i in range(0, len(images), batch_size):
            extra = {} if proposals is None else {"proposals": [p.to(device) for p in proposals[i:i + batch_size]]}
            out = model(images[i:i + batch_size].to(device), **extra)
            results.extend({k: v.cpu() for k, v in r.items()} for r in out)
    return results


def seconds_per_image(model: torch.nn.Module, images: torch.Tensor, proposals=None, repeat: int = 3) -> float:
    """Mean seconds to detect in one image, images given one at a time (as the papers time them).

    Each image is timed with :func:`cnncourse.timing.time_ms` (median of
    ``repeat``) on PyTorch's kernels, in eval mode; ``proposals`` (one
    (P, 4) tensor per image) go with their image, and computing them is not
    included.
    """
    _check_proposals("seconds_per_image", proposals, len(images))
    device = device_of(model)
    times = []
    with evaluating(model), torch.no_grad(), use_kernels("torch"):
        for i in range(len(images)):
            image = images[i:i + 1].to(device)
            extra = {} if proposals is None else {"proposals": [proposals[i].to(device)]}
            times.append(time_ms(lambda: model(image, **extra), repeat=repeat, min_time=0.02))
    return sum(times) / len(times) / 1000


def macs_per_image(model: torch.nn.Module, image_size=(64, 64), proposals: int = 0) -> int:
    """Multiply-accumulates to detect in one image with ``proposals`` regions (:func:`cnncourse.analysis.count_macs`).

    R-CNN (a model with a ``cnn`` and a warp ``size``): its CNN on every
    warped proposal. The two-stage detectors: the backbone once, the RPN's
    head once if there is one, and the box head and predictor per proposal
    (Faster R-CNN's own proposals: pass its ``post_nms_top_n`` for testing).
    A single-shot detector (YOLO, SSD): one pass of its network.
    """
    device = device_of(model)
    if hasattr(model, "cnn"):
        return proposals * count_macs(model.cnn, (3, model.size, model.size), device)
    h, w = image_size
    if not hasattr(model, "roi_heads"):  # a single-shot detector: one pass of the whole network
        return count_macs(model, (3, h, w), device)
    total = count_macs(model.backbone, (3, h, w), device)
    channels = model.roi_heads.box_head.fc6.in_features
    per_region = (count_macs(model.roi_heads.box_head, (channels,), device)
                  + count_macs(model.roi_heads.box_predictor, (model.roi_heads.box_head.fc7.out_features,), device))
    if model.rpn is not None:
        c = model.rpn.head.cls_logits.in_channels
        total += count_macs(model.rpn.head, (c, h // model.stride, w // model.stride), device)
    return total + proposals * per_region
