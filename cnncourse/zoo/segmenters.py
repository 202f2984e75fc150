"""The zoo's segmentation networks: every model of the segmentation chapters, on one data set.

Each is trained on the same shapes scenes (:func:`cnncourse.data.segmentation_scenes`,
32x32 in the quick profile, 64x64 in the full one) with the same budget (Adam,
:func:`cnncourse.zoo.recipes.train_adam`, at a constant rate in the quick
profile and on a cosine schedule in the full one; the patch classifier for
fewer epochs), and scored on the same test scenes, so that the chapters can set any of them side
by side: *Semantic segmentation* trains the patch classifier and the FCNs,
*Encoder-decoders* SegNet's decoders and U-Net, *Segmentation at scale and
speed* DeepLab, ENet, FRRN and SharpMask, and its table loads them all.
``model.zoo_info`` holds the test scores: ``miou``, ``miou_edges`` (pixels
within 2 of a class boundary), ``pixel_accuracy`` and ``iou`` per class.
"""

from __future__ import annotations

import torch

from cnncourse import data
from cnncourse import segmentation as seg
from cnncourse.zoo.recipes import Recipe, train_adam

SCENES = {"size": {"quick": 32, "full": 64}, "train_scenes": {"quick": 512, "full": 2000},
          "test_scenes": {"quick": 200, "full": 1000}, "data_seed": 0, "objects": (1, 3), "radius": (0.15, 0.3),
          "epochs": {"quick": 6, "full": 12}, "lr": 3e-3, "batch_size": 16,
          # a cosine schedule needs steps to spend: over the quick profile's 192 it left SegNet's three decoders
          # at the all-background answer (mIoU 0.203, 2026-12-01), where a constant rate trains them
          "schedule": {"quick": "constant", "full": "cosine"}}
EDGE_WIDTH = 2  # miou_edges scores the pixels within this many of a class boundary
NUM_CLASSES = len(data.SHAPE_CLASSES)


def scene_sets(settings) -> tuple:
    """The training and test scenes (TensorDatasets of images and labels) of ``settings``."""
    scenes = dict(size=settings["size"], objects=tuple(settings["objects"]), radius=tuple(settings["radius"]))
    train = data.segmentation_scenes(settings["train_scenes"], seed=settings["data_seed"], **scenes)
    test = data.segmentation_scenes(settings["test_scenes"], seed=settings["data_seed"] + 1, **scenes)
    return train, test


def _train(model, settings, progress) -> dict:
    train, test = scene_sets(settings)
    train_adam(model, train, settings, progress)
    images, labels = test.tensors
    predicted = seg.predict(model, images)
    whole = seg.scores(seg.confusion_matrix(predicted, labels, NUM_CLASSES))
    band = torch.where(seg.boundary_mask(labels, EDGE_WIDTH), labels, -1)
    edges = seg.scores(seg.confusion_matrix(predicted, band, NUM_CLASSES, ignore_index=-1), ignore_index=-1)
    return {"miou": round(whole.miou, 4), "miou_edges": round(edges.miou, 4),
            "pixel_accuracy": round(whole.pixel_accuracy, 4), "iou": [round(v, 4) for v in whole.iou.tolist()]}


def _recipe(doc, build, **changes) -> Recipe:
    return Recipe(doc, build, _train, {**SCENES, **changes})


PATCH_WIDTHS = [16, 16, 16, 32, 32, 32, 32]
# DeepLab's rates were set for maps of 41x41 (v1's LargeFOV, rate 12) and 33x33 (v3's ASPP at output stride
# 16, rates 6, 12, 18; doubled at stride 8 on 65x65 maps); ours are 4x4 (quick) and 8x8 (full), where a rate
# of 6 or more leaves a 3x3 atrous filter only its centre tap inside the map.
FOV_RATE, RATES = 2, (1, 2, 3)

SEGMENTERS: dict[str, Recipe] = {
    "patch15_shapes": _recipe(
        "a 15x15 patch classifier (seven unpadded 3x3 convolutions with batch norm) trained in its "
        "fully convolutional form on whole scenes",
        lambda: seg.PatchClassifier(NUM_CLASSES, patch=15, widths=PATCH_WIDTHS, batch_norm=True)
        .fully_convolutional(), epochs={"quick": 2, "full": 4}, widths=PATCH_WIDTHS),
    **{f"fcn{v}_shapes": _recipe(
        f"FCN-{v} (Long et al., 2015), the small configuration with batch norm",
        lambda v=v: seg.FCN(NUM_CLASSES, variant=v, batch_norm=True), variant=v) for v in ("32s", "16s", "8s")},
    "segnet_shapes": _recipe("SegNet, four stages, unpooling with the encoder's indices",
                             lambda: seg.SegNet(NUM_CLASSES), decoder="unpool"),
    "segnet_tied_shapes": _recipe(
        "SegNet with stride-2 transposed convolutions tied to the encoder's kernels",
        lambda: seg.SegNet(NUM_CLASSES, decoder="transposed", tied=True), decoder="transposed-tied"),
    "segnet_transposed_shapes": _recipe(
        "SegNet with stride-2 transposed convolutions of their own",
        lambda: seg.SegNet(NUM_CLASSES, decoder="transposed"), decoder="transposed"),
    "unet_shapes": _recipe("U-Net, four levels, padded convolutions, batch norm",
                           lambda: seg.UNet(NUM_CLASSES, batch_norm=True), batch_norm=True),
    "deeplab_v1_shapes": _recipe(
        "DeepLab v1: an atrous VGG-style backbone at output stride 8, a rate-2 fc6 (LargeFOV's 12, scaled "
        "from its 41x41 maps to our 4x4 and 8x8)",
        lambda: seg.DeepLab(NUM_CLASSES, version="v1", fov_rate=FOV_RATE), version="v1", fov_rate=FOV_RATE),
    "deeplab_v3_shapes": _recipe(
        "DeepLab v3: the atrous backbone with ASPP (rates 1, 2, 3: the paper's 6, 12, 18 scaled to our maps) "
        "and image pooling",
        lambda: seg.DeepLab(NUM_CLASSES, version="v3", rates=RATES), version="v3", rates=RATES),
    "enet_shapes": _recipe("ENet, the small configuration", lambda: seg.ENet(NUM_CLASSES), config="small"),
    "frrn_shapes": _recipe("FRRN, the small configuration", lambda: seg.FRRN(NUM_CLASSES), config="small"),
    "sharpmask_shapes": _recipe("a SharpMask-style refinement network", lambda: seg.SharpMaskNet(NUM_CLASSES)),
}
