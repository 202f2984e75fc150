"""The RPN and the RoI heads equal torchvision's modules loaded with the same weights; the detectors' interface."""

import pytest
import torch
import torchvision.ops as tv_ops
from torchvision.models.detection import rpn as tv_rpn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.roi_heads import RoIHeads as TvRoIHeads

from cnncourse.detection.roi_heads import SPP_LEVELS, RoIHeads, pool_regions
from cnncourse.detection.rpn import RegionProposalNetwork
from cnncourse.detection.scenes import detection_scenes
from cnncourse.detection.training import detect, train_detector
from cnncourse.detection.two_stage import DETECTORS, two_stage

SIZES, RATIOS = (16, 24, 32), (0.5, 1.0, 2.0)


def features_and_targets(seed=0, n=2, channels=8):
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(n, channels, 8, 8, generator=g)
    targets = []
    for _ in range(n):
        corner = torch.rand(3, 2, generator=g) * 40
        boxes = torch.cat([corner, corner + 8 + torch.rand(3, 2, generator=g) * 20], 1)
        targets.append({"boxes": boxes, "labels": torch.randint(1, 4, (3,), generator=g)})
    return features, targets


def rpn_pair(channels=8):
    torch.manual_seed(0)
    ours = RegionProposalNetwork(channels, SIZES, RATIOS, pre_nms_top_n={"training": 200, "testing": 150},
                                 post_nms_top_n={"training": 80, "testing": 50})
    theirs = tv_rpn.RegionProposalNetwork(
        AnchorGenerator((SIZES,), (RATIOS,)), tv_rpn.RPNHead(channels, 9), 0.7, 0.3, 256, 0.5,
        {"training": 200, "testing": 150}, {"training": 80, "testing": 50}, 0.7)
    with torch.no_grad():  # a head that proposes varied boxes
        for p in ours.head.parameters():
            p.normal_(0, 0.3)
    theirs.head.load_state_dict(ours.head.state_dict())
    return ours, theirs


@pytest.mark.parametrize("training", [False, True])
def test_rpn_proposals_and_losses_equal_torchvisions(training):
    ours, theirs = rpn_pair()
    ours.train(training), theirs.train(training)
    features, targets = features_and_targets()
    images = ImageList(torch.zeros(2, 3, 64, 64), [(64, 64)] * 2)
    torch.manual_seed(5)
    boxes, _, losses = ours(features, (64, 64), targets if training else None)
    torch.manual_seed(5)
    expected, expected_losses = theirs(images, {"0": features}, targets if training else None)
    for a, b in zip(boxes, expected):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    if training:
        for name in ("loss_objectness", "loss_rpn_box_reg"):
            torch.testing.assert_close(losses[name], expected_losses[name], atol=1e-5, rtol=1e-5)


class _Pool(torch.nn.Module):
    """torchvision's RoIHeads pools through a module; this one is torchvision's roi_pool at stride 8."""

    def forward(self, features, proposals, image_shapes):
        return tv_ops.roi_pool(features["0"], proposals, 4, 1 / 8)


def heads_pair(channels=8):
    torch.manual_seed(1)
    ours = RoIHeads(channels, 4, 1 / 8, "roi_pool", 4, 32, batch_size_per_image=32)
    theirs = TvRoIHeads(_Pool(), TwoMLPHead(channels * 16, 32), FastRCNNPredictor(32, 4), 0.5, 0.5, 32, 0.25,
                        (10.0, 10.0, 5.0, 5.0), 0.05, 0.5, 100)
    with torch.no_grad():
        for p in ours.parameters():
            p.normal_(0, 0.2)
    theirs.box_head.load_state_dict(ours.box_head.state_dict())
    theirs.box_predictor.load_state_dict(ours.box_predictor.state_dict())
    return ours, theirs


@pytest.mark.parametrize("training", [False, True])
def test_roi_heads_detections_and_losses_equal_torchvisions(training):
    ours, theirs = heads_pair()
    ours.train(training), theirs.train(training)
    features, targets = features_and_targets(seed=2)
    g = torch.Generator().manual_seed(3)
    corner = torch.rand(2, 40, 2, generator=g) * 50
    proposals = list(torch.cat([corner, corner + 4 + torch.rand(2, 40, 2, generator=g) * 30], 2))
    torch.manual_seed(7)
    detections, losses = ours(features, [p.clone() for p in proposals], (64, 64), targets if training else None)
    torch.manual_seed(7)
    expected, expected_losses = theirs({"0": features}, [p.clone() for p in proposals], [(64, 64)] * 2,
                                       targets if training else None)
    if training:
        for name in ("loss_classifier", "loss_box_reg"):
            torch.testing.assert_close(losses[name], expected_losses[name], atol=1e-5, rtol=1e-5)
        return
    assert any(len(d["boxes"]) for d in detections)
    for mine, theirs_ in zip(detections, expected):
        for key in ("boxes", "scores", "labels"):
            torch.testing.assert_close(mine[key], theirs_[key], atol=1e-4, rtol=0)


