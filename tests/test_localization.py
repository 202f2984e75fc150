"""Classification + localisation: the Localizer's boxes, the two-part loss, the ILSVRC criterion."""

import pytest
import torch
import torch.nn.functional as F
import torchvision.ops

from steps import train_steps

from cnncourse.backbone import conv_backbone
from cnncourse.localization import Localizer, localization_accuracy, localization_loss

LOGITS = torch.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]])
LABELS = torch.tensor([0, 1])
TARGET = torch.tensor([[8.0, 8, 40, 24], [0, 10, 64, 50]])


@pytest.mark.parametrize("box_loss", ["l2", "iou", "giou"])
def test_box_part_vanishes_for_perfect_boxes(box_loss):
    loss = localization_loss(LOGITS, TARGET.clone(), LABELS, TARGET, box_loss=box_loss, box_weight=5.0, image_size=64)
    torch.testing.assert_close(loss, F.cross_entropy(LOGITS, LABELS), atol=1e-6, rtol=0)


def test_l2_is_the_lecture_loss_on_normalised_centre_and_size():
    pred = torch.tensor([[0.0, 0, 32, 32], [0, 10, 64, 50]])  # first: centre 16 px left, 16 px narrower than TARGET
    cx, w = (16 - 24) / 64, (32 - 32) / 64
    cy, h = (16 - 16) / 64, (32 - 16) / 64
    expected = F.cross_entropy(LOGITS, LABELS) + 2.0 * (cx**2 + cy**2 + w**2 + h**2) / 2
    torch.testing.assert_close(localization_loss(LOGITS, pred, LABELS, TARGET, box_weight=2.0, image_size=64), expected)
    # the same boxes in an image twice as large, everything scaled: the same loss (coordinates are normalised)
    torch.testing.assert_close(localization_loss(LOGITS, 2 * pred, LABELS, 2 * TARGET, image_size=(128, 128)),
                               localization_loss(LOGITS, pred, LABELS, TARGET, image_size=64))


@pytest.mark.parametrize("box_loss, reference", [
    ("iou", lambda p, t: (1 - torchvision.ops.box_iou(p, t).diagonal()).mean()),
    ("giou", lambda p, t: torchvision.ops.generalized_box_iou_loss(p, t, reduction="mean")),
])
def test_iou_losses_match_torchvision_and_keep_gradients(box_loss, reference):
    torch.manual_seed(0)
    corner = torch.rand(6, 2) * 40
    pred = torch.cat([corner, corner + 1 + torch.rand(6, 2) * 20], 1).requires_grad_()
    target = torch.cat([corner + 5, corner + 10 + torch.rand(6, 2) * 20], 1)
    logits, labels = torch.randn(6, 3), torch.randint(0, 3, (6,))
    ours = localization_loss(logits, pred, labels, target, box_loss=box_loss) - F.cross_entropy(logits, labels)
    ref = reference(pred, target)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    (grad,), (expected,) = torch.autograd.grad(ours, pred), torch.autograd.grad(ref, pred)
    torch.testing.assert_close(grad, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("call, words", [
    (lambda: localization_loss(LOGITS, TARGET, LABELS, TARGET, box_loss="l1"), ["box_loss must be one of", "'l1'"]),
    (lambda: localization_loss(LOGITS, TARGET, LABELS, TARGET), ["box_loss='l2' needs image_size"]),
    (lambda: localization_loss(LOGITS, TARGET[:1], LABELS, TARGET, image_size=64),
     ["boxes and target_boxes", "(1, 4)"]),
    (lambda: localization_loss(LOGITS, TARGET, LABELS[:1], TARGET, image_size=64), ["labels (N,)", "(1,)"]),
    (lambda: localization_loss(LOGITS, TARGET, LABELS, TARGET[:, [2, 1, 0, 3]], image_size=64),
     ["target_boxes must have x2 >= x1"]),
    (lambda: localization_loss(LOGITS, TARGET[:, [0, 3, 2, 1]], LABELS, TARGET, box_loss="iou"),
     ["boxes must have x2 >= x1"]),
    (lambda: Localizer(3)(torch.zeros(1, 3, 32, 32)), ["Localizer", "must be 64x64", "got 32x32"]),
    (lambda: Localizer(3, image_size=40), ["image_size must be a multiple of 16"]),
    (lambda: Localizer(0), ["num_classes must be a positive int"]),
    (lambda: conv_backbone(3, ()), ["widths must be a non-empty"]),
])
def test_bad_input_errors(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_localizer_outputs_logits_and_upright_pixel_boxes():
    torch.manual_seed(0)
    model = Localizer(5, widths=(8, 16), image_size=(32, 48)).eval()
    logits, boxes = model(torch.randn(3, 3, 32, 48))
    assert logits.shape == (3, 5) and boxes.shape == (3, 4)
    assert (boxes[:, 2] >= boxes[:, 0]).all() and (boxes[:, 3] >= boxes[:, 1]).all()
    with torch.no_grad():  # a zero head is the centred box of half the image: sigmoid(0) = 0.5
        model.box_head[-1].weight.zero_(), model.box_head[-1].bias.zero_()
    torch.testing.assert_close(model(torch.randn(1, 3, 32, 48))[1], torch.tensor([[12.0, 8, 36, 24]]))


@pytest.mark.parametrize("box_loss", ["l2", "iou", "giou"])
def test_loss_decreases_on_a_repeated_batch(box_loss):
    """Eight images, each showing its target box as a bright rectangle; the box term weighs five times."""
    torch.manual_seed(1)
    labels = torch.randint(0, 3, (8,))
    corner = torch.rand(8, 2) * 16
    target = torch.cat([corner, corner + 8 + torch.rand(8, 2) * 8], 1)
    y, x = torch.arange(32.0)[:, None] + 0.5, torch.arange(32.0) + 0.5  # pixel centres
    inside = ((x >= target[:, 0, None, None]) & (x < target[:, 2, None, None])
              & (y >= target[:, 1, None, None]) & (y < target[:, 3, None, None]))
    images = inside[:, None].float().expand(8, 3, 32, 32) + 0.1 * torch.randn(8, 3, 32, 32)
    model = Localizer(3, widths=(8, 16), image_size=32)
    losses = train_steps(model, lambda m: localization_loss(*m(images), labels, target, box_loss, box_weight=5.0,
                                                            image_size=32), steps=30, lr=3e-4)
    assert losses[-1] < 0.7 * losses[0], losses


def test_accuracy_needs_the_class_and_half_overlap():
    target = torch.tensor([[0.0, 0, 10, 10]] * 3)
    boxes = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 4], [0, 0, 10, 10]])  # IoU 1, 0.4, 1
    logits = torch.tensor([[5.0, 0], [5.0, 0], [0, 5.0]])  # the third is the wrong class
    assert localization_accuracy(logits, boxes, torch.zeros(3, dtype=torch.long), target) == pytest.approx(1 / 3)
    assert localization_accuracy(logits, boxes, torch.zeros(3, dtype=torch.long), target, 0.4) == pytest.approx(2 / 3)
    assert localization_accuracy(logits, target, torch.tensor([0, 0, 1]), target) == 1.0
