"""Grading: the exercises of the chapter *Region proposals: selective search, R-CNN and SPP-net*."""

import pytest
import torch
from torchvision.models.detection import _utils as tv_utils

from tests.grading.boxes import random_boxes

ENCODE = pytest.mark.forbid("cnncourse.detection.BoxCoder", "torchvision.models.detection._utils.BoxCoder",
                            "torchvision.models.detection._utils.encode_boxes")
HINGE = pytest.mark.forbid("cnncourse.detection.rcnn.hinge_loss", "torch.nn.functional.hinge_embedding_loss",
                           "torch.nn.functional.multi_margin_loss")


@ENCODE
@pytest.mark.points(1)
def test_encode_by_hand(submission):
    got = submission("region_proposals").encode(torch.tensor([[2.0, 2, 6, 10]]), torch.tensor([[0.0, 0, 4, 4]]),
                                           (1.0, 1.0, 1.0, 1.0))
    torch.testing.assert_close(got, torch.tensor([[0.5, 1.0, 0.0, torch.log(torch.tensor(2.0)).item()]]))


@ENCODE
@pytest.mark.points(3)
@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
def test_encode_equals_torchvisions_box_coder(submission, weights):
    boxes, references = random_boxes(20, 4) + 0.5, random_boxes(20, 5) + 0.5
    boxes[:, 2:] += 1
    references[:, 2:] += 1
    got = submission("region_proposals").encode(boxes, references, weights)
    torch.testing.assert_close(got, tv_utils.BoxCoder(weights).encode_single(boxes, references), atol=1e-5, rtol=0)




@HINGE
@pytest.mark.points(2)
def test_hinge_loss_by_hand(submission):
    scores = torch.tensor([[2.0, 0.5], [-0.5, 0.0]])
    targets = torch.tensor([[1.0, -1.0], [-1.0, 0.0]])
    got = submission("region_proposals").hinge_loss(scores, targets)
    assert float(got) == pytest.approx(2.0 / 3), "(0 + 1.5 + 0.5) over the 3 entries whose target is not 0"


@HINGE
@pytest.mark.points(2)
@pytest.mark.parametrize("seed", [0, 1])
def test_hinge_loss_on_random_scores_with_gradients(submission, seed):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(30, 3, generator=g, requires_grad=True)
    targets = torch.randint(-1, 2, (30, 3), generator=g).float()
    got = submission("region_proposals").hinge_loss(scores, targets)
    used = targets != 0
    expected = (1 - targets[used] * scores.detach()[used]).clamp(min=0).mean()
    torch.testing.assert_close(got.detach(), expected)
    got.backward()
    assert scores.grad is not None and scores.grad[~used].abs().sum() == 0, "left-out entries must get no gradient"


@HINGE
@pytest.mark.points(1)
def test_hinge_loss_of_nothing_used_is_zero(submission):
    got = submission("region_proposals").hinge_loss(torch.ones(2, 3), torch.zeros(2, 3))
    assert float(got) == 0.0
