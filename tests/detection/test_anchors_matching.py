"""Anchors, the box coder, the matcher and the sampler against torchvision's detection internals."""

import pytest
import torch
from torchvision.models.detection import _utils as tv_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList

from cnncourse.boxes import box_iou
from cnncourse.detection import BoxCoder, Matcher, cell_anchors, generate_anchors, sample_balanced
from cnncourse.detection.anchors import FASTER_RCNN


@pytest.mark.parametrize("sizes, ratios, feature_sizes", [
    (FASTER_RCNN["sizes"], FASTER_RCNN["aspect_ratios"], [(13, 20)]),
    (((16, 24), (32, 48, 64)), ((0.5, 1.0), (1.0, 2.0, 3.0)), [(16, 20), (8, 10)]),
])
def test_anchors_equal_torchvisions_anchor_generator(sizes, ratios, feature_sizes):
    image_size = (208, 320)
    reference = AnchorGenerator(sizes, ratios)
    images = ImageList(torch.zeros(1, 3, *image_size), [image_size])
    maps = [torch.zeros(1, 8, h, w) for h, w in feature_sizes]
    expected = reference(images, maps)[0]
    ours = generate_anchors(image_size, feature_sizes, sizes, ratios)
    assert torch.equal(ours, expected)
    assert len(ours) == sum(h * w * len(s) * len(r) for (h, w), s, r in zip(feature_sizes, sizes, ratios))


def test_cell_anchors_have_the_area_of_their_size_and_the_ratio_height_over_width():
    a = cell_anchors((100,), (0.5, 1.0, 2.0), dtype=torch.float64)
    w, h = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    torch.testing.assert_close(w * h, torch.full((3,), 100.0**2, dtype=torch.float64), rtol=0.02, atol=0)
    torch.testing.assert_close(h / w, torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64), rtol=0.02, atol=0)


@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
def test_box_coder_equals_torchvision_and_round_trips(weights):
    g = torch.Generator().manual_seed(0)
    corner = torch.rand(50, 2, generator=g) * 100
    references = torch.cat([corner, corner + 5 + torch.rand(50, 2, generator=g) * 50], 1)
    boxes = references + torch.randn(50, 4, generator=g) * 3
    boxes[:, 2:] = torch.maximum(boxes[:, 2:], boxes[:, :2] + 1)
    ours, theirs = BoxCoder(weights), tv_utils.BoxCoder(weights)
    codes = ours.encode(boxes, references)
    torch.testing.assert_close(codes, theirs.encode_single(boxes, references))
    torch.testing.assert_close(ours.decode(codes, references), boxes, atol=1e-4, rtol=0)
    wild = torch.randn(50, 4, generator=g) * 10  # huge log-sizes are clamped, as torchvision's
    torch.testing.assert_close(ours.decode(wild, references), theirs.decode_single(wild, references))


@pytest.mark.parametrize("low_quality", [False, True])
def test_matcher_equals_torchvisions(low_quality):
    g = torch.Generator().manual_seed(1)
    corner = torch.rand(300, 2, generator=g) * 80
    anchors = torch.cat([corner, corner + 10 + torch.rand(300, 2, generator=g) * 30], 1)
    truth = anchors[:6] + torch.randn(6, 4, generator=g)
    truth[:, 2:] = torch.maximum(truth[:, 2:], truth[:, :2] + 2)
    iou = box_iou(truth, anchors)
    iou[:, 7] = iou[:, 8] = iou.max(1).values  # ties for the best anchor of every object
    expected = tv_utils.Matcher(0.7, 0.3, low_quality)(iou)
    assert torch.equal(Matcher(0.7, 0.3, low_quality)(iou), expected)
    assert {-2, -1} <= set(expected.tolist())


def test_sampler_draws_what_torchvision_draws_from_the_same_random_state():
    g = torch.Generator().manual_seed(2)
    labels = [torch.randint(-1, 3, (500,), generator=g), torch.cat([torch.ones(5), torch.zeros(40)]).long()]
    torch.manual_seed(3)
    ours = sample_balanced(labels, 64, 0.25)
    torch.manual_seed(3)
    theirs = tv_utils.BalancedPositiveNegativeSampler(64, 0.25)(labels)
    for a, b in zip(ours, theirs):
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    pos, neg = ours
    assert int(pos[0].sum()) == 16 and int(neg[0].sum()) == 48  # a quarter positive
    assert int(pos[1].sum()) == 5 and int(neg[1].sum()) == 40  # too few positives: all of them, negatives fill


@pytest.mark.parametrize("call, message", [
    (lambda: Matcher(0.3, 0.7), r"Matcher: need 0 <= low_threshold <= high_threshold <= 1; got low 0.7, high 0.3"),
    (lambda: Matcher(0.7, 0.3)(torch.zeros(0, 5)), r"Matcher: no ground-truth boxes to match"),
    (lambda: BoxCoder((1.0, 1.0, 1.0)), r"BoxCoder: weights must be four positive numbers"),
    (lambda: BoxCoder().encode(torch.zeros(3, 4), torch.zeros(2, 4)), r"boxes and references must both be \(N, 4\)"),
    (lambda: generate_anchors((64, 64), [(8, 8)], ((32,), (64,)), ((1.0,),)), r"one tuple of sizes .* per feature map"),
    (lambda: cell_anchors((32, -1), (1.0,)), r"cell_anchors: sizes must be a non-empty sequence of positive numbers"),
    (lambda: sample_balanced([torch.zeros(3)], 4, 1.5), r"positive_fraction must be in \[0, 1\]; got 1.5"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