def test_spp_pools_a_pyramid_of_max_pooled_grids():
    features = torch.randn(1, 5, 8, 8)
    box = [torch.tensor([[0.0, 0, 64, 64]])]  # the whole map at stride 8
    pooled = pool_regions(features, box, "spp", 4, 1 / 8)
    assert pooled.shape == (1, 5 * sum(s * s for s in SPP_LEVELS))
    torch.testing.assert_close(pooled[0, :5], features[0].amax((1, 2)))  # the 1x1 level: the global max
    with pytest.raises(ValueError, match=r"pooler must be one of \('roi_pool', 'roi_align', 'spp'\); got 'avg'"):
        pool_regions(features, box, "avg", 4, 1 / 8)


@pytest.fixture(scope="module")
def scenes():
    return detection_scenes(16, seed=4)


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_each_detector_trains_and_detects_with_torchvisions_interface(name, scenes):
    torch.manual_seed(0)
    model = two_stage(name, widths=(8, 16, 16), representation=32)
    proposals = None if DETECTORS[name]["rpn"] else [t["boxes"] + 2.0 for t in scenes.targets]
    history = train_detector(model, scenes, epochs=1, lr=1e-3, batch_size=8, proposals=proposals, progress=False)
    expected = {"loss_classifier", "loss_box_reg"} | ({"loss_objectness", "loss_rpn_box_reg"}
                                                      if DETECTORS[name]["rpn"] else set())
    assert expected | {"train_loss", "epoch"} == set(history.last)
    assert not model.training
    results = detect(model, scenes.images, batch_size=5, proposals=proposals)
    assert len(results) == 16
    for r in results:
        assert set(r) == {"boxes", "scores", "labels"} and r["boxes"].device.type == "cpu"
        assert len(r["boxes"]) <= 100 and (r["labels"] >= 1).all()


def test_bad_arguments_are_named(scenes):
    fast = two_stage("fast_rcnn", widths=(8, 16, 16), representation=16).eval()
    faster = two_stage("faster_rcnn", widths=(8, 16, 16), representation=16).eval()
    images = scenes.images[:2]
    with pytest.raises(ValueError, match=r"takes proposals, a list of \(P, 4\); got none"):
        fast(images)
    with pytest.raises(ValueError, match=r"takes no proposals \(its RPN makes them\); got list"):
        faster(images, proposals=[torch.zeros(1, 4)] * 2)
    with pytest.raises(ValueError, match=r"one \(P, 4\) tensor per image, 2; got 1"):
        fast(images, proposals=[torch.zeros(1, 4)])
    with pytest.raises(ValueError, match=r"training mode needs targets"):
        faster.train()(images)
    with pytest.raises(ValueError, match=r"multiples of 8 .*got 60x60"):
        faster.eval()(torch.zeros(1, 3, 60, 60))
    with pytest.raises(ValueError, match=r"name must be one of \['fast_rcnn', 'faster_rcnn', 'spp_net'\]; got 'rcnn'"):
        two_stage("rcnn")
    with pytest.raises(ValueError, match=r"epochs must be a positive int; got 0"):
        train_detector(faster, scenes, epochs=0, lr=1e-3)


def test_macs_per_image_count_the_backbone_once_and_the_head_per_proposal():
    from cnncourse.analysis import count_macs
    from cnncourse.detection.rcnn import RCNN
    from cnncourse.detection.training import macs_per_image

    fast = two_stage("fast_rcnn", widths=(8, 16, 16), representation=32)
    backbone = count_macs(fast.backbone, (3, 64, 64))
    head = 16 * 16 * 32 + 32 * 32 + 32 * 4 + 32 * 16  # fc6, fc7, classes, boxes
    assert macs_per_image(fast, (64, 64), 10) == backbone + 10 * head
    faster = two_stage("faster_rcnn", widths=(8, 16, 16), representation=32)
    rpn = 8 * 8 * (16 * 16 * 9 + 16 * 9 + 16 * 36)  # the 3x3 conv and the two 1x1s on the 8x8 map
    assert macs_per_image(faster, (64, 64), 10) == backbone + rpn + 10 * head
    model = RCNN((8, 16, 16), 32)
    assert macs_per_image(model, (64, 64), 7) == 7 * count_macs(model.cnn, (3, 64, 64))


def test_macs_per_image_of_a_single_shot_detector_is_one_pass_of_its_network():
    from cnncourse.analysis import count_macs
    from cnncourse.detection import SSD, YOLO
    from cnncourse.detection.training import macs_per_image

    for model in (YOLO(), SSD()):
        whole = count_macs(model, (3, 64, 64))
        assert macs_per_image(model, (64, 64)) == whole > count_macs(model.backbone, (3, 64, 64))
