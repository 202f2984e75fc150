"""SSD's default boxes and matcher equal torchvision's; hard negative mining keeps the worst three per positive."""

import pytest
import torch
from torchvision.models.detection import _utils as tv_utils
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList

from cnncourse.detection.ssd import SSD300, default_boxes, hard_negatives, ssd_match


@pytest.mark.parametrize("image_size, feature_sizes, ratios, steps", [
    ((300, 300), SSD300["feature_sizes"], SSD300["aspect_ratios"], None),
    ((300, 300), SSD300["feature_sizes"], SSD300["aspect_ratios"], [8, 16, 32, 64, 100, 300]),
    ((64, 96), ((8, 12), (4, 6)), ((2,), (2, 3)), None),
    ((64, 64), ((4, 4),), ((2, 3),), None),
])
def test_default_boxes_equal_torchvisions(image_size, feature_sizes, ratios, steps):
    reference = DefaultBoxGenerator([list(r) for r in ratios], steps=steps)
    maps = [torch.zeros(1, 1, h, w) for h, w in feature_sizes]
    expected = reference(ImageList(torch.zeros(1, 3, *image_size), [image_size]), maps)[0]
    ours = default_boxes(image_size, feature_sizes, ratios, steps=steps)
    torch.testing.assert_close(ours, expected, atol=1e-4, rtol=0)


def test_ssd300_has_the_papers_8732_default_boxes():
    assert len(default_boxes((300, 300), SSD300["feature_sizes"])) == 8732


def test_matching_equals_torchvisions_and_gives_every_object_a_box():
    iou = torch.rand(5, 200, generator=torch.Generator().manual_seed(0)) * 0.6
    matches = ssd_match(iou)
    assert torch.equal(matches, tv_utils.SSDMatcher(0.5)(iou))
    assert set(matches[matches >= 0].tolist()) == set(range(5))


def test_hard_negatives_are_the_highest_losses_three_per_positive():
    g = torch.Generator().manual_seed(1)
    loss = torch.rand(2, 40, generator=g)
    positive = torch.zeros(2, 40, dtype=torch.bool)
    positive[0, :4] = True  # 4 positives -> 12 negatives
    positive[1, :20] = True  # 20 positives -> 60 wanted, only 20 negatives left: all of them
    chosen = hard_negatives(loss, positive)
    assert not (chosen & positive).any()
    assert chosen.sum(1).tolist() == [12, 20]
    weakest_chosen = loss[0][chosen[0]].min()
    assert (loss[0][~chosen[0] & ~positive[0]] <= weakest_chosen).all()
    with pytest.raises(ValueError, match=r"hard_negatives: loss and positive must both be \(N, D\)"):
        hard_negatives(loss, positive[:1])
