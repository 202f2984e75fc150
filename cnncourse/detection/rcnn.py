"""R-CNN (Girshick et al., 2014): a CNN on every warped proposal, linear SVMs, box regression.

The pipeline, trained in three separate stages as in the paper (where ours differs, it says so):

1. **Fine-tune the CNN** (the two-stage detectors' backbone and a hidden layer, :class:`RCNN`)
   on warped proposals (:func:`~cnncourse.detection.scenes.warp`, each box
   enlarged by ``sliding.CONTEXT`` for context, resized to 64x64 whatever its aspect ratio): a proposal
   whose IoU with an object reaches 0.5 takes that object's class, the others are background;
   mini-batches hold a quarter of foreground (:func:`finetune_regions`).
2. **Train one linear SVM per class** on the CNN's last hidden features (:func:`features`): the
   true boxes are the positives, proposals overlapping no object of the class by 0.3 IoU or more the
   negatives, the hinge loss with an L2 penalty (:func:`hinge_loss`, :func:`train_svms`), by
   full-batch gradient descent on every negative (the paper mined hard negatives with liblinear).
3. **Fit a box regressor per class**: ridge regression to the (tx, ty, tw, th) of proposals
   within 0.6 IoU of an object (:func:`fit_box_regressors`), from the same last hidden features
   (the paper regressed from pool5, the last convolutional features, with lambda 1000).

Detection (:meth:`RCNN.forward`) warps every proposal, scores it with each SVM, moves its box
with that class's regressor and keeps the best by NMS per class (IoU 0.3, the released code's). Every
proposal is a full CNN pass: the cost Fast R-CNN removes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.backbone import conv_backbone
from cnncourse.boxes import box_iou
from cnncourse.detection.coder import BoxCoder
from cnncourse.detection.nms import batched_nms
from cnncourse.detection.rpn import clip_boxes
from cnncourse.detection.scenes import NUM_CLASSES, DetectionSet, scale_boxes, warp
from cnncourse.detection.sliding import CONTEXT
from cnncourse.runtime import device_of, evaluating
from cnncourse.train import fit_cosine

SIZE = 64  # warped regions are as large as the 64x64 scenes the other detectors read whole
CODER = BoxCoder((1.0, 1.0, 1.0, 1.0))  # R-CNN's regression targets, unweighted


def context_boxes(boxes: torch.Tensor, context: float = CONTEXT) -> torch.Tensor:
    """Boxes (K, 4) enlarged about their centres by ``context`` in each direction."""
    return scale_boxes(boxes, context)


def warp_regions(images: torch.Tensor, boxes: list, size: int = SIZE) -> torch.Tensor:
    """Every box of every image, with context, warped to ``size`` x ``size``: a list of (L_n, 4) -> (sum L_n, 3, size, size).

    R-CNN warped every proposal to its network's input, 227x227 for
    AlexNet, with 16 pixels of context, much smaller than the whole images
    (about 600x1000) that Fast R-CNN reads; ours are 64x64, the size of the
    scenes, which makes each proposal relatively costlier than in R-CNN.
    """
    rois = torch.cat([torch.cat([torch.full((len(b), 1), float(n), device=b.device), context_boxes(b)], 1)
                      for n, b in enumerate(boxes)])
    return warp(images, rois.to(images), size)


def _labels(proposals, target, threshold):
    """Each proposal's class at IoU >= threshold with its best object (0 below), and that object's index."""
    if len(target["boxes"]) == 0:
        return torch.zeros(len(proposals), dtype=torch.int64), torch.zeros(len(proposals), dtype=torch.int64)
    best, index = box_iou(proposals, target["boxes"]).max(1)
    return torch.where(best >= threshold, target["labels"][index], 0), index


def finetune_regions(scenes: DetectionSet, proposals: list, fg_iou: float = 0.5, per_image: int = 8,
                     fg_fraction: float = 0.25, size: int = SIZE, seed: int = 0):
    """Stage 1's data: per image ``per_image`` warped proposals (the true boxes among them), up to
    ``fg_fraction`` foreground, warped to ``size``. -> TensorDataset of (crops (M, 3, size, size), labels (M,))."""
    g = torch.Generator().manual_seed(seed)
    chosen, labels = [], []
    for boxes, target in zip(proposals, scenes.targets):
        boxes = torch.cat([target["boxes"], boxes])
        label, _ = _labels(boxes, target, fg_iou)
        fg, bg = (label > 0).nonzero().flatten(), (label == 0).nonzero().flatten()
        fg = fg[torch.randperm(len(fg), generator=g)[: int(per_image * fg_fraction)]]
        bg = bg[torch.randperm(len(bg), generator=g)[: per_image - len(fg)]]
        keep = torch.cat([fg, bg])
        chosen.append(boxes[keep])
        labels.append(label[keep])
    return torch.utils.data.TensorDataset(warp_regions(scenes.images, chosen, size), torch.cat(labels))


def features(cnn: nn.Sequential, images: torch.Tensor, boxes: list, size: int = SIZE, images_per_step: int = 32,
             batch_size: int = 512) -> torch.Tensor:
    """The CNN's last hidden layer (all but its classifier) on every box of every image, warped to ``size``:
    (sum L_n, hidden), on the CPU. A few images' crops at a time, so that memory stays bounded."""
    body = cnn[:-1]
    device = device_of(cnn)
    out = []
    with evaluating(cnn), torch.no_grad():
        for i in range(0, len(images), images_per_step):
            crops = warp_regions(images[i:i + images_per_step], boxes[i:i + images_per_step], size)
            out.extend(body(crops[j:j + batch_size].to(device)).cpu() for j in range(0, len(crops), batch_size))
    return torch.cat(out) if out else torch.zeros(0, cnn[-1].in_features)


