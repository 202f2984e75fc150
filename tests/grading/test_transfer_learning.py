"""Grading: the exercises of the chapter *Transfer learning: reusing a trained network*."""

import copy

import pytest
import torch
import torchvision
from torch import nn

from cnncourse import models, transfer

FREEZE = pytest.mark.forbid("cnncourse.transfer.freeze")
HEAD = pytest.mark.forbid("cnncourse.transfer.replace_head")


class Small(nn.Module):
    """Blocks a, b, fc, with a parameter-free pooling child between a and b."""

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.a = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.b = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU())
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc(self.b(self.pool(self.a(x))).mean((2, 3)))


def _train(model, seed, steps=3):
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    model.train()
    for _ in range(steps):
        x, y = torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 3, (8,), generator=g)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


@FREEZE
@pytest.mark.points(2)
def test_freeze_bottom_by_hand(submission):
    model = Small()
    frozen = submission("transfer_learning").freeze_bottom(model, 2)
    assert list(frozen) == ["a", "b"], f"the pooling layer owns no parameters, so it is no block; got {frozen}"
    assert not any(p.requires_grad for p in [*model.a.parameters(), *model.b.parameters()])
    assert all(p.requires_grad for p in model.fc.parameters())


@FREEZE
@pytest.mark.points(3)
@pytest.mark.parametrize("seed, k", [(0, 1), (1, 2), (2, 1)])
def test_freeze_bottom_leaves_frozen_blocks_bit_identical_after_training(submission, seed, k):
    model = Small(seed)
    frozen = list(submission("transfer_learning").freeze_bottom(model, k))
    before = copy.deepcopy(model.state_dict())
    _train(model, seed)
    for name, tensor in model.state_dict().items():
        block = name.split(".")[0]
        if block in frozen:
            assert torch.equal(tensor, before[name]), f"{name} changed although block {block} is frozen"
        elif name.endswith("weight"):
            assert not torch.equal(tensor, before[name]), f"{name} did not train although {block} is not frozen"


@FREEZE
@pytest.mark.points(1)
def test_freeze_bottom_frozen_batch_norm_computes_as_in_eval_mode(submission):
    model = Small(3)
    x = torch.randn(4, 3, 8, 8)
    expected = model.eval().a(x)
    submission("transfer_learning").freeze_bottom(model, 1)
    model.train()
    torch.testing.assert_close(model.a(x), expected, msg="a frozen block's batch norm must use its running statistics")


@FREEZE
@pytest.mark.points(1)
@pytest.mark.parametrize("name, k", [("resnet18", 3), ("alexnet_mini", 5)])
def test_freeze_bottom_names_the_blocks_of_the_course_networks(submission, name, k):
    ours, theirs = models.get(name, num_classes=3), models.get(name, num_classes=3)
    assert list(submission("transfer_learning").freeze_bottom(ours, k)) == transfer.blocks(theirs)[:k]
    assert [p.requires_grad for p in ours.parameters()] == [
        not n.split(".")[0] in transfer.blocks(theirs)[:k] for n, _ in theirs.named_parameters()]


@HEAD
@pytest.mark.points(2)
def test_new_head_by_hand(submission):
    model = nn.Sequential()
    model.features = nn.Conv2d(3, 8, 1)
    model.classifier = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 4))
    first = model.classifier[0]
    head = submission("transfer_learning").new_head(model, 3)
    assert model.classifier[2] is head, "the last nn.Linear must be the one replaced, in place"
    assert model.classifier[0] is first
    assert head.weight.shape == (3, 6) and head.bias.shape == (3,)


@HEAD
@pytest.mark.points(2)
@pytest.mark.parametrize("seed, classes", [(0, 5), (1, 2)])
def test_new_head_follows_torchvisions_idiom(submission, seed, classes):
    ours = torchvision.models.resnet18(num_classes=7)
    reference = copy.deepcopy(ours)
    torch.manual_seed(seed)
    submission("transfer_learning").new_head(ours, classes)
    torch.manual_seed(seed)
    reference.fc = nn.Linear(reference.fc.in_features, classes)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(ours.eval()(x), reference.eval()(x))


@HEAD
@pytest.mark.points(1)
def test_new_head_keeps_bias_and_device_and_is_trainable(submission):
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5, bias=False)).to("meta")
    model.requires_grad_(False)
    head = submission("transfer_learning").new_head(model, 2)
    assert head.bias is None, "the old head had no bias, so the new one has none"
    assert head.weight.device.type == "meta", "the new head must live on the old one's device"
    assert head.weight.requires_grad and model[1] is head
