"""YOLO v1's target tensor, loss and decoding: the cell of the centre, the terms of eq. 3, and back to boxes."""

import pytest
import torch

from cnncourse.detection.scenes import detection_scenes
from cnncourse.detection.yolo import YOLO, yolo_decode, yolo_loss, yolo_loss_terms, yolo_targets

BOXES = [torch.tensor([[10.0, 20, 40, 60], [70, 5, 90, 25]]), torch.zeros(0, 4)]
LABELS = [torch.tensor([1, 2]), torch.zeros(0, dtype=torch.long)]


def perfect_output(target, boxes_per_cell=2):
    """The first predictor copies the truth with confidence 1 (its IoU), the others say nothing."""
    out = torch.zeros(*target.shape[:3], 5 * boxes_per_cell + target.shape[-1] - 5)
    out[..., :5] = target[..., :5]
    out[..., 5 * boxes_per_cell:] = target[..., 5:]
    return out


def test_the_cell_of_the_centre_holds_the_offsets_sizes_and_class():
    target = yolo_targets(BOXES, LABELS, image_size=112, grid=7, num_classes=3)
    assert target.shape == (2, 7, 7, 8)
    # centre (25, 40) -> cell column 1, row 2 (16-pixel cells), offsets (9 / 16, 8 / 16); size 30 x 40 of 112
    torch.testing.assert_close(target[0, 2, 1], torch.tensor([9 / 16, 8 / 16, 30 / 112, 40 / 112, 1, 0, 1, 0]))
    assert target[0, 0, 5, 4] == 1 and target[0, 0, 5, 7] == 1  # (80, 15): column 5, row 0, class 2
    assert target[0, ..., 4].sum() == 2 and target[1].abs().sum() == 0


def test_a_perfect_prediction_has_no_loss_and_decodes_to_the_boxes():
    target = yolo_targets(BOXES, LABELS, 112, num_classes=3)
    output = perfect_output(target)
    assert yolo_loss(output, target).item() == pytest.approx(0.0, abs=1e-6)
    found = yolo_decode(output, 112)
    assert sorted(map(tuple, found[0]["boxes"].tolist())) == sorted(map(tuple, BOXES[0].tolist()))
    assert sorted(found[0]["labels"].tolist()) == [1, 2] and len(found[1]["boxes"]) == 0


def test_each_term_of_the_loss_by_hand():
    target = yolo_targets([torch.tensor([[0.0, 0, 56, 56]])], [torch.tensor([0])], 112, grid=2, num_classes=1)
    base = perfect_output(target)  # one object, cell (0, 0): x = y = 0.5, w = h = 0.5
    shifted = base.clone()
    shifted[0, 0, 0, 0] += 0.1  # x off by 0.1: lambda_coord * 0.01, and its IoU drops below 1
    shifted[0, 1, 1, 4] = 0.4  # confidence where there is no object: lambda_noobj * 0.16
    shifted[0, 0, 0, 10] = 0.5  # class probability 0.5 instead of 1: 0.25
    iou = (56 - 5.6) * 56 / (56 * 56 + 5.6 * 56)  # the shifted box against the truth
    expected = 5 * 0.01 + (1 - iou) ** 2 + 0.5 * 0.16 + 0.25
    assert yolo_loss(shifted, target).item() == pytest.approx(expected, rel=1e-5)
    terms = {name: value.item() for name, value in yolo_loss_terms(shifted, target).items()}
    assert terms == pytest.approx({"loss_coord": 5 * 0.01, "loss_object": (1 - iou) ** 2, "loss_noobj": 0.5 * 0.16,
                                   "loss_class": 0.25}, rel=1e-5)
    wider = base.clone()
    wider[0, 0, 0, 2] = 0.5 * 1.21  # w 21% too large: (sqrt(0.605) - sqrt(0.5))^2 weighted by 5
    iou_wide = 0.5 / 0.605
    assert yolo_loss(wider, target).item() == pytest.approx(5 * (0.605**0.5 - 0.5**0.5) ** 2 + (1 - iou_wide) ** 2,
                                                            rel=1e-5)


@pytest.mark.parametrize("call, message", [
    (lambda: yolo_targets(BOXES, LABELS[:1], 112), r"boxes and labels must be lists of one tensor per image"),
    (lambda: yolo_targets([torch.tensor([[0.0, 0, 8, 8]])], [torch.tensor([3])], 112, num_classes=3),
     r"labels must be in \[0, 3\) \(num_classes\)"),
    (lambda: yolo_loss(torch.zeros(7, 7, 12), torch.zeros(1, 7, 7, 8)),
     r"yolo_loss: output must be a 4-d tensor \(N, S, S, channels\); got \(7, 7, 12\)"),
    (lambda: yolo_loss(torch.zeros(1, 7, 7, 12), torch.zeros(1, 7, 7, 8)), r"output must be \(N, S, S, 5B \+ C\) = "
                                                                          r"\(N, S, S, 13\) for B = 2, C = 3"),
    (lambda: yolo_targets(BOXES, LABELS, 112, grid=0), r"grid must be a positive int; got 0"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("head, grid", [("fully_connected", 7), ("convolutional", 8)])
def test_yolo_predicts_the_grid_and_trains_and_detects_through_torchvisions_interface(head, grid):
    scenes = detection_scenes(3, seed=2)
    model = YOLO(head=head)
    output = model.predict(scenes.images)
    assert output.shape == (3, grid, grid, 5 * 2 + 3) and model.grid == grid
    assert (output[..., :10] > 0).all() and (output[..., :10] < 1).all()
    torch.testing.assert_close(output[..., 10:].sum(-1), torch.ones(3, grid, grid))
    losses = model.train()(scenes.images, scenes.targets)
    assert set(losses) == {"loss_coord", "loss_object", "loss_noobj", "loss_class"}
    target = yolo_targets([t["boxes"] for t in scenes.targets], [t["labels"] - 1 for t in scenes.targets], 64, grid, 3)
    torch.testing.assert_close(sum(losses.values()), yolo_loss(model.predict(scenes.images), target))
    model.eval().score_thresh = 0.0
    found = model(scenes.images)
    assert len(found) == 3 and set(found[0]["labels"].tolist()) <= {1, 2, 3} and len(found[0]["labels"])
    assert (found[0]["boxes"] >= 0).all() and (found[0]["boxes"] <= 64).all()


def test_yolo_names_a_bad_head_grid_or_image():
    with pytest.raises(ValueError, match="YOLO: head must be one of"):
        YOLO(head="dense")
    with pytest.raises(ValueError, match="grid must be 8; got 7"):
        YOLO(head="convolutional", grid=7)
    with pytest.raises(ValueError, match="YOLO: training mode needs targets"):
        YOLO().train()(torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match="YOLO"):
        YOLO()(torch.zeros(1, 3, 32, 32))