def hinge_loss(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The SVM's hinge loss, mean of max(0, 1 - y f(x)) over scores (M, C) and targets (M, C) in {-1, 0, +1}.

    A target of 0 leaves that example out of that class's SVM (R-CNN ignores
    proposals between the positive and negative IoU thresholds).
    """
    used = targets != 0
    return (F.relu(1 - targets * scores) * used).sum() / used.sum().clamp(min=1)


def train_svms(x: torch.Tensor, targets: torch.Tensor, l2: float = 1e-3, steps: int = 300, lr: float = 0.05) -> nn.Linear:
    """One linear SVM per column of ``targets`` (M, C) in {-1, 0, +1} on features ``x`` (M, D), by full-batch
    gradient descent (Adam) on :func:`hinge_loss` + ``l2`` ||W||^2 (the features are standardised inside)."""
    mean, std = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / std
    svm = nn.Linear(x.shape[1], targets.shape[1])
    nn.init.zeros_(svm.weight), nn.init.zeros_(svm.bias)
    optimizer = torch.optim.Adam(svm.parameters(), lr=lr)
    for _ in range(steps):
        loss = hinge_loss(svm(z), targets) + l2 * svm.weight.pow(2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():  # fold the standardisation into the weights: svm(x) on raw features
        svm.weight /= std
        svm.bias -= svm.weight @ mean
    return svm


def svm_targets(proposals: list, scenes: DetectionSet, neg_iou: float = 0.3) -> tuple:
    """Stage 2's examples: the true boxes (+1 for their class, -1 for the others) and every proposal,
    -1 for each class it overlaps by less than ``neg_iou`` and 0 (left out) otherwise.
    -> (boxes per image, a list of (L_n, 4); targets (sum L_n, C))."""
    boxes_out, targets = [], []
    for boxes, target in zip(proposals, scenes.targets):
        truths, labels = target["boxes"], target["labels"]
        t = -torch.ones(len(truths) + len(boxes), NUM_CLASSES)
        t[torch.arange(len(truths)), labels - 1] = 1
        for c in range(1, NUM_CLASSES + 1):
            same = truths[labels == c]
            if len(same) and len(boxes):
                near = box_iou(boxes, same).max(1).values >= neg_iou
                t[len(truths):, c - 1][near] = 0
        boxes_out.append(torch.cat([truths, boxes]))
        targets.append(t)
    return boxes_out, torch.cat(targets)


def fit_box_regressors(x: torch.Tensor, boxes: torch.Tensor, truths: torch.Tensor, labels: torch.Tensor,
                       ridge: float = 10.0) -> nn.Linear:
    """Per class, ridge regression from features ``x`` (M, D) of ``boxes`` (M, 4) to the codes of their objects
    ``truths`` (M, 4) of class ``labels`` (M,) in 1..C. -> Linear(D, 4C): class c's deltas in columns 4(c-1):4c."""
    reg = nn.Linear(x.shape[1], 4 * NUM_CLASSES)
    nn.init.zeros_(reg.weight), nn.init.zeros_(reg.bias)
    design = torch.cat([x, torch.ones(len(x), 1)], 1).double()
    codes = CODER.encode(truths, boxes).double()
    for c in range(1, NUM_CLASSES + 1):
        rows = labels == c
        if rows.sum() == 0:
            continue
        a = design[rows]
        penalty = ridge * torch.eye(a.shape[1], dtype=a.dtype)
        penalty[-1, -1] = 0  # no penalty on the bias
        solution = torch.linalg.solve(a.T @ a + penalty, a.T @ codes[rows])  # (D + 1, 4)
        with torch.no_grad():
            reg.weight[4 * (c - 1):4 * c] = solution[:-1].T.float()
            reg.bias[4 * (c - 1):4 * c] = solution[-1].float()
    return reg


def regression_examples(proposals: list, scenes: DetectionSet, min_iou: float = 0.6) -> tuple:
    """Stage 3's examples: proposals within ``min_iou`` of an object, with that object's box and class.
    -> (boxes per image, a list of (L_n, 4); truths (M, 4); labels (M,))."""
    boxes_out, truths, labels = [], [], []
    for boxes, target in zip(proposals, scenes.targets):
        label, index = _labels(boxes, target, min_iou)
        keep = label > 0
        boxes_out.append(boxes[keep])
        truths.append(target["boxes"][index[keep]] if len(target["boxes"]) else boxes[keep])
        labels.append(label[keep])
    return boxes_out, torch.cat(truths), torch.cat(labels)


class RCNN(nn.Module):
    """The pipeline: ``forward(images, proposals)`` -> detections per image (torchvision's format).

    ``cnn``: :func:`cnncourse.backbone.conv_backbone` of ``widths`` (the
    backbone the two-stage detectors share) on a region warped to ``size`` x ``size``, then
    a hidden layer of ``hidden`` and the C + 1 class scores; ``svm``:
    Linear(hidden, C); ``regressor``: Linear(hidden, 4C); all three filled by
    :func:`train_rcnn`.
    """

    def __init__(self, widths=(16, 32, 64), hidden: int = 256, size: int = SIZE, nms_thresh: float = 0.3,
                 detections_per_img: int = 100):
        super().__init__()
        self.size = size
        cells = (size // 2 ** len(widths)) ** 2
        self.cnn = nn.Sequential(conv_backbone(3, widths), nn.Flatten(), nn.Linear(widths[-1] * cells, hidden),
                                 nn.ReLU(inplace=True), nn.Linear(hidden, NUM_CLASSES + 1))
        self.svm, self.regressor = nn.Linear(hidden, NUM_CLASSES), nn.Linear(hidden, 4 * NUM_CLASSES)
        self.nms_thresh, self.detections_per_img = nms_thresh, detections_per_img

    def forward(self, images: torch.Tensor, proposals: list) -> list:
        if len(proposals) != len(images):
            raise ValueError(f"RCNN: proposals must hold one (P, 4) tensor per image, {len(images)}; "
                             f"got {len(proposals)}")
        proposals = [p.to(images.device, images.dtype) for p in proposals]
        crops = warp_regions(images, proposals, self.size)
        x = torch.cat([self.cnn[:-1](crops[i:i + 512]) for i in range(0, len(crops), 512)])  # bounded memory
        scores, deltas = self.svm(x), self.regressor(x).view(len(x), NUM_CLASSES, 4)
        results = []
        for boxes, s, d in zip(proposals, scores.split([len(p) for p in proposals]),
                               deltas.split([len(p) for p in proposals])):
            moved = CODER.decode(d.reshape(-1, 4), boxes.repeat_interleave(NUM_CLASSES, 0))
            moved = clip_boxes(moved, images.shape[-2:])
            labels = torch.arange(1, NUM_CLASSES + 1, device=s.device).repeat(len(s))
            s = s.reshape(-1)
            keep = batched_nms(moved, s, labels, self.nms_thresh)[: self.detections_per_img]
            results.append({"boxes": moved[keep], "scores": s[keep], "labels": labels[keep]})
        return results


def train_rcnn(model: RCNN, scenes: DetectionSet, proposals: list, *, epochs: int, lr: float,
               regions_per_image: int = 8, seed: int = 0, progress: bool | None = None) -> RCNN:
    """The three stages on ``scenes`` with their ``proposals`` (one (P, 4) tensor per scene), in place; see the
    module docstring. The CNN is fine-tuned for ``epochs`` at ``lr`` where ``model`` lives; returns it in eval mode."""
    if len(proposals) != len(scenes):
        raise ValueError(f"train_rcnn: proposals must hold one (P, 4) tensor per scene, {len(scenes)}; "
                         f"got {len(proposals)}")
    regions = finetune_regions(scenes, proposals, per_image=regions_per_image, size=model.size, seed=seed)
    fit_cosine(model.cnn, regions, epochs=epochs, lr=lr, batch_size=64, seed=seed, progress=progress)
    boxes, targets = svm_targets(proposals, scenes)
    svm = train_svms(features(model.cnn, scenes.images, boxes, model.size), targets)
    boxes, truths, labels = regression_examples(proposals, scenes)
    regressor = fit_box_regressors(features(model.cnn, scenes.images, boxes, model.size), torch.cat(boxes), truths,
                                   labels)
    with torch.no_grad():
        for mine, fitted in ((model.svm, svm), (model.regressor, regressor)):
            mine.weight.copy_(fitted.weight)
            mine.bias.copy_(fitted.bias)
    return model.eval()
